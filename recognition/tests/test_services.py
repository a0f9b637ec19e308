"""Awards, kudos and distributions: figures on success, nothing written on refusal."""

import uuid

import pytest

from perksu.errors import NotFoundError, PermissionDeniedError
from points.tests.books import assert_reconciled, books, lead_budget, ledger, pool, wallet_balance
from recognition.models import Recognition
from recognition.services import recognition_create, recognition_distribute
from tenants.models import Tenant
from tenants.services import tenant_set_status, user_set_active
from tenants.tests.factories import LeadFactory, ManagerFactory, UserFactory
from wallets.models import WalletLedger

# --- award: success ---------------------------------------------------------


@pytest.mark.usefixtures("award_sql")
def test_manager_award_is_paid_by_the_pool(funded_tenant, manager, employee, award):
    result = award(manager, employee, 300, message="Shipped the Q4 release")

    assert (result.points, result.funding_source) == (300, "POOL")
    assert (result.pool_balance_after, result.lead_budget_after) == (49_700, None)
    assert result.wallet_balances_after == {employee.pk: 300}
    assert pool(funded_tenant) == 49_700
    assert wallet_balance(employee) == 300
    assert ledger(employee) == [(1, "CREDIT", "RECOGNITION", 300, 300)]
    recognition = Recognition.objects.get()
    assert (recognition.giver, recognition.receiver, recognition.points, recognition.funding_source) == (
        manager,
        employee,
        300,
        "POOL",
    )
    assert recognition.message == "Shipped the Q4 release"
    assert recognition.group_id == result.group_id
    entry = WalletLedger.objects.get()
    assert (entry.recognition_id, entry.actor_id, entry.pk) == (recognition.pk, manager.pk, result.ledger_entries[0].pk)
    assert_reconciled()


@pytest.mark.usefixtures("award_sql")
def test_lead_award_is_paid_by_the_lead_budget(funded_lead, funded_tenant, employee, award):
    result = award(funded_lead, employee, 250)

    assert (result.funding_source, result.lead_budget_after) == ("LEAD_BUDGET", 9_750)
    assert (lead_budget(funded_lead), pool(funded_tenant), wallet_balance(employee)) == (9_750, 40_000, 250)
    assert Recognition.objects.get().funding_source == "LEAD_BUDGET"
    assert_reconciled()


@pytest.mark.usefixtures("award_sql")
def test_multi_recipient_award_pays_points_times_recipients(funded_tenant, manager, lead, employee, other_employee):
    award_result = recognition_create(
        giver=manager, recipient_ids=[employee.pk, other_employee.pk, lead.pk], points=200, message="Team effort"
    )

    assert pool(funded_tenant) == 50_000 - 600
    assert award_result.pool_balance_after == 49_400
    assert award_result.wallet_balances_after == {employee.pk: 200, other_employee.pk: 200, lead.pk: 200}
    assert [wallet_balance(u) for u in (employee, other_employee, lead)] == [200, 200, 200]
    rows = Recognition.objects.all()
    assert len(rows) == 3 and {r.group_id for r in rows} == {award_result.group_id}
    assert len(award_result.recognitions) == len(award_result.ledger_entries) == 3
    assert WalletLedger.objects.filter(amount=200, entry_no=1, balance_after=200).count() == 3
    assert_reconciled()


@pytest.mark.usefixtures("award_sql")
def test_ledger_numbers_entries_and_carries_the_running_balance(funded_tenant, manager, employee, award):
    for points in (100, 50, 25):
        award(manager, employee, points)
    assert ledger(employee) == [
        (1, "CREDIT", "RECOGNITION", 100, 100),
        (2, "CREDIT", "RECOGNITION", 50, 150),
        (3, "CREDIT", "RECOGNITION", 25, 175),
    ]


@pytest.mark.usefixtures("award_sql")
def test_explicit_funding_source_both_ways(funded_lead, funded_tenant, manager, employee, award):
    from_pool = award(manager, employee, 100, funding_source="POOL")
    from_budget = award(funded_lead, employee, 100, funding_source="LEAD_BUDGET")

    assert (from_pool.funding_source, from_pool.pool_balance_after) == ("POOL", 39_900)
    assert (from_budget.funding_source, from_budget.lead_budget_after) == ("LEAD_BUDGET", 9_900)
    assert (pool(funded_tenant), lead_budget(funded_lead), wallet_balance(employee)) == (39_900, 9_900, 200)
    assert list(Recognition.objects.order_by("created_at").values_list("funding_source", flat=True)) == [
        "POOL",
        "LEAD_BUDGET",
    ]
    assert_reconciled()


@pytest.mark.usefixtures("award_sql")
def test_explicit_lead_budget_that_does_not_cover_is_refused_with_figures(funded_lead, employee, award):
    before = books()
    with pytest.raises(Exception) as caught:
        award(funded_lead, employee, 10_001, funding_source="LEAD_BUDGET")
    assert caught.value.code == "insufficient_balance"
    assert caught.value.message == "Insufficient lead budget. Available: 10000, Required: 10001."
    assert books() == before


@pytest.mark.usefixtures("award_sql")
def test_kudos_moves_nothing(funded_lead, funded_tenant, employee, other_employee, award):
    before = books()
    result = award(employee, other_employee, 0, message="Thanks for the help!")

    assert (result.points, result.funding_source, result.ledger_entries) == (0, "NONE", [])
    assert (result.pool_balance_after, result.lead_budget_after) == (40_000, None)
    after = books()
    assert after["counts"]["Recognition"] == before["counts"]["Recognition"] + 1
    after["counts"]["Recognition"] -= 1
    assert after == before  # no balance, ledger or log moved
    assert Recognition.objects.get().funding_source == "NONE"
    assert_reconciled()


@pytest.mark.usefixtures("award_sql")
def test_a_lead_and_a_manager_can_give_kudos_too(funded_lead, manager, employee, award):
    award(funded_lead, [employee, manager], 0)
    award(manager, employee, 0)
    assert Recognition.objects.filter(points=0).count() == 3
    assert wallet_balance(employee) == 0


# --- award: refusals --------------------------------------------------------


@pytest.mark.usefixtures("award_sql")
@pytest.mark.parametrize("points", [-1, 1.5, True, "10", 10**9 + 1, None])
def test_award_refuses_a_bad_amount(funded_tenant, manager, employee, award, points):
    before = books()
    with pytest.raises(Exception) as caught:
        award(manager, employee, points)
    assert caught.value.code == "invalid_amount"
    assert books() == before


@pytest.mark.usefixtures("award_sql")
def test_award_insufficient_pool_message_and_figures(tenant, allocate, manager, employee, other_employee):
    allocate(tenant, 500)
    before = books()
    with pytest.raises(Exception) as caught:
        recognition_create(giver=manager, recipient_ids=[employee.pk, other_employee.pk], points=500, message="Hi")
    assert caught.value.code == "insufficient_balance"
    assert str(caught.value) == "Insufficient company allocation pool. Available: 500, Required: 1000."
    assert caught.value.extra["available"] == 500 and caught.value.extra["required"] == 1000
    assert books() == before


@pytest.mark.usefixtures("award_sql")
def test_award_insufficient_both_sources_names_both(tenant, allocate, manager, employee, award):
    """A lead promoted to manager keeps its (emptied) budget row: the refusal names both sources."""
    from tenants.services import user_change_role

    allocate(tenant, 500)
    promoted = LeadFactory(tenant=tenant)
    user_change_role(user=promoted, role="tenant_manager")
    before = books()
    with pytest.raises(Exception) as caught:
        award(promoted, employee, 1_000)
    assert caught.value.code == "insufficient_balance"
    assert caught.value.extra == {
        "available": 500,
        "pool_available": 500,
        "lead_budget_available": 0,
        "required": 1_000,
    }
    assert "pool available: 500" in caught.value.message and "lead budget available: 0" in caught.value.message
    assert books() == before


@pytest.mark.usefixtures("award_sql")
def test_lead_award_over_its_budget_is_refused(funded_lead, employee, award):
    before = books()
    with pytest.raises(Exception) as caught:
        award(funded_lead, employee, 10_001)
    assert caught.value.message == "Insufficient lead budget. Available: 10000, Required: 10001."
    assert caught.value.extra == {"available": 10_000, "required": 10_001}
    assert books() == before


@pytest.mark.usefixtures("award_sql")
def test_award_refusals(funded_lead, funded_tenant, manager, employee, other_employee, outsider, platform_admin, award):
    inactive = UserFactory(tenant=funded_tenant)
    user_set_active(user=inactive, is_active=False)
    crowd = [UserFactory(tenant=funded_tenant) for _ in range(51)]
    before = books()
    cases = [
        (manager, [manager.pk], 10, {}, "self_recognition"),
        (employee, [employee.pk], 0, {}, "self_recognition"),
        (manager, [inactive.pk], 10, {}, "inactive_user"),
        (manager, [employee.pk, inactive.pk], 10, {}, "inactive_user"),
        (manager, [outsider.pk], 10, {}, "not_found"),
        (manager, [platform_admin.pk], 10, {}, "not_found"),
        (manager, [uuid.uuid4()], 10, {}, "not_found"),
        (manager, ["nope"], 10, {}, "not_found"),
        (manager, [employee.pk, employee.pk], 10, {}, "duplicate_recipients"),
        (manager, [employee.pk, str(employee.pk)], 10, {}, "duplicate_recipients"),
        (manager, [u.pk for u in crowd], 1, {}, "too_many_recipients"),
        (manager, [], 10, {}, "no_recipients"),
        (employee, [other_employee.pk], 10, {}, "permission_denied"),
        (funded_lead, [employee.pk], 10, {"funding_source": "POOL"}, "permission_denied"),
        (manager, [employee.pk], 10, {"funding_source": "LEAD_BUDGET"}, "no_lead_budget"),
        (manager, [employee.pk], 10, {"funding_source": "BANK"}, "invalid_funding_source"),
        (employee, [other_employee.pk], 0, {"funding_source": "POOL"}, "invalid_funding_source"),
        (manager, [employee.pk], 10, {"message": "   "}, "required"),
        (manager, [employee.pk], 10, {"message": "x" * 2001}, "too_long"),
        (platform_admin, [employee.pk], 10, {}, "permission_denied"),
    ]
    for giver, ids, points, kwargs, code in cases:
        kwargs = {"message": "Well done", **kwargs}
        with pytest.raises(Exception) as caught:
            recognition_create(giver=giver, recipient_ids=ids, points=points, **kwargs)
        assert caught.value.code == code, (giver.email, points, kwargs, caught.value)
    assert books() == before
    assert len(crowd[:50]) == 50
    recognition_create(giver=manager, recipient_ids=[u.pk for u in crowd[:50]], points=1, message="50 is allowed")
    assert pool(funded_tenant) == 40_000 - 50


@pytest.mark.usefixtures("award_sql")
def test_award_over_the_cap_is_refused(funded_tenant, manager, employee, award):
    Tenant.objects.filter(pk=funded_tenant.pk).update(max_award_points=500)
    before = books()
    with pytest.raises(Exception) as caught:
        award(manager, employee, 501)
    assert caught.value.code == "over_award_cap"
    assert caught.value.extra == {"maximum": 500, "required": 501}
    assert books() == before
    assert award(manager, employee, 500).wallet_balances_after == {employee.pk: 500}


@pytest.mark.usefixtures("award_sql")
def test_award_on_a_suspended_tenant_is_refused_even_kudos(funded_lead, funded_tenant, manager, employee, award):
    tenant_set_status(tenant=funded_tenant, status="SUSPENDED")
    before = books()
    for giver, points in ((manager, 10), (funded_lead, 10), (manager, 0)):
        with pytest.raises(Exception) as caught:
            award(giver, employee, points)
        assert caught.value.code == "tenant_suspended"
    assert books() == before


@pytest.mark.usefixtures("award_sql")
def test_a_deactivated_giver_cannot_award(funded_tenant, employee, award):
    manager = ManagerFactory(tenant=funded_tenant)
    user_set_active(user=manager, is_active=False)
    with pytest.raises(PermissionDeniedError):
        award(manager, employee, 10)


# --- distribute -------------------------------------------------------------


@pytest.fixture
def team(funded_tenant, manager, lead, employee, other_employee):
    """The tenant's members besides the manager: one lead and two employees."""
    return [lead, employee, other_employee]


def test_distribute_to_all_members_leaves_the_giver_out(funded_tenant, manager, team):
    result = recognition_distribute(giver=manager, amount_per_user=100, message="Happy Diwali")

    assert (result.recipients, result.amount_per_user, result.total_awarded) == (3, 100, 300)
    assert result.pool_balance_after == pool(funded_tenant) == 49_700
    assert [wallet_balance(u) for u in team] == [100, 100, 100]
    assert wallet_balance(manager) == 0
    rows = Recognition.objects.filter(group_id=result.group_id)
    assert sorted(r.receiver_id for r in rows) == sorted(u.pk for u in team)
    assert {(r.giver_id, r.points, r.funding_source, r.message) for r in rows} == {
        (manager.pk, 100, "POOL", "Happy Diwali")
    }
    for user in team:
        assert ledger(user) == [(1, "CREDIT", "RECOGNITION", 100, 100)]
    assert WalletLedger.objects.filter(recognition__group_id=result.group_id).count() == 3
    assert_reconciled()


def test_distribute_after_other_movements_continues_each_ledger(funded_tenant, manager, team, award):
    award(manager, team[1], 40)
    result = recognition_distribute(giver=manager, amount_per_user=10, message="Again")
    assert result.recipients == 3
    assert ledger(team[1]) == [(1, "CREDIT", "RECOGNITION", 40, 40), (2, "CREDIT", "RECOGNITION", 10, 50)]
    assert_reconciled()


def test_distribute_by_roles(funded_tenant, manager, team, outsider):
    other_manager = ManagerFactory(tenant=funded_tenant)
    result = recognition_distribute(
        giver=manager, amount_per_user=50, message="Leads and managers", roles=["tenant_lead", "tenant_manager"]
    )
    assert (result.recipients, result.total_awarded) == (2, 100)
    assert (wallet_balance(team[0]), wallet_balance(other_manager)) == (50, 50)
    assert (wallet_balance(team[1]), wallet_balance(team[2]), wallet_balance(outsider)) == (0, 0, 0)
    assert_reconciled()


def test_distribute_leaves_deactivated_members_out(funded_tenant, manager, team):
    user_set_active(user=team[2], is_active=False)
    result = recognition_distribute(giver=manager, amount_per_user=100, message="Active only")
    assert result.recipients == 2
    assert (wallet_balance(team[0]), wallet_balance(team[1]), wallet_balance(team[2])) == (100, 100, 0)
    assert pool(funded_tenant) == 49_800


def test_distribute_refusals(funded_tenant, manager, lead, employee, team):
    before = books()
    cases = [
        (lead, 10, {}, "permission_denied"),
        (employee, 10, {}, "permission_denied"),
        (manager, 0, {}, "invalid_amount"),
        (manager, 1.5, {}, "invalid_amount"),
        (manager, 20_000, {}, "insufficient_balance"),
        (manager, 10, {"roles": ["platform_admin"]}, "invalid_role"),
        (manager, 10, {"message": ""}, "required"),
    ]
    for giver, amount, kwargs, code in cases:
        kwargs = {"message": "Bonus", **kwargs}
        with pytest.raises(Exception) as caught:
            recognition_distribute(giver=giver, amount_per_user=amount, **kwargs)
        assert caught.value.code == code, (amount, kwargs)
    assert books() == before


def test_distribute_insufficient_pool_says_the_figures(funded_tenant, manager, team):
    with pytest.raises(Exception) as caught:
        recognition_distribute(giver=manager, amount_per_user=20_000, message="Too generous")
    assert caught.value.message == "Insufficient company allocation pool. Available: 50000, Required: 60000."
    assert caught.value.extra == {"available": 50_000, "required": 60_000}


def _refused(code, **kwargs):
    before = books()
    with pytest.raises(Exception) as caught:
        recognition_distribute(**kwargs)
    assert caught.value.code == code
    assert books() == before


def test_distribute_to_nobody_suspended_or_over_cap(funded_tenant, manager):
    _refused("no_recipients", giver=manager, amount_per_user=10, message="Alone")
    UserFactory(tenant=funded_tenant)
    Tenant.objects.filter(pk=funded_tenant.pk).update(max_award_points=5)
    _refused("over_award_cap", giver=manager, amount_per_user=10, message="Over cap")
    tenant_set_status(tenant=funded_tenant, status="SUSPENDED")
    _refused("tenant_suspended", giver=manager, amount_per_user=1, message="Suspended")


def test_other_tenants_are_untouched_by_a_distribution(funded_tenant, manager, team, outsider, other_tenant, allocate):
    allocate(other_tenant, 1_000)
    recognition_distribute(giver=manager, amount_per_user=5, message="Ours only")
    assert wallet_balance(outsider) == 0
    assert pool(other_tenant) == 1_000
    with pytest.raises(NotFoundError):
        recognition_create(giver=manager, recipient_ids=[outsider.pk], points=5, message="Not ours")
