"""Redemptions and refunds: figures on success, nothing written on refusal."""

import re
import uuid

import pytest

from perksu.errors import NotFoundError, PermissionDeniedError
from points.tests.books import assert_reconciled, books, ledger, wallet_balance
from tenants.services import user_set_active
from tenants.tests.factories import ManagerFactory
from wallets.models import Redemption, Reward, Wallet
from wallets.services import redemption_create, redemption_refund, reward_create, reward_update

VOUCHER = re.compile(r"^PRK(-[23456789ABCDEFGHJKMNPQRSTVWXYZ]{5}){4}$")


@pytest.fixture
def rich_employee(funded_tenant, manager, employee, award):
    """`employee` with 1,000 points in its wallet (from the pool)."""
    award(manager, employee, 1_000)
    return employee


@pytest.fixture
def mug(manager, funded_tenant):
    return reward_create(actor=manager, name="Coffee mug", points_cost=300, stock=2)


@pytest.fixture
def day_off(manager, funded_tenant):
    return reward_create(actor=manager, name="Extra day off", points_cost=400, stock=None)


def test_redeem_debits_the_wallet_decrements_stock_and_issues_a_voucher(rich_employee, mug):
    result = redemption_create(user=rich_employee, reward_id=mug.pk)

    assert result.wallet_balance_after == 700
    assert wallet_balance(rich_employee) == 700
    wallet = Wallet.objects.get(user=rich_employee)
    assert (wallet.lifetime_earned, wallet.lifetime_spent, wallet.last_entry_no) == (1_000, 300, 2)
    assert Reward.objects.get(pk=mug.pk).stock == 1
    redemption = Redemption.objects.get()
    assert (redemption.status, redemption.points_spent, redemption.user, redemption.reward) == (
        "ISSUED",
        300,
        rich_employee,
        mug,
    )
    assert VOUCHER.match(redemption.voucher_code), redemption.voucher_code
    assert ledger(rich_employee) == [(1, "CREDIT", "RECOGNITION", 1_000, 1_000), (2, "DEBIT", "REDEMPTION", 300, 700)]
    assert result.ledger_entry.redemption_id == redemption.pk
    assert_reconciled()


def test_unlimited_stock_stays_unlimited_and_vouchers_differ(rich_employee, day_off):
    first = redemption_create(user=rich_employee, reward_id=day_off.pk)
    second = redemption_create(user=rich_employee, reward_id=str(day_off.pk))

    assert Reward.objects.get(pk=day_off.pk).stock is None
    assert second.wallet_balance_after == 200
    assert first.redemption.voucher_code != second.redemption.voucher_code
    assert all(VOUCHER.match(r.redemption.voucher_code) for r in (first, second))
    assert_reconciled()


def test_refund_restores_wallet_and_stock_once(rich_employee, mug, manager):
    redemption = redemption_create(user=rich_employee, reward_id=mug.pk).redemption
    result = redemption_refund(actor=manager, redemption_id=redemption.pk)

    assert result.wallet_balance_after == 1_000
    assert result.redemption.status == "REFUNDED"
    assert wallet_balance(rich_employee) == 1_000
    wallet = Wallet.objects.get(user=rich_employee)
    assert (wallet.lifetime_earned, wallet.lifetime_spent, wallet.last_entry_no) == (1_000, 0, 3)
    assert Reward.objects.get(pk=mug.pk).stock == 2
    stored = Redemption.objects.get(pk=redemption.pk)
    assert (stored.status, stored.refunded_by) == ("REFUNDED", manager)
    assert stored.refunded_at is not None
    assert ledger(rich_employee)[-1] == (3, "CREDIT", "REFUND", 300, 1_000)
    assert result.ledger_entry.actor_id == manager.pk
    assert_reconciled()

    before = books()
    with pytest.raises(Exception) as caught:
        redemption_refund(actor=manager, redemption_id=redemption.pk)
    assert caught.value.code == "already_refunded"
    assert books() == before


def test_refund_of_unlimited_reward_keeps_stock_null(rich_employee, day_off, manager):
    redemption = redemption_create(user=rich_employee, reward_id=day_off.pk).redemption
    redemption_refund(actor=manager, redemption_id=redemption.pk)
    assert Reward.objects.get(pk=day_off.pk).stock is None
    assert wallet_balance(rich_employee) == 1_000


def test_redeem_refusals(rich_employee, mug, manager, other_employee, outsider, other_tenant, platform_admin):
    other_reward = reward_create(actor=ManagerFactory(tenant=other_tenant), name="Theirs", points_cost=10)
    pricey = reward_create(actor=manager, name="Bike", points_cost=1_001)
    retired = reward_create(actor=manager, name="Old mug", points_cost=10, is_active=False)
    gone = reward_create(actor=manager, name="Sold out", points_cost=10, stock=0)
    before = books()
    cases = [
        (rich_employee, pricey.pk, "insufficient_balance"),
        (other_employee, mug.pk, "insufficient_balance"),
        (rich_employee, retired.pk, "reward_inactive"),
        (rich_employee, gone.pk, "out_of_stock"),
        (rich_employee, other_reward.pk, "not_found"),
        (rich_employee, uuid.uuid4(), "not_found"),
        (rich_employee, "bogus", "not_found"),
        (outsider, mug.pk, "not_found"),
        (platform_admin, mug.pk, "permission_denied"),
    ]
    for user, reward_id, code in cases:
        with pytest.raises(Exception) as caught:
            redemption_create(user=user, reward_id=reward_id)
        assert caught.value.code == code, (user.email, code)
    assert books() == before


def test_redeem_insufficient_wallet_says_the_figures(rich_employee, manager):
    bike = reward_create(actor=manager, name="Bike", points_cost=1_500)
    with pytest.raises(Exception) as caught:
        redemption_create(user=rich_employee, reward_id=bike.pk)
    assert caught.value.message == "Insufficient wallet balance. Available: 1000, Required: 1500."
    assert caught.value.extra == {"available": 1_000, "required": 1_500}


def test_the_last_item_can_be_redeemed_then_stock_runs_out(rich_employee, mug):
    redemption_create(user=rich_employee, reward_id=mug.pk)
    redemption_create(user=rich_employee, reward_id=mug.pk)
    assert Reward.objects.get(pk=mug.pk).stock == 0
    before = books()
    with pytest.raises(Exception) as caught:
        redemption_create(user=rich_employee, reward_id=mug.pk)
    assert caught.value.code == "out_of_stock"
    assert books() == before
    assert wallet_balance(rich_employee) == 400


def test_a_deactivated_user_cannot_redeem(rich_employee, mug):
    user_set_active(user=rich_employee, is_active=False)
    before = books()
    with pytest.raises(PermissionDeniedError):
        redemption_create(user=rich_employee, reward_id=mug.pk)
    assert books() == before


def test_refund_refusals(rich_employee, mug, manager, funded_lead, outsider, other_tenant):
    redemption = redemption_create(user=rich_employee, reward_id=mug.pk).redemption
    other_manager = ManagerFactory(tenant=other_tenant)
    before = books()
    for actor, redemption_id, error, code in [
        (rich_employee, redemption.pk, PermissionDeniedError, "permission_denied"),
        (funded_lead, redemption.pk, PermissionDeniedError, "permission_denied"),
        (other_manager, redemption.pk, NotFoundError, "not_found"),
        (manager, uuid.uuid4(), NotFoundError, "not_found"),
        (manager, "x", NotFoundError, "not_found"),
    ]:
        with pytest.raises(error) as caught:
            redemption_refund(actor=actor, redemption_id=redemption_id)
        assert caught.value.code == code
    assert books() == before


def test_reward_catalog_rules(manager, employee, funded_tenant, outsider):
    with pytest.raises(PermissionDeniedError):
        reward_create(actor=employee, name="Mine", points_cost=10)
    for kwargs, field in [
        ({"name": "", "points_cost": 10}, "name"),
        ({"name": "Free", "points_cost": 0}, "points_cost"),
        ({"name": "Neg stock", "points_cost": 10, "stock": -1}, "stock"),
        ({"name": "Bool stock", "points_cost": 10, "stock": True}, "stock"),
    ]:
        with pytest.raises(Exception) as caught:
            reward_create(actor=manager, **kwargs)
        assert caught.value.extra["field"] == field
    reward = reward_create(actor=manager, name="Mug", points_cost=10, stock=3)
    reward_update(actor=manager, reward=reward, stock=5, is_active=False)
    stored = Reward.objects.get(pk=reward.pk)
    assert (stored.stock, stored.is_active, stored.points_cost) == (5, False, 10)
    with pytest.raises(NotFoundError):
        reward_update(actor=ManagerFactory(tenant=outsider.tenant), reward=reward, stock=1)
