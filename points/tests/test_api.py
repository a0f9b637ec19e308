"""The seed's money endpoints over HTTP: figures, balances, log rows and every refusal (SPEC §6)."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from points.models import AllocationLog, DelegationLog, PlatformBillingLog
from points.serializers import AwardOutput
from points.services import lead_delegate
from recognition.models import Recognition
from tenants.models import Tenant
from tenants.services import tenant_set_status, user_set_active
from tenants.tests.factories import LeadFactory, UserFactory
from wallets.models import WalletLedger

from .books import books
from .books import lead_budget as budget_of
from .books import pool as pool_of
from .books import wallet_balance as wallet_of

ALLOCATE = "/api/v1/points/allocate-to-tenant"
STATS = "/api/v1/points/tenant-allocation-stats"
DELEGATE = "/api/v1/points/delegate-to-lead"
RECALL = "/api/v1/points/recall-from-lead"
AWARD = "/api/v1/points/award-to-user"
DISTRIBUTE = "/api/v1/points/distribute"


def clawback_path(tenant_id) -> str:
    return f"/api/v1/points/clawback/{tenant_id}"


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


# --- allocate-to-tenant ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [ALLOCATE, ALLOCATE + "/"])
def test_platform_allocates_to_a_tenant_pool(platform_admin, tenant, path):
    response = client_for(platform_admin).post(
        path, {"tenant_id": str(tenant.pk), "amount": 50_000, "reference_note": "Invoice #8842", "currency": "inr"}
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    log = AllocationLog.objects.get()
    billing = PlatformBillingLog.objects.get()
    assert body == {
        "success": True,
        "tenant_id": str(tenant.pk),
        "amount_allocated": 50_000,
        "new_allocation_balance": 50_000,
        "currency": "INR",
        "allocation_log_id": str(log.pk),
        "platform_log_id": str(billing.pk),
    }
    assert pool_of(tenant) == 50_000
    assert (log.kind, log.amount, log.balance_after, log.reference_note, log.actor) == (
        "ALLOCATION",
        50_000,
        50_000,
        "Invoice #8842",
        platform_admin,
    )
    assert (billing.transaction_type, billing.amount, billing.currency, billing.admin) == (
        "CREDIT_INJECTION",
        50_000,
        "INR",
        platform_admin,
    )


def test_allocation_adds_to_the_pool_and_accepts_a_numeric_string(platform_admin, funded_tenant):
    response = client_for(platform_admin).post(ALLOCATE, {"tenant_id": str(funded_tenant.pk), "amount": "2500"})
    assert response.status_code == 200
    assert response.json()["amount_allocated"] == 2_500
    assert response.json()["new_allocation_balance"] == 52_500
    assert pool_of(funded_tenant) == 52_500
    assert AllocationLog.objects.filter(reference_note="").count() == 1


def test_allocation_in_another_currency_is_refused(platform_admin, tenant):
    response = client_for(platform_admin).post(ALLOCATE, {"tenant_id": str(tenant.pk), "amount": 10, "currency": "USD"})
    assert response.status_code == 400
    assert response.json() == {"detail": "This tenant is billed in INR, not USD.", "code": "currency_mismatch"}
    assert pool_of(tenant) == 0
    assert AllocationLog.objects.count() == 0


def test_allocation_to_an_unknown_tenant_is_404(platform_admin, tenant):
    response = client_for(platform_admin).post(ALLOCATE, {"tenant_id": str(uuid.uuid4()), "amount": 10})
    assert response.status_code == 404
    assert response.json() == {"detail": "Tenant not found.", "code": "not_found"}
    assert AllocationLog.objects.count() == 0


@pytest.mark.parametrize("who", ["manager", "lead", "employee", "outsider"])
def test_only_the_platform_allocates(request, tenant, who):
    user = request.getfixturevalue(who)
    before = books()
    response = client_for(user).post(ALLOCATE, {"tenant_id": str(tenant.pk), "amount": 10})
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert books() == before


def test_anonymous_clients_get_401_on_every_money_endpoint(tenant):
    for path in (ALLOCATE, DELEGATE, RECALL, AWARD, DISTRIBUTE, clawback_path(tenant.pk)):
        response = client_for(None).post(path, {"amount": 1})
        assert response.status_code == 401, path
        assert response.json()["code"] == "not_authenticated"
    assert client_for(None).get(STATS).status_code == 401


# --- tenant-allocation-stats ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["manager", "lead"])
def test_members_see_their_pool_card(request, funded_lead, employee, award, manager, who):
    award(manager, employee, 1_000)
    user = request.getfixturevalue(who)
    response = client_for(user).get(STATS, {"tenant_id": str(uuid.uuid4())})  # ignored for members
    assert response.status_code == 200
    tenant = user.tenant
    assert response.json() == {
        "tenant_id": str(tenant.pk),
        "tenant_name": "Triton Energy",
        "points_allocation_balance": 39_000,
        "currency": "INR",
        "currency_label": "Points",
        "status": "ACTIVE",
        "balance_status": "ready",
        "message": "Ready to distribute. You have 39,000 points available.",
        "low_balance_threshold": 100,
        "delegated_outstanding": 10_000,
        "wallets_outstanding": 1_000,
    }


def test_platform_names_the_tenant_for_the_pool_card(platform_admin, tenant, other_tenant):
    client = client_for(platform_admin)
    response = client.get(STATS + "/", {"tenant_id": str(tenant.pk)})
    assert response.status_code == 200
    assert response.json()["tenant_id"] == str(tenant.pk)
    assert response.json()["balance_status"] == "empty"
    assert response.json()["message"] == (
        "No points in the company pool. Contact the platform team to allocate points."
    )
    assert client.get(STATS).json() == {"tenant_id": ["Platform admins name the tenant: ?tenant_id=…"]}
    assert client.get(STATS).status_code == 400
    assert client.get(STATS, {"tenant_id": str(uuid.uuid4())}).status_code == 404
    assert client.get(STATS, {"tenant_id": "nope"}).status_code == 400


def test_low_pool_says_so(platform_admin, tenant, allocate):
    allocate(tenant, 40)
    body = client_for(platform_admin).get(STATS, {"tenant_id": str(tenant.pk)}).json()
    assert body["balance_status"] == "low"
    assert body["points_allocation_balance"] == 40
    assert "Low balance" in body["message"]


def test_employees_do_not_see_the_pool_card(employee):
    response = client_for(employee).get(STATS)
    assert response.status_code == 403
    assert response.json() == {"detail": "Your role may not do this.", "code": "permission_denied"}


# --- delegate-to-lead / recall-from-lead ---------------------------------------------------------------------------


def test_manager_delegates_to_a_lead(manager, lead, funded_tenant):
    response = client_for(manager).post(
        DELEGATE, {"lead_id": str(lead.pk), "amount": 10_000, "delegation_note": "Q4 budget"}
    )
    assert response.status_code == 200
    log = DelegationLog.objects.get()
    assert response.json() == {
        "success": True,
        "tenant_id": str(funded_tenant.pk),
        "lead_id": str(lead.pk),
        "amount_delegated": 10_000,
        "lead_new_balance": 10_000,
        "tenant_remaining_balance": 40_000,
        "delegation_log_id": str(log.pk),
    }
    assert (pool_of(funded_tenant), budget_of(lead)) == (40_000, 10_000)
    assert (log.kind, log.amount, log.pool_balance_after, log.lead_balance_after, log.note, log.actor) == (
        "DELEGATION",
        10_000,
        40_000,
        10_000,
        "Q4 budget",
        manager,
    )


def test_delegating_more_than_the_pool_is_refused_with_the_figures(manager, lead, funded_tenant):
    before = books()
    response = client_for(manager).post(DELEGATE, {"lead_id": str(lead.pk), "amount": 50_001})
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Insufficient company allocation pool. Available: 50000, Required: 50001.",
        "code": "insufficient_balance",
        "available": 50_000,
        "required": 50_001,
    }
    assert books() == before


def test_delegation_refusals(manager, lead, employee, outsider, funded_tenant, other_tenant):
    client = client_for(manager)
    other_lead = LeadFactory(tenant=other_tenant)
    before = books()
    for lead_id in (other_lead.pk, outsider.pk, uuid.uuid4()):
        response = client.post(DELEGATE, {"lead_id": str(lead_id), "amount": 10})
        assert response.status_code == 404
        assert response.json() == {"detail": "Lead not found.", "code": "not_found"}
    response = client.post(DELEGATE, {"lead_id": str(employee.pk), "amount": 10})
    assert response.status_code == 400
    assert response.json() == {"detail": "Asha Employee is not a lead.", "code": "not_a_lead"}
    assert books() == before
    user_set_active(user=lead, is_active=False)
    before = books()  # the deactivation is setup; the refusal below must change nothing more
    response = client.post(DELEGATE, {"lead_id": str(lead.pk), "amount": 10})
    assert response.status_code == 400
    assert response.json()["code"] == "inactive_user"
    assert books() == before


def test_a_suspended_tenant_moves_no_points(manager, lead, employee, funded_lead):
    tenant_set_status(tenant=manager.tenant, status="SUSPENDED")
    before = books()
    client = client_for(manager)
    for path, body in (
        (DELEGATE, {"lead_id": str(lead.pk), "amount": 10}),
        (AWARD, {"to_user_id": str(employee.pk), "amount": 10, "recognition_message": "Thanks"}),
        (DISTRIBUTE, {"amount_per_user": 10, "recognition_message": "Thanks"}),
    ):
        response = client.post(path, body)
        assert response.status_code == 400, path
        assert response.json() == {
            "detail": "This tenant is suspended: no points can be moved.",
            "code": "tenant_suspended",
        }
    response = client_for(lead).post(AWARD, {"to_user_id": str(employee.pk), "amount": 10, "recognition_message": "x"})
    assert response.json()["code"] == "tenant_suspended"
    assert books() == before


@pytest.mark.parametrize("path", [DELEGATE, RECALL, DISTRIBUTE])
@pytest.mark.parametrize("who", ["lead", "employee", "platform_admin", "outsider"])
def test_only_managers_delegate_recall_and_distribute(request, funded_lead, path, who):
    user = request.getfixturevalue(who)
    before = books()
    body = {"lead_id": str(funded_lead.pk), "amount": 10, "amount_per_user": 10, "recognition_message": "x"}
    response = client_for(user).post(path, body)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert books() == before


def test_manager_recalls_part_of_a_budget(manager, funded_lead):
    response = client_for(manager).post(RECALL, {"lead_id": str(funded_lead.pk), "amount": 4_000, "note": "Q4 end"})
    assert response.status_code == 200
    log = DelegationLog.objects.get(kind="RECALL")
    assert response.json() == {
        "success": True,
        "tenant_id": str(manager.tenant_id),
        "lead_id": str(funded_lead.pk),
        "amount_recalled": 4_000,
        "lead_new_balance": 6_000,
        "tenant_remaining_balance": 44_000,
        "delegation_log_id": str(log.pk),
    }
    assert (budget_of(funded_lead), pool_of(manager.tenant)) == (6_000, 44_000)
    assert (log.amount, log.pool_balance_after, log.lead_balance_after, log.note) == (4_000, 44_000, 6_000, "Q4 end")


def test_recall_without_an_amount_takes_the_whole_budget(manager, funded_lead):
    response = client_for(manager).post(RECALL + "/", {"lead_id": str(funded_lead.pk)})
    assert response.status_code == 200
    assert response.json()["amount_recalled"] == 10_000
    assert response.json()["lead_new_balance"] == 0
    assert response.json()["tenant_remaining_balance"] == 50_000
    assert (budget_of(funded_lead), pool_of(manager.tenant)) == (0, 50_000)
    # Nothing left: a second recall of "all of it" is refused with the figures.
    response = client_for(manager).post(RECALL, {"lead_id": str(funded_lead.pk)})
    assert response.status_code == 400
    assert response.json()["code"] == "insufficient_balance"
    assert (response.json()["available"], response.json()["required"]) == (0, 1)


def test_recall_refusals(manager, funded_lead, employee, other_tenant):
    client = client_for(manager)
    other_lead = LeadFactory(tenant=other_tenant)
    before = books()
    response = client.post(RECALL, {"lead_id": str(funded_lead.pk), "amount": 10_001})
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Insufficient lead budget. Available: 10000, Required: 10001.",
        "code": "insufficient_balance",
        "available": 10_000,
        "required": 10_001,
    }
    for lead_id in (other_lead.pk, uuid.uuid4()):
        response = client.post(RECALL, {"lead_id": str(lead_id), "amount": 1})
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    response = client.post(RECALL, {"lead_id": str(employee.pk), "amount": 1})
    assert response.status_code == 400
    assert response.json()["code"] == "no_lead_budget"
    assert books() == before


# --- award-to-user -------------------------------------------------------------------------------------------------


def test_manager_awards_from_the_pool(manager, employee, funded_tenant):
    response = client_for(manager).post(
        AWARD, {"to_user_id": str(employee.pk), "amount": 1_000, "recognition_message": "Shipped the release"}
    )
    assert response.status_code == 200
    recognition = Recognition.objects.get()
    entry = WalletLedger.objects.get()
    assert response.json() == {
        "success": True,
        "tenant_id": str(funded_tenant.pk),
        "to_user_id": str(employee.pk),
        "amount_awarded": 1_000,
        "recipient_new_wallet_balance": 1_000,
        "tenant_remaining_pool": 49_000,
        "lead_remaining_budget": None,
        "funding_source": "POOL",
        "recognition_id": str(recognition.pk),
        "ledger_entry_id": str(entry.pk),
    }
    # The view answers without AwardOutput: the body is exactly what the schema's serializer gives.
    assert dict(AwardOutput(response.json()).data) == response.json()
    assert (pool_of(funded_tenant), wallet_of(employee)) == (49_000, 1_000)
    assert (recognition.giver, recognition.receiver, recognition.points, recognition.message) == (
        manager,
        employee,
        1_000,
        "Shipped the release",
    )
    assert (entry.entry_type, entry.source, entry.amount, entry.balance_after, entry.recognition) == (
        "CREDIT",
        "RECOGNITION",
        1_000,
        1_000,
        recognition,
    )


def test_lead_awards_from_its_budget(funded_lead, employee):
    response = client_for(funded_lead).post(
        AWARD, {"to_user_id": str(employee.pk), "amount": "250", "recognition_message": "On-call hero"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["funding_source"] == "LEAD_BUDGET"
    assert body["amount_awarded"] == 250
    assert body["recipient_new_wallet_balance"] == 250
    assert body["lead_remaining_budget"] == 9_750
    assert body["tenant_remaining_pool"] == 40_000
    assert (budget_of(funded_lead), pool_of(funded_lead.tenant), wallet_of(employee)) == (9_750, 40_000, 250)


def test_manager_can_name_the_funding_source(manager, lead, employee, funded_tenant):
    # A manager has no lead budget: naming it is refused; naming the pool works (any case).
    client = client_for(manager)
    body = {"to_user_id": str(employee.pk), "amount": 10, "recognition_message": "x"}
    response = client.post(AWARD, {**body, "funding_source": "LEAD_BUDGET"})
    assert response.status_code == 400
    assert response.json() == {"detail": "You have no lead budget.", "code": "no_lead_budget"}
    response = client.post(AWARD, {**body, "funding_source": "pool"})
    assert response.status_code == 200
    assert response.json()["funding_source"] == "POOL"
    response = client.post(AWARD, {**body, "funding_source": "NONE"})
    assert response.status_code == 400
    assert "funding_source" in response.json()


def test_a_lead_cannot_award_from_the_pool(funded_lead, employee):
    before = books()
    response = client_for(funded_lead).post(
        AWARD, {"to_user_id": str(employee.pk), "amount": 10, "recognition_message": "x", "funding_source": "POOL"}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert books() == before


def test_award_refusals(manager, lead, employee, outsider, funded_tenant):
    client = client_for(manager)
    before = books()

    def award_to(user_id, amount=100):
        return client.post(AWARD, {"to_user_id": str(user_id), "amount": amount, "recognition_message": "x"})

    response = award_to(manager.pk)
    assert (response.status_code, response.json()["code"]) == (400, "self_recognition")
    for user_id in (outsider.pk, uuid.uuid4()):
        response = award_to(user_id)
        assert response.status_code == 404
        assert response.json() == {"detail": "Recipient not found.", "code": "not_found"}
    response = award_to(employee.pk, amount=50_001)
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Insufficient company allocation pool. Available: 50000, Required: 50001.",
        "code": "insufficient_balance",
        "available": 50_000,
        "required": 50_001,
    }
    assert books() == before
    user_set_active(user=employee, is_active=False)
    before = books()  # the deactivation is setup; the refusals below must change nothing more
    response = award_to(employee.pk)
    assert (response.status_code, response.json()["code"]) == (400, "inactive_user")
    Tenant.objects.filter(pk=funded_tenant.pk).update(max_award_points=50)
    response = award_to(lead.pk, amount=51)
    assert response.status_code == 400
    assert response.json()["code"] == "over_award_cap"
    assert (response.json()["maximum"], response.json()["required"]) == (50, 51)
    assert books() == before


def test_a_lead_without_enough_budget_is_refused_with_the_figures(lead, employee, funded_tenant):
    response = client_for(lead).post(AWARD, {"to_user_id": str(employee.pk), "amount": 1, "recognition_message": "x"})
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Insufficient lead budget. Available: 0, Required: 1.",
        "code": "insufficient_balance",
        "available": 0,
        "required": 1,
    }


@pytest.mark.parametrize("who", ["employee", "platform_admin", "outsider"])
def test_employees_and_the_platform_do_not_award(request, funded_tenant, other_employee, who):
    user = request.getfixturevalue(who)
    before = books()
    response = client_for(user).post(
        AWARD, {"to_user_id": str(other_employee.pk), "amount": 10, "recognition_message": "x"}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert books() == before


# --- distribute ----------------------------------------------------------------------------------------------------


def test_manager_distributes_to_every_active_member_but_itself(manager, lead, employee, other_employee, funded_tenant):
    inactive = UserFactory(tenant=funded_tenant)
    user_set_active(user=inactive, is_active=False)
    response = client_for(manager).post(DISTRIBUTE, {"amount_per_user": 100, "recognition_message": "Happy Diwali"})
    assert response.status_code == 200
    body = response.json()
    group_id = body.pop("group_id")
    assert body == {
        "success": True,
        "tenant_id": str(funded_tenant.pk),
        "recipients": 3,
        "amount_per_user": 100,
        "total_awarded": 300,
        "tenant_remaining_pool": 49_700,
    }
    assert pool_of(funded_tenant) == 49_700
    assert [wallet_of(u) for u in (manager, lead, employee, other_employee, inactive)] == [0, 100, 100, 100, 0]
    rows = Recognition.objects.filter(group_id=group_id)
    assert sorted(rows.values_list("receiver_id", flat=True)) == sorted([lead.pk, employee.pk, other_employee.pk])
    assert WalletLedger.objects.filter(recognition__group_id=group_id, amount=100).count() == 3


def test_distribute_to_some_roles_only(manager, lead, employee, other_employee, funded_tenant):
    response = client_for(manager).post(
        DISTRIBUTE, {"amount_per_user": "50", "recognition_message": "Leads day", "roles": ["tenant_lead"]}
    )
    assert response.status_code == 200
    assert (response.json()["recipients"], response.json()["total_awarded"]) == (1, 50)
    assert [wallet_of(u) for u in (lead, employee, other_employee)] == [50, 0, 0]


def test_distribute_more_than_the_pool_is_refused(manager, lead, employee, funded_tenant):
    before = books()
    response = client_for(manager).post(DISTRIBUTE, {"amount_per_user": 25_001, "recognition_message": "x"})
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Insufficient company allocation pool. Available: 50000, Required: 50002.",
        "code": "insufficient_balance",
        "available": 50_000,
        "required": 50_002,
    }
    assert books() == before


# --- clawback ------------------------------------------------------------------------------------------------------


def test_platform_claws_back_part_of_a_pool(platform_admin, funded_lead):
    tenant = funded_lead.tenant
    response = client_for(platform_admin).post(clawback_path(tenant.pk), {"reason": "Contract ended", "amount": 15_000})
    assert response.status_code == 200
    log = AllocationLog.objects.get(kind="CLAWBACK")
    billing = PlatformBillingLog.objects.get(transaction_type="CLAWBACK")
    assert response.json() == {
        "success": True,
        "tenant_id": str(tenant.pk),
        "amount_clawed_back": 15_000,
        "new_balance": 25_000,
        "platform_log_id": str(billing.pk),
        "allocation_log_id": str(log.pk),
        "reason": "Contract ended",
    }
    assert (pool_of(tenant), budget_of(funded_lead)) == (25_000, 10_000)  # budgets are never clawed back
    assert (log.amount, log.balance_after, log.reference_note, billing.amount, billing.admin) == (
        15_000,
        25_000,
        "Contract ended",
        15_000,
        platform_admin,
    )


def test_clawback_without_an_amount_takes_the_whole_pool(platform_admin, funded_lead):
    tenant = funded_lead.tenant
    response = client_for(platform_admin).post(clawback_path(tenant.pk) + "/", {"reason": "Closing"})
    assert response.status_code == 200
    assert (response.json()["amount_clawed_back"], response.json()["new_balance"]) == (40_000, 0)
    assert (pool_of(tenant), budget_of(funded_lead)) == (0, 10_000)


def test_clawback_refusals(platform_admin, funded_tenant, manager):
    client = client_for(platform_admin)
    before = books()
    response = client.post(clawback_path(funded_tenant.pk), {"reason": "x", "amount": 50_001})
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Insufficient company allocation pool. Available: 50000, Required: 50001.",
        "code": "insufficient_balance",
        "available": 50_000,
        "required": 50_001,
    }
    for tenant_id in (uuid.uuid4(), "not-a-uuid"):
        response = client.post(clawback_path(tenant_id), {"reason": "x"})
        assert response.status_code == 404
        assert response.json() == {"detail": "Tenant not found.", "code": "not_found"}
    response = client.post(clawback_path(funded_tenant.pk), {"amount": 1})
    assert response.status_code == 400
    assert response.json() == {"reason": ["This field is required."]}
    response = client.post(clawback_path(funded_tenant.pk), {"reason": "   ", "amount": 1})
    assert response.status_code == 400
    assert response.json() == {"reason": ["This field may not be blank."]}
    response = client_for(manager).post(clawback_path(funded_tenant.pk), {"reason": "x"})
    assert response.status_code == 403
    assert books() == before


def test_clawback_of_an_empty_pool_is_refused(platform_admin, tenant):
    response = client_for(platform_admin).post(clawback_path(tenant.pk), {"reason": "x"})
    assert response.status_code == 400
    assert response.json()["code"] == "insufficient_balance"
    assert (response.json()["available"], response.json()["required"]) == (0, 1)
    assert AllocationLog.objects.count() == 0


def test_clawback_works_on_a_suspended_tenant(platform_admin, funded_tenant):
    tenant_set_status(tenant=funded_tenant, status="SUSPENDED")
    response = client_for(platform_admin).post(clawback_path(funded_tenant.pk), {"reason": "Suspended account"})
    assert response.status_code == 200
    assert response.json()["amount_clawed_back"] == 50_000
    assert pool_of(funded_tenant) == 0


def test_delegation_then_award_keeps_another_tenant_untouched(manager, lead, employee, outsider, allocate, tenant):
    """The other tenant's books do not move when this tenant's endpoints run."""
    allocate(tenant, 1_000)
    allocate(outsider.tenant, 1_000)
    lead_delegate(actor=manager, lead_id=lead.pk, amount=500)
    client_for(lead).post(AWARD, {"to_user_id": str(employee.pk), "amount": 100, "recognition_message": "x"})
    assert pool_of(outsider.tenant) == 1_000
    assert wallet_of(outsider) == 0


def test_a_suspended_tenants_budgets_can_still_be_recalled_and_clawed_back(platform_admin, manager, funded_lead):
    """Suspension stops spending, not unwinding: the manager recalls the budget, the platform claws it all back."""
    tenant = funded_lead.tenant
    tenant_set_status(tenant=tenant, status="SUSPENDED")
    response = client_for(manager).post(RECALL, {"lead_id": str(funded_lead.pk)})
    assert response.status_code == 200
    assert (response.json()["amount_recalled"], response.json()["tenant_remaining_balance"]) == (10_000, 50_000)
    response = client_for(platform_admin).post(clawback_path(tenant.pk), {"reason": "Account closed"})
    assert response.status_code == 200
    assert response.json()["amount_clawed_back"] == 50_000
    assert (pool_of(tenant), budget_of(funded_lead)) == (0, 0)
