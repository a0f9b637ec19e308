"""The bench's hand-SQL baselines must do and check exactly what the product does,
or the ratios in docs/PERFORMANCE.md compare unlike things."""

import uuid

import pytest
from django.db import connection
from django.utils import timezone

from bench.baselines import distribute_sql, reconcile_sql
from points.reconcile import reconcile
from recognition.models import Recognition
from tenants.models import Tenant
from tenants.tests.factories import UserFactory
from wallets.models import Wallet, WalletLedger

pytestmark = pytest.mark.postgres


@pytest.fixture
def members(tenant):
    return [UserFactory(tenant=tenant, email=f"m{i}@triton.test") for i in range(3)]


def run_distribute_sql(tenant, manager, amount):
    return distribute_sql(
        tenant_id=tenant.pk,
        giver_id=manager.pk,
        amount=amount,
        message="Diwali bonus",
        group_id=uuid.uuid4(),
        now=timezone.now(),
    )


def test_distribute_sql_has_the_effect_of_a_distribution(funded_tenant, manager, members):
    assert run_distribute_sql(funded_tenant, manager, 100) == 3

    funded_tenant.refresh_from_db()
    assert funded_tenant.points_allocation_balance == 50_000 - 300
    wallets = Wallet.objects.filter(user__in=members)
    assert sorted(wallets.values_list("balance", "lifetime_earned", "last_entry_no")) == [(100, 100, 1)] * 3
    assert not Wallet.objects.get(user=manager).balance
    entries = WalletLedger.objects.filter(wallet__in=wallets)
    assert (
        sorted(entries.values_list("entry_no", "entry_type", "source", "amount", "balance_after"))
        == [(1, "CREDIT", "RECOGNITION", 100, 100)] * 3
    )
    recognitions = Recognition.objects.filter(tenant=funded_tenant)
    assert recognitions.count() == 3
    assert len({r.group_id for r in recognitions}) == 1
    assert {r.funding_source for r in recognitions} == {"POOL"}
    assert all(r.ok for r in reconcile())


def test_distribute_sql_writes_nothing_when_the_pool_is_short(tenant, allocate, manager, members):
    allocate(tenant, 200)
    with pytest.raises(RuntimeError, match="does not cover"):
        run_distribute_sql(tenant, manager, 100)

    assert Tenant.objects.get(pk=tenant.pk).points_allocation_balance == 200
    assert list(Wallet.objects.filter(user__in=members).values_list("balance", flat=True)) == [0, 0, 0]
    assert not WalletLedger.objects.exists()
    assert not Recognition.objects.exists()


def test_reconcile_sql_agrees_with_reconcile_on_clean_books(funded_tenant, manager, members, award, other_tenant):
    award(manager, members[:2], 250)
    run_distribute_sql(funded_tenant, manager, 10)

    figures = reconcile_sql()[str(funded_tenant.pk)]
    (report,) = [r for r in reconcile() if r.slug == funded_tenant.slug]
    assert report.ok
    assert figures["drifts"] == 0
    assert figures["pool"] == report.figures["pool"] == 50_000 - 500 - 30
    assert figures["wallets"] == report.figures["wallets"] == 530
    assert figures["award_pool"] == report.figures["pool_awards"] == 530
    assert figures["recognition_credits"] == figures["recognitions_with_points"] == 5


def test_reconcile_sql_finds_the_drifts_reconcile_finds(funded_tenant, manager, members, award):
    award(manager, members[0], 250)
    with connection.cursor() as cursor:  # a write that bypassed the services
        cursor.execute("UPDATE wallets SET balance = balance + 5 WHERE user_id = %s", [members[1].pk])

    (report,) = [r for r in reconcile() if r.slug == funded_tenant.slug]
    assert not report.ok
    assert reconcile_sql()[str(funded_tenant.pk)]["drifts"] >= 1
