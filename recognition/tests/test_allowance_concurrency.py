"""Allowance gifts under real concurrency (PostgreSQL): threads on their own connections,
released together. The usage row's conditional update is what stops an over-gift; the
pool's is what stops an overdraft; reconcile is clean after either race."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db.models import Sum

from perksu.errors import DomainError
from perksu.testing import run_together
from points.tests.books import assert_reconciled, pool
from recognition.models import AllowanceUsage, Recognition
from recognition.services import recognition_create
from tenants.models import Tenant
from tenants.tests.factories import UserFactory
from wallets.models import Wallet

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("award_sql")]


def _outcomes(results) -> list[tuple[str, object]]:
    out = []
    for r in results:
        if isinstance(r, DomainError):
            out.append(("refused", r.code))
        elif isinstance(r, BaseException):
            out.append(("error", repr(r)))
        else:
            out.append(("ok", r))
    return out


def test_32_gifts_of_10_against_an_allowance_of_100_give_exactly_10(tenant, allocate, employee):
    Tenant.objects.filter(pk=tenant.pk).update(allowance_employee=100)
    allocate(tenant, 10_000)
    colleagues = [UserFactory(tenant=tenant, password=None) for _ in range(32)]

    results = _outcomes(
        run_together(
            32,
            lambda i: recognition_create(giver=employee, recipient_ids=[colleagues[i].pk], points=10, message="Thanks"),
            timeout=120,
        )
    )

    kinds = Counter(kind for kind, _ in results)
    assert kinds == {"ok": 10, "refused": 22}, results
    assert {code for kind, code in results if kind == "refused"} == {"allowance_exceeded"}
    assert sorted(r.allowance_given for kind, r in results if kind == "ok") == list(range(10, 101, 10))
    usage = AllowanceUsage.objects.get(user=employee)
    assert (usage.given, usage.limit) == (100, 100)
    assert Recognition.objects.filter(funding_source="ALLOWANCE").aggregate(t=Sum("points"))["t"] == 100
    assert Wallet.objects.filter(tenant=tenant).aggregate(t=Sum("balance"))["t"] == 100
    assert pool(tenant) == 10_000 - 100
    assert_reconciled()


def test_allowance_gifts_and_manager_awards_racing_for_one_pool_never_overdraw_it(tenant, allocate, manager):
    """16 employees give 50 from their allowances while 16 manager awards of 50 run, against a
    pool of 500: at most 10 succeed, whichever they are; the pool ends at 500 − 50 × winners ≥ 0."""
    Tenant.objects.filter(pk=tenant.pk).update(allowance_employee=100)
    allocate(tenant, 500)
    givers = [UserFactory(tenant=tenant, password=None) for _ in range(16)]
    recipients = [UserFactory(tenant=tenant, password=None) for _ in range(32)]

    def work(i: int):
        if i % 2:
            giver = givers[i // 2]
            return recognition_create(giver=giver, recipient_ids=[recipients[i].pk], points=50, message="Gift")
        return recognition_create(giver=manager, recipient_ids=[recipients[i].pk], points=50, message="Award")

    results = _outcomes(run_together(32, work, timeout=120))

    kinds = Counter(kind for kind, _ in results)
    assert "error" not in kinds, results
    assert kinds["ok"] == 10, results  # the pool covers exactly ten gifts or awards of 50
    assert {code for kind, code in results if kind == "refused"} == {"insufficient_balance"}
    assert pool(tenant) == 0
    gifts = [r for kind, r in results if kind == "ok" and r.funding_source == "ALLOWANCE"]
    assert (AllowanceUsage.objects.aggregate(t=Sum("given"))["t"] or 0) == 50 * len(gifts)
    assert Wallet.objects.filter(tenant=tenant).aggregate(t=Sum("balance"))["t"] == 500
    assert_reconciled()
