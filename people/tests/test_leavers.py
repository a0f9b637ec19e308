"""Leavers' wallets: the forfeit's figures, its refusals, the command run twice, reconcile, races."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from people.leavers import forfeit_leavers, wallet_forfeit
from people.models import ForfeitLog
from people.services import member_set_active
from perksu.errors import DomainError
from perksu.testing import run_together
from points.reconcile import reconcile
from points.services import tenant_allocate
from recognition.services import recognition_create
from tenants.models import Tenant
from tenants.tests.factories import ManagerFactory, PlatformAdminFactory, TenantFactory, UserFactory
from wallets.models import Wallet, WalletLedger
from wallets.services import redemption_create, reward_create

DAY = dt.timedelta(days=1)


def setup_leaver(policy="FORFEIT", days=30, points=700):
    tenant = TenantFactory()
    Tenant.objects.filter(pk=tenant.pk).update(leaver_policy=policy, leaver_forfeit_days=days)
    tenant.refresh_from_db()
    tenant_allocate(actor=PlatformAdminFactory(), tenant_id=tenant.pk, amount=10_000, reference_note="Invoice 1")
    manager = ManagerFactory(tenant=tenant)
    leaver = UserFactory(tenant=tenant)
    recognition_create(giver=manager, recipient_ids=[leaver.pk], points=points, message="Thanks")
    return tenant, manager, leaver


def pool(tenant):
    return Tenant.objects.values_list("points_allocation_balance", flat=True).get(pk=tenant.pk)


def balance(user):
    return Wallet.objects.values_list("balance", flat=True).get(user=user)


@pytest.mark.django_db
def test_a_due_forfeit_moves_the_wallet_to_the_pool_with_ledger_log_and_reconcile():
    tenant, manager, leaver = setup_leaver()
    member_set_active(user=leaver, is_active=False, actor=manager)
    assert pool(tenant) == 9_300
    result = wallet_forfeit(user=leaver, now=timezone.now() + 31 * DAY)
    assert (result.forfeit.amount, result.pool_balance_after, pool(tenant), balance(leaver)) == (700, 10_000, 10_000, 0)
    entry = WalletLedger.objects.get(wallet__user=leaver, source="FORFEIT")
    assert (entry.entry_type, entry.amount, entry.balance_after, entry.entry_no) == ("DEBIT", 700, 0, 2)
    assert ForfeitLog.objects.get(user=leaver).ledger_entry_id == entry.pk
    [report] = reconcile(tenant_slug=tenant.slug)
    assert report.ok, report.drifts
    assert report.figures["forfeited"] == 700


@pytest.mark.django_db
def test_reconcile_sees_a_pool_credit_without_its_forfeit_log():
    tenant, manager, leaver = setup_leaver()
    member_set_active(user=leaver, is_active=False, actor=manager)
    wallet_forfeit(user=leaver, now=timezone.now() + 31 * DAY)
    if connection.vendor == "postgresql":
        # The log is append-only in the database itself.
        with pytest.raises(IntegrityError), transaction.atomic():
            ForfeitLog.objects.all().delete()
        return
    ForfeitLog.objects.all().delete()  # SQLite has no append-only trigger: simulate a lost log row
    [report] = reconcile(tenant_slug=tenant.slug)
    assert any("pool 10000" in d for d in report.drifts), report.drifts


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("policy", "deactivate", "days_later", "code"),
    [
        ("FORFEIT", False, 31, "member_active"),
        ("KEEP", True, 400, "leaver_policy_keep"),
        ("FORFEIT", True, 29, "forfeit_not_due"),
    ],
)
def test_refusals_write_nothing(policy, deactivate, days_later, code):
    tenant, manager, leaver = setup_leaver(policy=policy)
    if deactivate:
        member_set_active(user=leaver, is_active=False, actor=manager)
    with pytest.raises(DomainError) as exc:
        wallet_forfeit(user=leaver, now=timezone.now() + days_later * DAY)
    assert exc.value.code == code
    assert (balance(leaver), pool(tenant), ForfeitLog.objects.count()) == (700, 9_300, 0)


@pytest.mark.django_db
def test_a_member_reactivated_in_time_keeps_their_points():
    _tenant, manager, leaver = setup_leaver()
    member_set_active(user=leaver, is_active=False, actor=manager)
    member_set_active(user=leaver, is_active=True, actor=manager)
    assert forfeit_leavers(now=timezone.now() + 365 * DAY) == (0, 0)
    assert balance(leaver) == 700


@pytest.mark.django_db
def test_the_command_is_safe_to_run_twice(capsys):
    tenant, manager, leaver = setup_leaver(days=0)
    keeper = UserFactory(tenant=tenant)
    recognition_create(giver=manager, recipient_ids=[keeper.pk], points=50, message="Thanks")
    member_set_active(user=leaver, is_active=False, actor=manager)
    call_command("forfeit_leavers")
    call_command("forfeit_leavers")
    out = capsys.readouterr().out
    assert "Forfeited 1 wallet(s), 700 point(s)" in out and "Forfeited 0 wallet(s), 0 point(s)" in out
    assert (balance(leaver), balance(keeper), pool(tenant), ForfeitLog.objects.count()) == (0, 50, 9_950, 1)


@pytest.mark.django_db
def test_a_second_deactivation_does_not_restart_the_clock():
    _tenant, manager, leaver = setup_leaver()
    member_set_active(user=leaver, is_active=False, actor=manager)
    first = leaver.profile.__class__.objects.get(user=leaver).deactivated_at
    member_set_active(user=leaver, is_active=False, actor=manager)
    assert leaver.profile.__class__.objects.get(user=leaver).deactivated_at == first


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_forfeit_racing_a_redemption_leaves_the_books_whole():
    tenant, manager, leaver = setup_leaver(days=0)
    reward = reward_create(actor=manager, name="Mug", points_cost=300, stock=None)
    for _ in range(5):
        # The member is topped up to 1,000 points; a redemption (300) taken while they were
        # still active races the forfeit of their deactivation.
        member_set_active(user=leaver, is_active=True, actor=manager)
        top_up = 1_000 - balance(leaver)
        recognition_create(giver=manager, recipient_ids=[leaver.pk], points=top_up, message="Top up")
        active_copy = type(leaver).objects.get(pk=leaver.pk)
        member_set_active(user=leaver, is_active=False, actor=manager)

        def work(i, active_copy=active_copy):
            if i == 0:
                return wallet_forfeit(user=leaver)
            return redemption_create(user=active_copy, reward_id=reward.pk)

        forfeit, redemption = run_together(2, work)
        assert not isinstance(forfeit, Exception), forfeit
        if isinstance(redemption, Exception):
            assert isinstance(redemption, DomainError) and redemption.code == "insufficient_balance", redemption
            assert forfeit.forfeit.amount == 1_000
        else:
            assert forfeit.forfeit.amount == 700
        assert balance(leaver) == 0
        [report] = reconcile(tenant_slug=tenant.slug)
        assert report.ok, report.drifts
