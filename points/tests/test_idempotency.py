"""`run_idempotent`: at most one effect per (user, scope, key), outcomes stored and replayed (SPEC §6)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from perksu.errors import DomainError, IdempotencyConflictError, IdempotencyReuseError
from points.idempotency import STALE_AFTER, fingerprint, purge_expired, run_idempotent
from points.models import IdempotencyRecord
from recognition.services import recognition_create

from .books import books, pool, wallet_balance


@pytest.fixture
def award_op(funded_tenant, manager, employee):
    """An operation awarding `points` to `employee`, counting its runs."""
    runs = []

    def make(points=100):
        def op():
            runs.append(points)
            result = recognition_create(giver=manager, recipient_ids=[employee.pk], points=points, message="Thanks")
            return 200, {"recognition_id": str(result.recognitions[0].pk), "pool": result.pool_balance_after}

        return op

    make.runs = runs
    return make


def _run(manager, op, *, key="key-1", body=None, scope="award"):
    return run_idempotent(
        user=manager, scope=scope, key=key, request_fingerprint=fingerprint(body or {"points": 100}), operation=op
    )


def test_fingerprint_ignores_key_order():
    assert fingerprint({"a": 1, "b": [1, 2]}) == fingerprint({"b": [1, 2], "a": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": 2})


def test_a_replay_returns_the_same_outcome_and_moves_nothing_twice(award_op, manager, employee, funded_tenant):
    first = _run(manager, award_op())
    second = _run(manager, award_op())

    assert (first.status, first.replayed) == (200, False)
    assert (second.status, second.body, second.replayed) == (200, first.body, True)
    assert award_op.runs == [100]
    assert (wallet_balance(employee), pool(funded_tenant)) == (100, 49_900)
    record = IdempotencyRecord.objects.get()
    assert (record.state, record.response_status, record.response_body) == ("DONE", 200, first.body)


def test_another_scope_or_user_is_another_key(award_op, manager, employee, funded_tenant):
    _run(manager, award_op())
    _run(manager, award_op(), scope="other-endpoint")
    assert award_op.runs == [100, 100]
    assert wallet_balance(employee) == 200


def test_a_refusal_is_stored_and_replayed(award_op, manager, employee):
    before = books()
    with pytest.raises(DomainError) as caught:
        _run(manager, award_op(points=60_000), body={"points": 60_000})
    assert caught.value.code == "insufficient_balance"
    replay = _run(manager, award_op(points=60_000), body={"points": 60_000})

    assert replay.replayed is True
    assert replay.status == 400
    assert replay.body == {
        "detail": "Insufficient company allocation pool. Available: 50000, Required: 60000.",
        "code": "insufficient_balance",
        "available": 50_000,
        "required": 60_000,
    }
    assert award_op.runs == [60_000]
    after = books()
    assert after["counts"]["IdempotencyRecord"] == before["counts"]["IdempotencyRecord"] + 1
    after["counts"]["IdempotencyRecord"] -= 1
    assert after == before


def test_the_same_key_with_another_body_is_refused_with_422(award_op, manager, employee):
    _run(manager, award_op())
    with pytest.raises(IdempotencyReuseError) as caught:
        _run(manager, award_op(points=5), body={"points": 5})
    assert (caught.value.status_code, caught.value.code) == (422, "idempotency_key_reused")
    assert award_op.runs == [100]
    assert wallet_balance(employee) == 100


def test_a_key_still_in_progress_answers_409(award_op, manager, employee):
    IdempotencyRecord.objects.create(
        user=manager, tenant_id=manager.tenant_id, scope="award", key="key-1", fingerprint=fingerprint({"points": 100})
    )
    with pytest.raises(IdempotencyConflictError) as caught:
        _run(manager, award_op())
    assert (caught.value.status_code, caught.value.code) == (409, "idempotency_key_in_progress")
    assert award_op.runs == []
    assert wallet_balance(employee) == 0


def test_a_stale_claim_is_taken_over(award_op, manager, employee):
    old = timezone.now() - STALE_AFTER - timedelta(seconds=1)
    IdempotencyRecord.objects.create(
        user=manager,
        tenant_id=manager.tenant_id,
        scope="award",
        key="key-1",
        fingerprint=fingerprint({"points": 100}),
        updated_at=old,
    )
    outcome = _run(manager, award_op())
    assert (outcome.status, outcome.replayed) == (200, False)
    assert award_op.runs == [100]
    assert wallet_balance(employee) == 100
    assert IdempotencyRecord.objects.get().state == "DONE"


def test_an_unexpected_failure_deletes_the_claim_so_a_retry_runs(award_op, manager, employee, funded_tenant):
    def crashing():
        award_op()()
        raise ConnectionError("connection lost")

    before = books()
    with pytest.raises(ConnectionError):
        _run(manager, crashing)
    assert books() == before  # the award rolled back and the claim is gone
    assert not IdempotencyRecord.objects.exists()

    outcome = _run(manager, award_op())
    assert (outcome.status, outcome.replayed) == (200, False)
    assert award_op.runs == [100, 100]  # the crashed run and the retry
    assert (wallet_balance(employee), pool(funded_tenant)) == (100, 49_900)


def test_without_a_key_the_operation_simply_runs(award_op, manager, employee):
    for _ in range(2):
        run_idempotent(user=manager, scope="award", key=None, request_fingerprint="x", operation=award_op())
    assert wallet_balance(employee) == 200
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.parametrize("key", ["", "   ", "k" * 256])
def test_a_bad_key_is_refused(award_op, manager, employee, key):
    with pytest.raises(DomainError) as caught:
        _run(manager, award_op(), key=key)
    assert caught.value.code == "invalid_idempotency_key"
    assert award_op.runs == []


def test_purge_expired_deletes_only_old_completed_records(manager):
    now = timezone.now()
    old_done = IdempotencyRecord.objects.create(
        user=manager,
        tenant_id=manager.tenant_id,
        scope="s",
        key="old",
        fingerprint="f",
        state="DONE",
        updated_at=now - timedelta(hours=25),
    )
    IdempotencyRecord.objects.create(
        user=manager,
        tenant_id=manager.tenant_id,
        scope="s",
        key="fresh",
        fingerprint="f",
        state="DONE",
        updated_at=now - timedelta(hours=23),
    )
    IdempotencyRecord.objects.create(
        user=manager,
        tenant_id=manager.tenant_id,
        scope="s",
        key="running",
        fingerprint="f",
        updated_at=now - timedelta(hours=30),
    )
    assert purge_expired(now=now) == 1
    assert not IdempotencyRecord.objects.filter(pk=old_done.pk).exists()
    assert sorted(IdempotencyRecord.objects.values_list("key", flat=True)) == ["fresh", "running"]


def test_a_claim_released_while_we_looked_answers_409_not_a_crash(award_op, manager, employee, monkeypatch):
    """The winner of the key failed and deleted its claim between our failed insert and our read."""
    from django.db import IntegrityError

    def lost_the_insert_race(**kwargs):
        raise IntegrityError("duplicate key value violates unique constraint")

    monkeypatch.setattr(IdempotencyRecord.objects, "create", lost_the_insert_race)
    with pytest.raises(IdempotencyConflictError):
        _run(manager, award_op())
    assert award_op.runs == []
    assert wallet_balance(employee) == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_claim_names_the_connection_that_made_it_even_after_a_reconnect(manager):
    """The claimant (backend pid and start) is read once per connection: a new connection names
    itself, not the one before it, or a dead claim could never be taken over."""
    from django.db import connection

    def own_backend():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()")
            return cursor.fetchone()

    def claimant(key):
        _run(manager, lambda: (200, {}), key=key)
        record = IdempotencyRecord.objects.get(key=key)
        return record.backend_pid, record.backend_started_at

    first = own_backend()
    assert claimant("before") == first
    connection.close()
    second = own_backend()
    assert second != first
    assert claimant("after") == second
