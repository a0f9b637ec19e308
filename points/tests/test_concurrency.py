"""Concurrency on PostgreSQL: real threads, each on its own connection, released together.

SQLite serialises every writer, so these run on PostgreSQL only. Each thread
closes its connection when it is done; a `threading.Barrier` starts them at the
same instant so the operations really overlap.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import IntegrityError, OperationalError, connection
from django.db.models import QuerySet, Sum

from perksu.errors import DomainError
from perksu.testing import run_together
from points.idempotency import fingerprint, run_idempotent
from points.models import IdempotencyRecord
from points.services import lead_delegate, lead_recall, tenant_allocate, tenant_clawback
from recognition import services as recognition_services
from recognition.models import Recognition
from recognition.services import recognition_create, recognition_distribute
from tenants.models import User
from tenants.tests.factories import LeadFactory, UserFactory
from wallets.models import Redemption, Wallet, WalletLedger
from wallets.services import redemption_create, redemption_refund, reward_create

from .books import assert_reconciled, pool, wallet_balance

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("award_sql")]


def race(count: int, work: Callable[[int], object], *, timeout: float = 60) -> list[tuple[str, object]]:
    """`run_together`, each outcome classified: ("ok", result), ("refused", DomainError code)
    or ("error", repr of any other exception)."""

    def outcome(result: object) -> tuple[str, object]:
        if isinstance(result, DomainError):
            return ("refused", result.code)
        if isinstance(result, BaseException):
            return ("error", repr(result))
        return ("ok", result)

    return [outcome(r) for r in run_together(count, work, timeout=timeout)]


def test_awards_racing_for_one_pool(tenant, allocate, manager):
    """40 awards of 100 against a pool of 1,000: exactly 10 win, the rest are refused."""
    threads, points, covered = 40, 100, 10
    allocate(tenant, points * covered)
    people = [UserFactory(tenant=tenant, password=None) for _ in range(threads)]

    results = race(
        threads,
        lambda i: recognition_create(giver=manager, recipient_ids=[people[i].pk], points=points, message="Race"),
    )

    kinds = Counter(kind for kind, _ in results)
    assert kinds == {"ok": covered, "refused": threads - covered}, results
    assert {value for kind, value in results if kind == "refused"} == {"insufficient_balance"}
    # Each winner saw a different pool: the debits were serialised, none went below 0.
    pools_after = sorted(value.pool_balance_after for kind, value in results if kind == "ok")
    assert pools_after == [points * k for k in range(covered)]
    assert pool(tenant) == 0
    assert Wallet.objects.filter(tenant=tenant).aggregate(total=Sum("balance"))["total"] == points * covered
    assert Recognition.objects.count() == WalletLedger.objects.count() == covered
    assert sorted(wallet_balance(p) for p in people) == [0] * (threads - covered) + [points] * covered
    assert_reconciled()
    print(f"\npool race: {threads} threads, {covered} covered, {kinds['ok']} succeeded, pool {pool(tenant)}")


def test_awards_racing_into_one_wallet_are_all_kept(tenant, allocate, manager, employee):
    """24 concurrent awards to the SAME wallet: balance = N × points and entries 1..N, no gap.

    This is the test that fails without the wallet lock (see the next test):
    entry numbers and balances-after are read under the lock and written with it.
    """
    threads, points = 24, 7
    allocate(tenant, 1_000_000)
    leads = [LeadFactory(tenant=tenant, password=None) for _ in range(threads // 2)]
    for lead in leads:
        lead_delegate(actor=manager, lead_id=lead.pk, amount=1_000)
    givers = [manager] * (threads - len(leads)) + leads

    results = race(
        threads,
        lambda i: recognition_create(giver=givers[i], recipient_ids=[employee.pk], points=points, message="Same"),
    )

    assert Counter(kind for kind, _ in results) == {"ok": threads}, results
    assert wallet_balance(employee) == threads * points
    entries = list(
        WalletLedger.objects.filter(wallet__user=employee).order_by("entry_no").values_list("entry_no", "balance_after")
    )
    assert entries == [(n, n * points) for n in range(1, threads + 1)]
    assert Wallet.objects.get(user=employee).last_entry_no == threads
    assert_reconciled()


def test_without_the_wallet_lock_concurrent_awards_would_lose_updates(tenant, allocate, manager, employee, monkeypatch):
    """The same race with the row lock taken out (a deliberately broken award).

    Every thread reads the wallet before any writes (a second barrier forces
    the interleaving), so all compute entry 1 and balance-after = points. The
    ledger's unique (wallet, entry_no) refuses all but one: the lost updates
    surface as errors and roll back instead of corrupting the books. With the
    lock (previous test) all of them succeed.

    This is the general path, which reads the wallet into Python; the
    one-statement path computes every balance inside its UPDATE, under the row
    lock, so it has no read to race.
    """
    threads, points = 8, 5
    allocate(tenant, 10_000)
    read_all = threading.Barrier(threads)
    monkeypatch.setattr(recognition_services, "_award_in_one_statement", lambda **kwargs: None)
    monkeypatch.setattr(QuerySet, "select_for_update", lambda self, *args, **kwargs: self)
    original_bulk_create = QuerySet.bulk_create

    def bulk_create_after_everyone_read(self, objs, *args, **kwargs):
        if self.model is Recognition:
            read_all.wait(timeout=20)
        return original_bulk_create(self, objs, *args, **kwargs)

    monkeypatch.setattr(QuerySet, "bulk_create", bulk_create_after_everyone_read)

    results = race(
        threads,
        lambda i: recognition_create(giver=manager, recipient_ids=[employee.pk], points=points, message="No lock"),
    )
    monkeypatch.undo()

    kinds = Counter(kind for kind, _ in results)
    assert kinds == {"ok": 1, "error": threads - 1}, results
    assert all(
        "IntegrityError" in value and "ledger_one_entry_per_position" in value
        for kind, value in results
        if kind == "error"
    )
    assert wallet_balance(employee) == points  # not threads × points: the race was lost, and refused
    assert_reconciled()


def test_one_idempotency_key_from_many_threads_moves_points_once(funded_tenant, manager, employee):
    threads = 16

    def send(_):
        def op():
            result = recognition_create(giver=manager, recipient_ids=[employee.pk], points=250, message="Once")
            return 200, {"recognition_id": str(result.recognitions[0].pk)}

        return run_idempotent(
            user=manager, scope="award", key="double-click", request_fingerprint=fingerprint({"p": 250}), operation=op
        )

    results = race(threads, send)

    outcomes = [value for kind, value in results if kind == "ok"]
    fresh = [o for o in outcomes if not o.replayed]
    replays = [o for o in outcomes if o.replayed]
    refused = [value for kind, value in results if kind == "refused"]
    assert len(fresh) == 1, results
    assert len(fresh) + len(replays) + len(refused) == threads, results
    assert set(refused) <= {"idempotency_key_in_progress"}
    assert all(r.body == fresh[0].body and r.status == 200 for r in replays)
    assert wallet_balance(employee) == 250
    assert pool(funded_tenant) == 50_000 - 250
    assert Recognition.objects.count() == 1
    assert IdempotencyRecord.objects.get().state == "DONE"
    print(f"\nidempotency race: {threads} threads, 1 effect, {len(replays)} replays, {len(refused)} × 409")


def test_mixed_race_never_deadlocks_and_reconciles(tenant, allocate, platform_admin, manager):
    """Delegations, recalls, pool and lead awards, distributions, clawbacks, allocations,
    redemptions and refunds, all at once for a few seconds: no deadlock or lock error
    surfaces (any OperationalError/IntegrityError fails the test) and the books reconcile."""
    allocate(tenant, 200_000)
    leads = [LeadFactory(tenant=tenant, password=None) for _ in range(3)]
    staff = [UserFactory(tenant=tenant, password=None) for _ in range(8)]
    for lead in leads:
        lead_delegate(actor=manager, lead_id=lead.pk, amount=5_000)
    for person in staff:
        recognition_create(giver=manager, recipient_ids=[person.pk], points=2_000, message="Seed")
    rewards = [
        reward_create(actor=manager, name="Mug", points_cost=150, stock=40),
        reward_create(actor=manager, name="Lunch", points_cost=300, stock=None),
        reward_create(actor=manager, name="Rare", points_cost=50, stock=3),
    ]
    deadline = time.monotonic() + 8
    faults: list[str] = []
    tally: Counter = Counter()
    lock = threading.Lock()

    def loop(i: int) -> None:
        rng = random.Random(i)
        role = i % 8
        while time.monotonic() < deadline:
            try:
                _mixed_step(role, rng, tenant, platform_admin, manager, leads, staff, rewards)
                outcome = "ok"
            except DomainError:
                outcome = "refused"
            except (OperationalError, IntegrityError) as exc:
                with lock:
                    faults.append(repr(exc))
                return
            with lock:
                tally[(ROLE_NAMES[role], outcome)] += 1

    results = race(16, loop)
    assert not faults, faults[:3]
    assert all(kind == "ok" for kind, _ in results), [v for k, v in results if k != "ok"][:3]
    assert sum(n for (role, outcome), n in tally.items() if outcome == "ok") > 50, tally
    assert_reconciled()
    print(f"\nmixed race: 16 threads for 8 s, {sum(tally.values())} operations, outcomes {dict(tally)}")


ROLE_NAMES = {
    0: "delegate",
    1: "recall",
    2: "award-pool",
    3: "award-lead",
    4: "clawback/allocate",
    5: "redeem",
    6: "redeem",
    7: "refund/distribute",
}


def _mixed_step(role, rng, tenant, platform_admin, manager, leads, staff, rewards) -> str:
    lead = rng.choice(leads)
    person = rng.choice(staff)
    if role == 0:
        lead_delegate(actor=manager, lead_id=lead.pk, amount=rng.randint(1, 2_000))
    elif role == 1:
        lead_recall(actor=manager, lead_id=lead.pk, amount=rng.choice([None, rng.randint(1, 1_500)]))
    elif role == 2:
        recipients = rng.sample(staff + leads, rng.randint(1, 4))
        recognition_create(
            giver=manager, recipient_ids=[r.pk for r in recipients], points=rng.randint(1, 300), message="m"
        )
    elif role == 3:
        recipients = rng.sample(staff, rng.randint(1, 3))
        recognition_create(
            giver=lead, recipient_ids=[r.pk for r in recipients], points=rng.randint(1, 200), message="m"
        )
    elif role == 4:
        if rng.random() < 0.5:
            tenant_clawback(actor=platform_admin, tenant_id=tenant.pk, amount=rng.randint(1, 3_000), reason="r")
        else:
            tenant_allocate(actor=platform_admin, tenant_id=tenant.pk, amount=rng.randint(1, 3_000))
    elif role in (5, 6):
        redemption_create(user=User.objects.get(pk=person.pk), reward_id=rng.choice(rewards).pk)
    elif role == 7:
        if rng.random() < 0.15:
            recognition_distribute(giver=manager, amount_per_user=rng.randint(1, 20), message="all")
        else:
            issued = list(Redemption.objects.filter(status="ISSUED").values_list("pk", flat=True)[:20])
            if not issued:
                return "nothing to refund"
            redemption_refund(actor=manager, redemption_id=rng.choice(issued))
    return "ok"


def test_locks_take_only_their_own_rows(funded_lead, manager, platform_admin, funded_tenant):
    """Regression: a lock on a lead budget or the tenant must not lock the lead's user row
    (FOR UPDATE through a join) nor block others' foreign-key checks: the mixed race above
    deadlocked when recall's `select_for_update().first()` joined users for the ordering."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        lead_recall(actor=manager, lead_id=funded_lead.pk, amount=1)
        tenant_clawback(actor=platform_admin, tenant_id=funded_tenant.pk, reason="All")
    locking = [q["sql"] for q in ctx.captured_queries if " FOR " in q["sql"]]
    assert len(locking) == 2, locking
    recall_lock, clawback_lock = locking
    assert '"users"' not in recall_lock and recall_lock.endswith('FOR UPDATE OF "lead_budgets"'), recall_lock
    assert clawback_lock.endswith("FOR NO KEY UPDATE"), clawback_lock


def test_the_last_items_of_a_reward_go_to_exactly_as_many_redeemers(funded_tenant, manager):
    threads, stock = 12, 3
    people = [UserFactory(tenant=funded_tenant, password=None) for _ in range(threads)]
    for person in people:
        recognition_create(giver=manager, recipient_ids=[person.pk], points=500, message="Budget")
    reward = reward_create(actor=manager, name="Headphones", points_cost=400, stock=stock)

    results = race(threads, lambda i: redemption_create(user=people[i], reward_id=reward.pk))

    assert Counter(kind for kind, _ in results) == {"ok": stock, "refused": threads - stock}, results
    assert {value for kind, value in results if kind == "refused"} == {"out_of_stock"}
    reward.refresh_from_db()
    assert reward.stock == 0
    assert sorted(wallet_balance(p) for p in people) == [100] * stock + [500] * (threads - stock)
    assert Redemption.objects.filter(status="ISSUED").count() == stock
    assert_reconciled()


def test_a_redemption_refunded_from_many_threads_is_refunded_once(funded_tenant, manager, employee):
    threads = 10
    recognition_create(giver=manager, recipient_ids=[employee.pk], points=500, message="Budget")
    reward = reward_create(actor=manager, name="Mug", points_cost=300, stock=1)
    redemption = redemption_create(user=employee, reward_id=reward.pk).redemption

    results = race(threads, lambda i: redemption_refund(actor=manager, redemption_id=redemption.pk))

    assert Counter(kind for kind, _ in results) == {"ok": 1, "refused": threads - 1}, results
    assert {value for kind, value in results if kind == "refused"} == {"already_refunded"}
    assert wallet_balance(employee) == 500
    reward.refresh_from_db()
    assert reward.stock == 1
    assert WalletLedger.objects.filter(source="REFUND").count() == 1
    assert_reconciled()
