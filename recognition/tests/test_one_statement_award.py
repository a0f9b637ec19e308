"""The one-round-trip award (PostgreSQL), on both of its ways (settings.AWARD_SQL: the
award function and the one statement it replaced; every test runs on each): it writes
exactly what the general path writes; it declines — writing nothing — every award that is not a plain one, so
the general path refuses with the precise reason; in autocommit it is one round
trip; it locks the paying row after the wallets; and when a concurrent award
takes the balance mid-statement, its guard undoes the whole statement.

The refusals themselves, their codes and figures, are tested for both paths in
test_services.py; here the subject is the split between the two paths.
"""

from __future__ import annotations

import uuid

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from perksu.errors import DomainError
from points.tests.books import books, lead_budget, pool, wallet_balance
from recognition import services
from recognition.models import Recognition
from tenants.models import Tenant
from tenants.services import tenant_set_status, user_set_active
from tenants.tests.factories import LeadFactory, UserFactory
from wallets.models import WalletLedger

from .award_sql import CALL_START, award_sql_text

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("award_sql")]


def _try_one_statement(giver, recipients, points, requested=None):
    """Call the one-statement path alone, as `recognition_create` does."""
    with transaction.atomic():
        return services._award_in_one_statement(
            giver=giver,
            ids=[r.pk for r in recipients],
            points=points,
            message="Plain award",
            requested=requested,
            group_id=uuid.uuid4(),
            now=timezone.now(),
        )


def _rows(group_id) -> tuple[list, list]:
    recognitions = list(
        Recognition.objects.filter(group_id=group_id)
        .order_by("receiver__email")
        .values("tenant_id", "giver_id", "receiver__email", "points", "message", "funding_source")
    )
    entries = list(
        WalletLedger.objects.filter(recognition__group_id=group_id)
        .order_by("wallet__user__email")
        .values(
            "tenant_id", "wallet__user__email", "entry_no", "entry_type", "source", "amount", "balance_after",
            "actor_id", "redemption_id", "note",
        )
    )  # fmt: skip
    return recognitions, entries


def _comparable(result, emails) -> dict:
    return {
        "points": result.points,
        "funding_source": result.funding_source,
        "wallets_after": sorted(result.wallet_balances_after.values()),
        "recipients": emails,
        "recognitions": len(result.recognitions),
        "entries": [(e.entry_no, e.amount, e.balance_after, e.recognition_id in {r.pk for r in result.recognitions})
                    for e in result.ledger_entries],
    }  # fmt: skip


@pytest.mark.parametrize("payer", ["manager", "lead"])
def test_both_paths_write_the_same_rows(funded_lead, manager, tenant, monkeypatch, payer):
    """The same award, made once on each path to twin recipients with the same history: the
    recognitions, ledger rows, balances and result agree field by field (ids and times aside)."""
    giver = manager if payer == "manager" else funded_lead
    twins = {
        path: [UserFactory(tenant=tenant, email=f"{path}-{n}@triton.test", password=None) for n in range(3)]
        for path in ("fast", "general")
    }
    for people in twins.values():  # some history, so entry numbers and balances are not the first
        services.recognition_create(giver=manager, recipient_ids=[people[0].pk], points=7, message="Earlier")

    results = {}
    for path, people in twins.items():
        if path == "general":
            monkeypatch.setattr(services, "_award_in_one_statement", lambda **kwargs: None)
        with CaptureQueriesContext(connection) as ctx:
            results[path] = services.recognition_create(
                giver=giver, recipient_ids=[p.pk for p in people], points=40, message="Same award"
            )
        results[path + "-statements"] = len(ctx.captured_queries)
    monkeypatch.undo()

    fast, general = results["fast"], results["general"]
    assert results["fast-statements"] < results["general-statements"]  # the fast path really ran
    strip = lambda rows: [{k: v for k, v in row.items() if "email" not in k} for row in rows]  # noqa: E731
    fast_rows, general_rows = _rows(fast.group_id), _rows(general.group_id)
    assert [strip(r) for r in fast_rows] == [strip(r) for r in general_rows]
    assert [e["entry_no"] for e in fast_rows[1]] == [2, 1, 1]  # the first twin already had one entry
    assert _comparable(fast, 3) == _comparable(general, 3)
    assert fast.wallet_balances_after == {p.pk: wallet_balance(p) for p in twins["fast"]}
    # The result's instances are the rows written, in the order the recipients were given.
    assert [(r.pk, r.receiver_id) for r in fast.recognitions] == [
        (Recognition.objects.get(group_id=fast.group_id, receiver=p).pk, p.pk) for p in twins["fast"]
    ]
    assert [e.pk for e in fast.ledger_entries] == [
        WalletLedger.objects.get(recognition=r).pk for r in fast.recognitions
    ]
    if payer == "manager":
        assert fast.pool_balance_after == general.pool_balance_after + 120 == pool(tenant) + 120
        assert fast.lead_budget_after is general.lead_budget_after is None
    else:
        assert fast.lead_budget_after == general.lead_budget_after + 120 == lead_budget(funded_lead) + 120
        assert fast.pool_balance_after == general.pool_balance_after == pool(tenant)


def test_inside_a_transaction_a_plain_award_is_one_statement_in_a_savepoint(
    funded_tenant, manager, employee, award_sql
):
    with CaptureQueriesContext(connection) as ctx:
        services.recognition_create(giver=manager, recipient_ids=[employee.pk], points=5, message="Thanks")
    sql = [q["sql"] for q in ctx.captured_queries]
    assert len(sql) == 3, sql
    assert sql[0].startswith("SAVEPOINT") and sql[-1].startswith("RELEASE SAVEPOINT"), sql
    award = award_sql_text(award_sql, sql[1])
    # The wallets are locked before the pool is debited, and the debit is conditional.
    assert 0 < award.index("FOR UPDATE OF w") < award.index("UPDATE tenants")
    assert "points_allocation_balance >= " in award[award.index("UPDATE tenants") :]


def _decline_cases():
    """name → (arrange(world) returning (giver, recipients, points, requested), the general path's refusal code)."""

    def short_pool(w):
        return w["manager"], [w["employee"]], 50_001, None

    def inactive(w):
        user_set_active(user=w["other"], is_active=False)
        return w["manager"], [w["employee"], w["other"]], 5, None

    def other_tenant(w):
        return w["manager"], [w["employee"], w["outsider"]], 5, None

    def suspended(w):
        tenant_set_status(tenant=w["tenant"], status=Tenant.Status.SUSPENDED)
        return w["manager"], [w["employee"]], 5, None

    def over_cap(w):
        Tenant.objects.filter(pk=w["tenant"].pk).update(max_award_points=10)
        return w["manager"], [w["employee"]], 11, None

    def lead_short(w):
        return w["lead"], [w["employee"]], 10_001, None

    def lead_with_an_empty_budget(w):
        return LeadFactory(tenant=w["tenant"], password=None), [w["employee"]], 5, None

    def manager_asks_for_a_budget(w):
        return w["manager"], [w["employee"]], 5, "LEAD_BUDGET"

    def lead_asks_for_pool(w):
        return w["lead"], [w["employee"]], 5, "POOL"

    def unknown_source(w):
        return w["manager"], [w["employee"]], 5, "PIGGY_BANK"

    return {
        "short-pool": (short_pool, "insufficient_balance"),
        "inactive-recipient": (inactive, "inactive_user"),
        "recipient-of-another-tenant": (other_tenant, "not_found"),
        "suspended-tenant": (suspended, "tenant_suspended"),
        "over-cap": (over_cap, "over_award_cap"),
        "lead-budget-short": (lead_short, "insufficient_balance"),
        "lead-with-an-empty-budget": (lead_with_an_empty_budget, "insufficient_balance"),
        "manager-asks-for-a-budget-they-lack": (manager_asks_for_a_budget, "no_lead_budget"),
        "lead-asks-for-the-pool": (lead_asks_for_pool, "permission_denied"),
        "unknown-source": (unknown_source, "invalid_funding_source"),
    }


DECLINES = _decline_cases()


@pytest.mark.parametrize("case", DECLINES.values(), ids=DECLINES.keys())
def test_it_declines_writing_nothing_and_the_general_path_refuses(
    funded_lead, manager, tenant, employee, other_employee, outsider, case
):
    arrange, code = case
    world = {"manager": manager, "lead": funded_lead, "tenant": tenant, "employee": employee,
             "other": other_employee, "outsider": outsider}  # fmt: skip
    giver, recipients, points, requested = arrange(world)
    giver.refresh_from_db()
    before = books()
    assert _try_one_statement(giver, recipients, points, requested) is None
    assert books() == before
    with pytest.raises(DomainError) as refused:
        services.recognition_create(
            giver=giver, recipient_ids=[r.pk for r in recipients], points=points, message="M",
            funding_source=requested,
        )  # fmt: skip
    assert refused.value.code == code
    assert books() == before


def test_the_award_statement_is_prepared_once_and_runs_on_its_generic_plan(funded_tenant, manager, employee, award_sql):
    """perksu.db.prepared_cursor and the settings: PostgreSQL keeps one prepared statement for
    the award per connection and reuses its generic plan, instead of planning every award."""

    def prepared() -> list[tuple[int, int]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s",
                [CALL_START[award_sql].strip() + "%"],
            )
            return cursor.fetchall()

    before = prepared()  # the connection may have prepared it already, for an earlier test
    generic_before = before[0][0] if before else 0
    for n in range(3):
        services.recognition_create(giver=manager, recipient_ids=[employee.pk], points=1, message=f"Award {n}")
    assert prepared() == [(generic_before + 3, 0)]


def test_with_prepared_statements_off_the_award_binds_on_the_server_unprepared(funded_tenant, manager, employee):
    """DATABASE_PREPARED_STATEMENTS=False leaves psycopg's prepare_threshold unset: the same
    statement runs, bound on the server, and nothing new is prepared."""
    connection.ensure_connection()
    raw = connection.connection
    saved = raw.prepare_threshold
    raw.prepare_threshold = None
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements")
            prepared_before = cursor.fetchone()[0]
        result = services.recognition_create(giver=manager, recipient_ids=[employee.pk], points=9, message="Off")
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements")
            assert cursor.fetchone()[0] == prepared_before
    finally:
        raw.prepare_threshold = saved
    assert result.wallet_balances_after == {employee.pk: 9} and wallet_balance(employee) == 9
    assert result.pool_balance_after == pool(funded_tenant) == 50_000 - 9


# --- autocommit: the statement is its own transaction -------------------------------------------
# These tests commit for real (transaction=True): other connections must see the rows.


def _other_connection(*, autocommit: bool = False):
    """A second, independent connection to the test database (not Django's)."""
    import psycopg

    settings = connection.settings_dict
    return psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        autocommit=autocommit,
    )


def _wait_until_blocked(other, timeout: float = 10) -> None:
    """Wait until some backend other than `other` waits on a lock."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = other.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        ).fetchone()[0]
        if waiting:
            return
        time.sleep(0.02)
    raise AssertionError("the award never waited on the lock")


@pytest.mark.django_db(transaction=True)
def test_in_autocommit_a_plain_award_is_one_round_trip(funded_tenant, manager, employee, caplog, award_sql):
    assert not connection.in_atomic_block
    with caplog.at_level("INFO", logger="perksu.money"), CaptureQueriesContext(connection) as ctx:
        result = services.recognition_create(giver=manager, recipient_ids=[employee.pk], points=25, message="Thanks")
    start = CALL_START[award_sql]
    assert [q["sql"].lstrip()[: len(start)] for q in ctx.captured_queries] == [start]
    assert wallet_balance(employee) == 25 and pool(funded_tenant) == 50_000 - 25
    assert result.pool_balance_after == 50_000 - 25 and result.wallet_balances_after == {employee.pk: 25}
    lines = [r for r in caplog.records if r.name == "perksu.money"]
    assert len(lines) == 1 and lines[0].money["pool_after"] == 50_000 - 25


@pytest.mark.django_db(transaction=True)
def test_the_paying_row_is_locked_after_the_wallets(funded_tenant, manager, employee):
    """With a recipient's wallet held by another transaction the award waits on it, and
    meanwhile the tenant row is free: the award has not locked it yet (wallets first)."""
    import threading

    holder, prober = _other_connection(), _other_connection(autocommit=True)
    holder.execute(
        "SELECT 1 FROM wallets WHERE tenant_id = %s AND user_id = %s FOR UPDATE", [employee.tenant_id, employee.pk]
    )
    outcome = {}

    def award():
        try:
            outcome["result"] = services.recognition_create(
                giver=manager, recipient_ids=[employee.pk], points=10, message="Waits"
            )
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=award)
    thread.start()
    try:
        _wait_until_blocked(prober)
        with prober.transaction():
            prober.execute("SET LOCAL lock_timeout = '1s'")
            locked = prober.execute(
                "SELECT points_allocation_balance FROM tenants WHERE id = %s FOR UPDATE NOWAIT", [funded_tenant.pk]
            ).fetchone()
        assert locked == (50_000,)
    finally:
        holder.rollback()
        thread.join(20)
        holder.close()
        prober.close()
    assert "error" not in outcome, outcome
    assert wallet_balance(employee) == 10 and pool(funded_tenant) == 50_000 - 10


def _award_while_drained(giver, recipient, drain: tuple[str, list]):
    """Award 60 points while another transaction holds the paying row with `drain` applied: the award
    waits on that row, the drain commits, and the award meets the drained balance at its debit.
    Returns what the award raised (None if it raised nothing)."""
    import threading

    drainer, prober = _other_connection(), _other_connection(autocommit=True)
    drainer.execute(*drain)
    outcome = {}

    def award():
        try:
            services.recognition_create(giver=giver, recipient_ids=[recipient.pk], points=60, message="Too late")
        except BaseException as exc:
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=award)
    thread.start()
    try:
        _wait_until_blocked(prober)
        drainer.commit()
    finally:
        thread.join(20)
        drainer.close()
        prober.close()
    return outcome.get("error")


@pytest.mark.django_db(transaction=True)
def test_a_balance_taken_mid_statement_undoes_the_whole_award(tenant, allocate, manager, employee):
    """The award reads a pool that covers it, locks and credits the wallet, then waits for the
    tenant row, held by a transaction that takes the pool. When that commits, the debit finds
    the pool short: perksu_award_not_paid() aborts the statement, credits and rows included,
    and the general path refuses with the figures. Nothing of the award remains."""

    allocate(tenant, 100)
    before = books()
    drain = ("UPDATE tenants SET points_allocation_balance = 30 WHERE id = %s", [tenant.pk])
    error = _award_while_drained(manager, employee, drain)
    assert isinstance(error, DomainError) and error.code == "insufficient_balance", error
    assert error.extra == {"available": 30, "required": 60}
    after = books()
    # Only the drainer's change: the award left no credit, recognition or ledger row.
    assert after["pools"][tenant.pk] == 30
    assert after["wallets"] == before["wallets"] and after["wallet_counters"] == before["wallet_counters"]
    assert after["counts"] == before["counts"]


def test_every_award_statement_stays_within_psycopgs_parsed_query_cache():
    """psycopg parses a query again on every call once it is longer than MAX_CACHED_STATEMENT_LENGTH bytes:
    the award's statements (pool, lead budget, allowance; with and without events) stay under it, so each
    award after the first reuses the parsed and prepared statement."""
    from psycopg._queries import MAX_CACHED_STATEMENT_LENGTH

    from recognition.statements import _AWARD_SQL_BY_SOURCE, AWARD_FUNCTION_SQL

    lengths = {key: len(sql.encode()) for key, sql in _AWARD_SQL_BY_SOURCE.items()}
    lengths["function"] = len(AWARD_FUNCTION_SQL.encode())
    assert len(lengths) == 7
    assert {key: n for key, n in lengths.items() if n > MAX_CACHED_STATEMENT_LENGTH} == {}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("payer", ["lead_budget", "allowance"])
def test_a_budget_or_allowance_taken_mid_statement_undoes_the_whole_award(
    tenant, allocate, manager, employee, other_employee, payer
):
    """As above for the two other payers: the lead budget, and the giver's allowance (its usage row
    is raised before the pool is debited). Each is taken by another transaction while the award waits
    on its row; the award is undone whole and the general path refuses with the figures."""

    from points.services import lead_delegate
    from recognition import allowances

    allocate(tenant, 1_000)
    if payer == "lead_budget":
        giver = LeadFactory(tenant=tenant, password=None)
        lead_delegate(actor=manager, lead_id=giver.pk, amount=100, note="Budget")
        drain = ("UPDATE lead_budgets SET balance = 30 WHERE lead_id = %s", [giver.pk])
        code, extra = "insufficient_balance", {"available": 30, "required": 60}
    else:
        Tenant.objects.filter(pk=tenant.pk).update(allowance_employee=100)
        tenant.refresh_from_db()
        giver = employee
        start, end = allowances.period_bounds(tenant)
        allowances.usage_row(tenant=tenant, user_id=giver.pk, role=giver.role, start=start, end=end)
        drain = ("UPDATE allowance_usage SET given = 70 WHERE user_id = %s", [giver.pk])
        code, extra = "allowance_exceeded", {"remaining": 30, "required": 60}
    before = books()
    error = _award_while_drained(giver, other_employee, drain)
    assert isinstance(error, DomainError) and error.code == code, error
    assert error.extra == extra
    after = books()
    assert after["pools"] == before["pools"]
    assert after["wallets"] == before["wallets"] and after["wallet_counters"] == before["wallet_counters"]
    assert after["counts"] == before["counts"]
