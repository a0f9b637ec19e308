"""Platform ↔ pool and pool ↔ lead budget movements: figures on success, nothing written on refusal."""

import uuid

import pytest

from perksu.errors import NotFoundError, PermissionDeniedError
from points.models import AllocationLog, DelegationLog, PlatformBillingLog
from points.services import lead_delegate, lead_recall, tenant_allocate, tenant_clawback
from tenants.services import tenant_set_status
from tenants.tests.factories import LeadFactory, ManagerFactory

from .books import assert_reconciled, books, lead_budget, pool, wallet_balance

BAD_AMOUNTS = [0, -1, 1.5, True, "10", 10**9 + 1, None]
BAD_AMOUNT_IDS = ["zero", "negative", "fraction", "bool", "string", "over-max", "none"]


# --- allocate ---------------------------------------------------------------


def test_allocate_credits_the_pool_and_writes_both_logs(tenant, platform_admin):
    result = tenant_allocate(actor=platform_admin, tenant_id=tenant.pk, amount=50_000, reference_note=" Invoice #8842 ")
    again = tenant_allocate(actor=platform_admin, tenant_id=str(tenant.pk), amount=2_500, currency="inr")

    assert (result.amount, result.balance_after, result.currency) == (50_000, 50_000, "INR")
    assert (again.amount, again.balance_after) == (2_500, 52_500)
    assert pool(tenant) == 52_500
    log = AllocationLog.objects.get(pk=result.allocation_log.pk)
    assert (log.kind, log.amount, log.balance_after, log.reference_note, log.actor) == (
        "ALLOCATION",
        50_000,
        50_000,
        "Invoice #8842",
        platform_admin,
    )
    billing = PlatformBillingLog.objects.get(pk=result.billing_log.pk)
    assert (billing.transaction_type, billing.amount, billing.currency, billing.allocation_log_id, billing.admin) == (
        "CREDIT_INJECTION",
        50_000,
        "INR",
        log.pk,
        platform_admin,
    )
    assert AllocationLog.objects.count() == PlatformBillingLog.objects.count() == 2
    assert_reconciled()


def test_a_suspended_tenant_can_still_be_allocated(tenant, platform_admin):
    tenant_set_status(tenant=tenant, status="SUSPENDED")
    assert tenant_allocate(actor=platform_admin, tenant_id=tenant.pk, amount=10).balance_after == 10


@pytest.mark.parametrize("amount", BAD_AMOUNTS, ids=BAD_AMOUNT_IDS)
def test_allocate_refuses_a_bad_amount(tenant, platform_admin, amount):
    before = books()
    with pytest.raises(Exception) as caught:
        tenant_allocate(actor=platform_admin, tenant_id=tenant.pk, amount=amount)
    assert caught.value.code == "invalid_amount"
    assert books() == before


@pytest.mark.parametrize(
    ("tenant_id", "who", "error", "code"),
    [
        ("unknown", "admin", NotFoundError, "not_found"),
        ("malformed", "admin", NotFoundError, "not_found"),
        ("tenant", "manager", PermissionDeniedError, "permission_denied"),
        ("tenant", "employee", PermissionDeniedError, "permission_denied"),
        ("tenant", "inactive_admin", PermissionDeniedError, "permission_denied"),
    ],
)
def test_allocate_refusals(tenant, platform_admin, manager, employee, tenant_id, who, error, code):
    actor = {"admin": platform_admin, "manager": manager, "employee": employee}.get(who, platform_admin)
    if who == "inactive_admin":
        platform_admin.is_active = False
    target = {"unknown": uuid.uuid4(), "malformed": "not-a-uuid", "tenant": tenant.pk}[tenant_id]
    before = books()
    with pytest.raises(error) as caught:
        tenant_allocate(actor=actor, tenant_id=target, amount=100)
    assert caught.value.code == code
    assert books() == before


def test_allocate_refuses_another_currency(tenant, platform_admin):
    before = books()
    with pytest.raises(Exception) as caught:
        tenant_allocate(actor=platform_admin, tenant_id=tenant.pk, amount=100, currency="USD")
    assert caught.value.code == "currency_mismatch"
    assert books() == before


def test_allocate_refuses_a_note_over_500_characters(tenant, platform_admin):
    before = books()
    with pytest.raises(Exception) as caught:
        tenant_allocate(actor=platform_admin, tenant_id=tenant.pk, amount=100, reference_note="x" * 501)
    assert caught.value.code == "too_long"
    assert books() == before


# --- clawback ---------------------------------------------------------------


def test_clawback_takes_an_explicit_amount_and_logs_it(funded_tenant, platform_admin):
    result = tenant_clawback(actor=platform_admin, tenant_id=funded_tenant.pk, amount=12_000, reason="Invoice voided")

    assert (result.amount, result.balance_after) == (12_000, 38_000)
    assert pool(funded_tenant) == 38_000
    log = AllocationLog.objects.get(pk=result.allocation_log.pk)
    assert (log.kind, log.amount, log.balance_after, log.reference_note) == (
        "CLAWBACK",
        12_000,
        38_000,
        "Invoice voided",
    )
    assert result.billing_log.transaction_type == "CLAWBACK"
    assert PlatformBillingLog.objects.get(pk=result.billing_log.pk).amount == 12_000
    assert_reconciled()


def test_clawback_defaults_to_the_whole_pool_and_never_touches_budgets_or_wallets(
    funded_lead, funded_tenant, manager, employee, platform_admin, award
):
    award(funded_lead, employee, 300)
    result = tenant_clawback(actor=platform_admin, tenant_id=funded_tenant.pk, reason="Contract ended")

    assert (result.amount, result.balance_after) == (40_000, 0)
    assert pool(funded_tenant) == 0
    assert lead_budget(funded_lead) == 9_700
    assert wallet_balance(employee) == 300
    assert_reconciled()


def test_clawback_works_on_a_suspended_tenant(funded_tenant, platform_admin):
    tenant_set_status(tenant=funded_tenant, status="SUSPENDED")
    assert tenant_clawback(actor=platform_admin, tenant_id=funded_tenant.pk, reason="Closing").amount == 50_000


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"amount": 50_001, "reason": "Too much"}, "insufficient_balance"),
        ({"amount": 100, "reason": "   "}, "required"),
        ({"amount": 100, "reason": ""}, "required"),
        ({"amount": 0, "reason": "Zero"}, "invalid_amount"),
        ({"amount": 1.5, "reason": "Fraction"}, "invalid_amount"),
        ({"amount": True, "reason": "Bool"}, "invalid_amount"),
    ],
)
def test_clawback_refusals(funded_tenant, platform_admin, kwargs, code):
    before = books()
    with pytest.raises(Exception) as caught:
        tenant_clawback(actor=platform_admin, tenant_id=funded_tenant.pk, **kwargs)
    assert caught.value.code == code
    assert books() == before


def test_clawback_over_the_pool_says_available_and_required(funded_tenant, platform_admin):
    with pytest.raises(Exception) as caught:
        tenant_clawback(actor=platform_admin, tenant_id=funded_tenant.pk, amount=60_000, reason="x")
    assert caught.value.message == "Insufficient company allocation pool. Available: 50000, Required: 60000."
    assert caught.value.extra == {"available": 50_000, "required": 60_000}


def test_clawback_of_an_empty_pool_is_refused(tenant, platform_admin):
    before = books()
    with pytest.raises(Exception) as caught:
        tenant_clawback(actor=platform_admin, tenant_id=tenant.pk, reason="Nothing there")
    assert caught.value.code == "insufficient_balance"
    assert caught.value.extra == {"available": 0, "required": 1}
    assert books() == before


def test_clawback_refuses_a_manager_and_an_unknown_tenant(funded_tenant, platform_admin, manager):
    before = books()
    with pytest.raises(PermissionDeniedError):
        tenant_clawback(actor=manager, tenant_id=funded_tenant.pk, reason="Mine")
    with pytest.raises(NotFoundError):
        tenant_clawback(actor=platform_admin, tenant_id=uuid.uuid4(), reason="Nobody")
    assert books() == before


# --- delegate ---------------------------------------------------------------


def test_delegate_moves_pool_to_the_lead_budget(funded_tenant, manager, lead):
    first = lead_delegate(actor=manager, lead_id=lead.pk, amount=10_000, note="Q4 budget")
    second = lead_delegate(actor=manager, lead_id=str(lead.pk), amount=2_500)

    assert (first.amount, first.lead_balance_after, first.pool_balance_after) == (10_000, 10_000, 40_000)
    assert (second.lead_balance_after, second.pool_balance_after) == (12_500, 37_500)
    assert (pool(funded_tenant), lead_budget(lead)) == (37_500, 12_500)
    logs = list(
        DelegationLog.objects.order_by("created_at").values_list(
            "kind", "amount", "pool_balance_after", "lead_balance_after", "note", "actor_id", "lead_id"
        )
    )
    assert logs == [
        ("DELEGATION", 10_000, 40_000, 10_000, "Q4 budget", manager.pk, lead.pk),
        ("DELEGATION", 2_500, 37_500, 12_500, "", manager.pk, lead.pk),
    ]
    assert_reconciled()


@pytest.mark.parametrize("amount", BAD_AMOUNTS, ids=BAD_AMOUNT_IDS)
def test_delegate_refuses_a_bad_amount(funded_tenant, manager, lead, amount):
    before = books()
    with pytest.raises(Exception) as caught:
        lead_delegate(actor=manager, lead_id=lead.pk, amount=amount)
    assert caught.value.code == "invalid_amount"
    assert books() == before


def test_delegate_refuses_more_than_the_pool_with_the_figures(funded_tenant, manager, lead):
    before = books()
    with pytest.raises(Exception) as caught:
        lead_delegate(actor=manager, lead_id=lead.pk, amount=50_001)
    assert caught.value.code == "insufficient_balance"
    assert caught.value.message == "Insufficient company allocation pool. Available: 50000, Required: 50001."
    assert caught.value.extra == {"available": 50_000, "required": 50_001}
    assert books() == before


def test_delegate_refusals_by_target_and_role(
    funded_tenant, manager, lead, employee, outsider, other_tenant, platform_admin
):
    other_lead = LeadFactory(tenant=other_tenant)
    inactive_lead = LeadFactory(tenant=funded_tenant, is_active=False)
    before = books()
    cases = [
        (manager, employee.pk, "not_a_lead"),
        (manager, manager.pk, "not_a_lead"),
        (manager, other_lead.pk, "not_found"),
        (manager, outsider.pk, "not_found"),
        (manager, uuid.uuid4(), "not_found"),
        (manager, "garbage", "not_found"),
        (manager, inactive_lead.pk, "inactive_user"),
        (lead, lead.pk, "permission_denied"),
        (employee, lead.pk, "permission_denied"),
        (platform_admin, lead.pk, "permission_denied"),
    ]
    for actor, lead_id, code in cases:
        with pytest.raises(Exception) as caught:
            lead_delegate(actor=actor, lead_id=lead_id, amount=100)
        assert caught.value.code == code, (actor, lead_id)
    assert books() == before


def test_delegate_refuses_on_a_suspended_tenant(funded_tenant, manager, lead):
    tenant_set_status(tenant=funded_tenant, status="SUSPENDED")
    before = books()
    with pytest.raises(Exception) as caught:
        lead_delegate(actor=manager, lead_id=lead.pk, amount=100)
    assert caught.value.code == "tenant_suspended"
    assert books() == before


def test_a_deactivated_manager_cannot_delegate(funded_tenant, lead):
    manager = ManagerFactory(tenant=funded_tenant, is_active=False)
    before = books()
    with pytest.raises(PermissionDeniedError):
        lead_delegate(actor=manager, lead_id=lead.pk, amount=100)
    assert books() == before


# --- recall -----------------------------------------------------------------


def test_recall_an_explicit_amount(funded_lead, funded_tenant, manager):
    result = lead_recall(actor=manager, lead_id=funded_lead.pk, amount=4_000, note="Reorg")

    assert (result.amount, result.lead_balance_after, result.pool_balance_after) == (4_000, 6_000, 44_000)
    assert (pool(funded_tenant), lead_budget(funded_lead)) == (44_000, 6_000)
    log = DelegationLog.objects.get(pk=result.log.pk)
    assert (log.kind, log.amount, log.pool_balance_after, log.lead_balance_after, log.note) == (
        "RECALL",
        4_000,
        44_000,
        6_000,
        "Reorg",
    )
    assert_reconciled()


def test_recall_defaults_to_the_whole_budget(funded_lead, funded_tenant, manager, employee, award):
    award(funded_lead, employee, 1_000)
    result = lead_recall(actor=manager, lead_id=funded_lead.pk)

    assert (result.amount, result.lead_balance_after, result.pool_balance_after) == (9_000, 0, 49_000)
    assert (pool(funded_tenant), lead_budget(funded_lead)) == (49_000, 0)
    assert_reconciled()


def test_recall_is_allowed_on_a_suspended_tenant(funded_lead, funded_tenant, manager):
    """Recall moves points back to the company pool; it is not spending (a decision the SPEC leaves open)."""
    tenant_set_status(tenant=funded_tenant, status="SUSPENDED")
    assert lead_recall(actor=manager, lead_id=funded_lead.pk).pool_balance_after == 50_000


def test_recall_refusals(funded_lead, funded_tenant, manager, employee, outsider):
    before = books()
    cases = [
        ({"amount": 10_001}, funded_lead.pk, manager, "insufficient_balance"),
        ({"amount": 0}, funded_lead.pk, manager, "invalid_amount"),
        ({"amount": -5}, funded_lead.pk, manager, "invalid_amount"),
        ({"amount": "5"}, funded_lead.pk, manager, "invalid_amount"),
        ({}, employee.pk, manager, "no_lead_budget"),
        ({}, outsider.pk, manager, "not_found"),
        ({}, uuid.uuid4(), manager, "not_found"),
        ({}, funded_lead.pk, funded_lead, "permission_denied"),
        ({}, funded_lead.pk, employee, "permission_denied"),
    ]
    for kwargs, lead_id, actor, code in cases:
        with pytest.raises(Exception) as caught:
            lead_recall(actor=actor, lead_id=lead_id, **kwargs)
        assert caught.value.code == code, (kwargs, code)
    assert books() == before


def test_recall_over_the_budget_says_available_and_required(funded_lead, manager):
    with pytest.raises(Exception) as caught:
        lead_recall(actor=manager, lead_id=funded_lead.pk, amount=10_001)
    assert caught.value.message == "Insufficient lead budget. Available: 10000, Required: 10001."
    assert caught.value.extra == {"available": 10_000, "required": 10_001}


def test_recall_of_an_empty_budget_is_refused(funded_tenant, manager, lead):
    before = books()
    with pytest.raises(Exception) as caught:
        lead_recall(actor=manager, lead_id=lead.pk)
    assert caught.value.code == "insufficient_balance"
    assert caught.value.extra == {"available": 0, "required": 1}
    assert books() == before
