"""A database fault in the middle of a money request: a clean JSON error, nothing moved,
and a retry with the same Idempotency-Key moves the points exactly once."""

from __future__ import annotations

import re
import time

import psycopg
import pytest
from django.db import DataError, OperationalError, connection, connections
from django.db.backends.utils import CursorWrapper
from rest_framework.test import APIClient

from points import balances
from points.models import DelegationLog, IdempotencyRecord, LeadBudget
from recognition import statements as recognition_statements
from recognition.models import Recognition
from tenants.models import Tenant
from wallets.models import Wallet, WalletLedger

AWARD = "/api/v1/points/award-to-user"
DELEGATE = "/api/v1/points/delegate-to-lead"


def books() -> dict:
    """Every balance and row count an award or a delegation could change."""
    return {
        "pools": dict(Tenant.objects.values_list("id", "points_allocation_balance")),
        "budgets": dict(LeadBudget.objects.values_list("lead_id", "balance")),
        "wallets": dict(Wallet.objects.values_list("user_id", "balance")),
        "ledger": WalletLedger.objects.count(),
        "recognitions": Recognition.objects.count(),
        "delegations": DelegationLog.objects.count(),
        "idempotency": IdempotencyRecord.objects.count(),
    }


def client_for(user) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)
    return api


def award_payment():
    """Where an award pays: one statement on PostgreSQL (`recognition.statements.pay_award`), the pool debit on SQLite's
    general path. A fault injected there fails the award at its last write."""
    if connection.vendor == "postgresql":
        return recognition_statements, "pay_award"
    return balances, "pool_debit"


def fail_once(monkeypatch, target, name: str, error: Exception) -> list:
    """Make `target.name` raise `error` on its first call, then behave normally."""
    original = getattr(target, name)
    calls = []

    def flaky(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise error
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, flaky)
    return calls


def assert_clean_json_error(response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"detail", "code"}
    assert body["code"] == code
    text = response.content.decode()
    for leak in ("Traceback", "OperationalError", "DataError", "lock timeout", "<html", 'File "'):
        assert leak not in text


def award_body(employee, amount=100):
    return {"to_user_id": str(employee.pk), "amount": amount, "recognition_message": "Shipped the release"}


# --- Lock timeout while the pool is debited (after the wallet and ledger writes) -------------------------------------


def test_lock_timeout_during_an_award_rolls_back_and_the_retry_moves_points_once(
    monkeypatch, funded_tenant, manager, employee
):
    api = client_for(manager)
    before = books()
    calls = fail_once(monkeypatch, *award_payment(), OperationalError("canceling statement due to lock timeout"))

    response = api.post(AWARD, award_body(employee), HTTP_IDEMPOTENCY_KEY="award-001")

    assert_clean_json_error(response, 503, "service_unavailable")
    assert response["Retry-After"] == "1"
    assert "Nothing was changed" in response.json()["detail"]
    assert len(calls) == 1  # the failure hit after the wallet credit and ledger insert of this transaction
    assert books() == before  # pool, wallet, ledger, recognition, idempotency claim: all as before

    retry = api.post(AWARD, award_body(employee), HTTP_IDEMPOTENCY_KEY="award-001")
    assert retry.status_code == 200, retry.json()
    body = retry.json()
    assert body["amount_awarded"] == 100
    assert body["recipient_new_wallet_balance"] == 100
    assert body["tenant_remaining_pool"] == 49_900
    assert "Idempotent-Replayed" not in retry

    again = api.post(AWARD, award_body(employee), HTTP_IDEMPOTENCY_KEY="award-001")
    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == body

    assert Wallet.objects.get(user=employee).balance == 100
    assert WalletLedger.objects.filter(wallet__user=employee).count() == 1
    assert Recognition.objects.filter(receiver=employee).count() == 1
    assert Tenant.objects.get(pk=funded_tenant.pk).points_allocation_balance == 49_900


# --- A statement fails at the cursor (a dropped connection, a data error) --------------------------------------------


# The tables the award function (`perksu_award`, recognition migration 0007) writes: on PostgreSQL its one
# call is the statement that makes those writes.
AWARD_FUNCTION_WRITES = {Wallet._meta.db_table, WalletLedger._meta.db_table, Recognition._meta.db_table}


def fail_statement_once(monkeypatch, writes: str, error: Exception) -> list:
    """Make the first SQL statement that contains the write `writes` (e.g. `INSERT INTO wallets`,
    matched with or without quotes around the table, alone or inside a WITH, or the award function's
    call when the function makes that write) raise `error` at the cursor."""
    verb, table = writes.rsplit(" ", 1)
    pattern = re.compile(rf'\b{verb}\s+"?{table}"?\s', re.IGNORECASE)
    original = CursorWrapper.execute
    hits = []

    def writes_it(sql: str) -> bool:
        return bool(pattern.search(sql)) or (table in AWARD_FUNCTION_WRITES and "perksu_award(" in sql)

    def execute(self, sql, params=None):
        if not hits and writes_it(sql):
            hits.append(sql)
            raise error
        return original(self, sql, params)

    monkeypatch.setattr(CursorWrapper, "execute", execute)
    return hits


@pytest.mark.usefixtures("award_sql")
def test_connection_lost_while_writing_the_ledger_is_a_503_and_nothing_moves(
    monkeypatch, funded_tenant, manager, employee
):
    api = client_for(manager)
    before = books()
    hits = fail_statement_once(
        monkeypatch,
        f"INSERT INTO {WalletLedger._meta.db_table}",
        OperationalError("server closed the connection unexpectedly"),
    )
    response = api.post(AWARD, award_body(employee, 250), HTTP_IDEMPOTENCY_KEY="award-002")
    assert hits, "the ledger insert should have been reached"
    assert_clean_json_error(response, 503, "service_unavailable")
    assert books() == before

    retry = api.post(AWARD, award_body(employee, 250), HTTP_IDEMPOTENCY_KEY="award-002")
    assert retry.status_code == 200
    assert retry.json()["recipient_new_wallet_balance"] == 250
    assert WalletLedger.objects.filter(wallet__user=employee).count() == 1


@pytest.mark.usefixtures("award_sql")
def test_a_data_error_is_a_clean_500_and_nothing_moves(monkeypatch, funded_tenant, manager, employee):
    api = client_for(manager)
    before = books()
    hits = fail_statement_once(monkeypatch, f"UPDATE {Wallet._meta.db_table}", DataError("value out of range"))
    response = api.post(AWARD, award_body(employee), HTTP_IDEMPOTENCY_KEY="award-003")
    assert hits, "the wallet credit should have been reached"
    assert_clean_json_error(response, 500, "database_error")
    assert books() == before
    retry = api.post(AWARD, award_body(employee), HTTP_IDEMPOTENCY_KEY="award-003")
    assert retry.status_code == 200
    assert WalletLedger.objects.filter(wallet__user=employee).count() == 1


def test_a_bug_in_the_operation_is_a_clean_500_and_nothing_moves(monkeypatch, funded_tenant, manager, employee):
    api = client_for(manager)
    before = books()
    fail_once(monkeypatch, *award_payment(), RuntimeError("unexpected"))
    response = api.post(AWARD, award_body(employee), HTTP_IDEMPOTENCY_KEY="award-004")
    assert_clean_json_error(response, 500, "server_error")
    assert books() == before
    assert client_for(manager).post(AWARD, award_body(employee), HTTP_IDEMPOTENCY_KEY="award-004").status_code == 200
    assert Wallet.objects.get(user=employee).balance == 100


def test_failure_while_storing_the_outcome_rolls_the_award_back(monkeypatch, funded_tenant, manager, employee):
    """The award and its stored outcome commit together: no award without its replayable response."""
    from points import idempotency

    api = client_for(manager)
    before = books()
    fail_once(monkeypatch, idempotency, "_complete", OperationalError("could not serialize access"))
    response = api.post(AWARD, award_body(employee), HTTP_IDEMPOTENCY_KEY="award-005")
    assert_clean_json_error(response, 503, "service_unavailable")
    assert books() == before
    retry = api.post(AWARD, award_body(employee), HTTP_IDEMPOTENCY_KEY="award-005")
    assert retry.status_code == 200
    assert retry.json()["recipient_new_wallet_balance"] == 100
    assert WalletLedger.objects.filter(wallet__user=employee).count() == 1


def test_lock_timeout_during_a_delegation_rolls_back_both_sides(monkeypatch, funded_tenant, manager, lead):
    api = client_for(manager)
    before = books()
    fail_once(monkeypatch, balances, "pool_debit", OperationalError("canceling statement due to lock timeout"))
    body = {"lead_id": str(lead.pk), "amount": 1_000}
    response = api.post(DELEGATE, body, HTTP_IDEMPOTENCY_KEY="delegate-001")
    assert_clean_json_error(response, 503, "service_unavailable")
    assert books() == before
    retry = api.post(DELEGATE, body, HTTP_IDEMPOTENCY_KEY="delegate-001")
    assert retry.status_code == 200
    assert retry.json()["lead_new_balance"] == 1_000
    assert retry.json()["tenant_remaining_balance"] == 49_000
    assert DelegationLog.objects.count() == 1


# --- A real dropped connection (PostgreSQL: the server kills our backend mid-transaction) ----------------------------


def _terminate_own_backend() -> int:
    pid = connection.connection.info.backend_pid
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as killer:
        (killed,) = killer.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()
    assert killed is True
    return pid


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_killed_database_connection_during_an_award_then_a_retry_moves_points_once(
    monkeypatch, funded_tenant, manager, employee
):
    api = client_for(manager)
    before = books()
    target, name = award_payment()
    original = getattr(target, name)
    calls, killed = [], []

    def pay_on_a_dying_connection(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            killed.append(_terminate_own_backend())
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, pay_on_a_dying_connection)
    response = api.post(AWARD, award_body(employee, 300), HTTP_IDEMPOTENCY_KEY="award-kill")
    assert_clean_json_error(response, 503, "service_unavailable")
    # What Django does when a request ends (close_old_connections): drop the dead connection.
    connection.close_if_unusable_or_obsolete()
    assert books() == before  # the claim on the key was released too
    assert connection.connection.info.backend_pid != killed[0]  # really a new connection

    retry = api.post(AWARD, award_body(employee, 300), HTTP_IDEMPOTENCY_KEY="award-kill")
    assert retry.status_code == 200, retry.json()
    assert retry.json()["recipient_new_wallet_balance"] == 300
    assert WalletLedger.objects.filter(wallet__user=employee).count() == 1
    assert Tenant.objects.get(pk=funded_tenant.pk).points_allocation_balance == 49_700


# --- The database restarts between the claim and the answer ----------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_retry_after_a_database_restart_is_served_at_once_not_409(monkeypatch, funded_tenant, manager, employee):
    """The connection dies mid-award and the database is still down when the claim should be released,
    as in a restart: the claim stays IN_PROGRESS, but its connection is gone, so the retry runs."""
    api = client_for(manager)
    target, name = award_payment()
    original = getattr(target, name)
    killed = []
    real_connect = type(connections["default"]).get_new_connection

    def refused(self, conn_params):
        raise psycopg.OperationalError("connection refused: the database system is starting up")

    def pay_on_a_dying_connection(*args, **kwargs):
        if not killed:
            killed.append(_terminate_own_backend())
            monkeypatch.setattr(
                type(connections["default"]), "get_new_connection", refused
            )  # down until the answer is sent
        return original(*args, **kwargs)

    monkeypatch.setattr(target, name, pay_on_a_dying_connection)
    response = api.post(AWARD, award_body(employee, 300), HTTP_IDEMPOTENCY_KEY="award-restart")
    assert_clean_json_error(response, 503, "service_unavailable")
    assert response["Retry-After"] == "1"

    monkeypatch.setattr(type(connections["default"]), "get_new_connection", real_connect)  # the database is back
    connection.close_if_unusable_or_obsolete()
    claim = IdempotencyRecord.objects.get(key="award-restart")
    assert claim.state == IdempotencyRecord.State.IN_PROGRESS  # the release never reached the database
    assert WalletLedger.objects.filter(wallet__user=employee).count() == 0

    retry = api.post(AWARD, award_body(employee, 300), HTTP_IDEMPOTENCY_KEY="award-restart")
    assert retry.status_code == 200, retry.json()
    assert retry.json()["recipient_new_wallet_balance"] == 300
    again = api.post(AWARD, award_body(employee, 300), HTTP_IDEMPOTENCY_KEY="award-restart")
    assert (again.status_code, again["Idempotent-Replayed"]) == (200, "true")
    assert WalletLedger.objects.filter(wallet__user=employee).count() == 1
    assert Tenant.objects.get(pk=funded_tenant.pk).points_allocation_balance == 49_700
    assert IdempotencyRecord.objects.get(key="award-restart").state == IdempotencyRecord.State.DONE


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_claim_whose_connection_is_alive_still_answers_409(funded_tenant, manager, employee):
    """A claim made by a live connection (a request still running elsewhere) is not taken over."""
    params = connection.get_connection_params()
    with psycopg.connect(**params, autocommit=True) as other:
        pid, started = other.execute(
            "SELECT pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()"
        ).fetchone()
        IdempotencyRecord.objects.create(
            user=manager,
            tenant_id=manager.tenant_id,
            scope="points.award-to-user",
            key="award-live",
            fingerprint=_fingerprint_of(award_body(employee)),
            backend_pid=pid,
            backend_started_at=started,
        )
        busy = client_for(manager).post(AWARD, award_body(employee), HTTP_IDEMPOTENCY_KEY="award-live")
        assert busy.status_code == 409
        assert busy.json()["code"] == "idempotency_key_in_progress"
    # That connection has ended: its claim can no longer complete, and the next retry runs.
    for _ in range(50):
        retry = client_for(manager).post(AWARD, award_body(employee), HTTP_IDEMPOTENCY_KEY="award-live")
        if retry.status_code != 409:
            break
        time.sleep(0.02)
    assert retry.status_code == 200, retry.json()
    assert WalletLedger.objects.filter(wallet__user=employee).count() == 1


def _fingerprint_of(body: dict) -> str:
    """The fingerprint the API computes for a POST of `body` to AWARD (perksu/api/viewsets.py)."""
    from points.idempotency import fingerprint

    return fingerprint({"path": AWARD, "body": body})
