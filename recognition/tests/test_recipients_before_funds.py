"""Another tenant's member answers exactly like a missing one, whatever the giver's balances.

The recipients are checked before the funds on every path (the one-statement
award declines and the general path decides), so an empty pool or budget never
answers `insufficient_balance` for an id that is not the giver's colleague.
"""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from perksu.errors import NotFoundError
from points.services import lead_delegate
from recognition.models import Recognition
from recognition.services import recognition_create
from tenants.tests.factories import LeadFactory, ManagerFactory, TenantFactory, UserFactory
from wallets.models import Wallet, WalletLedger

NOT_FOUND = {"detail": "Recipient not found.", "code": "not_found"}


@pytest.fixture
def broke_manager(db):
    """A manager of tenant B, whose pool is empty."""
    return ManagerFactory(tenant=TenantFactory(name="Broke Corp", slug="broke-corp"))


@pytest.fixture
def broke_lead(broke_manager):
    return LeadFactory(tenant=broke_manager.tenant)


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def nothing_moved() -> bool:
    return not (Recognition.objects.exists() or WalletLedger.objects.filter(amount__gt=0).exists()) and not (
        Wallet.objects.filter(balance__gt=0).exists()
    )


@pytest.mark.parametrize("funded", [False, True], ids=["empty-pool", "funded-pool"])
def test_award_api_to_another_tenants_member_is_404_whatever_the_pool(broke_manager, employee, funded, allocate):
    if funded:
        allocate(broke_manager.tenant, 1_000)
    client = client_for(broke_manager)
    for user_id in (employee.pk, uuid.uuid4()):
        award = client.post(
            "/api/v1/points/award-to-user/",
            {"to_user_id": str(user_id), "amount": 100, "recognition_message": "x"},
            format="json",
        )
        assert (award.status_code, award.json()) == (404, NOT_FOUND)
        recognition = client.post(
            "/api/v1/recognitions/", {"to_user_id": str(user_id), "points": 100, "message": "x"}, format="json"
        )
        assert (recognition.status_code, recognition.json()) == (404, NOT_FOUND)
        several = client.post(
            "/api/v1/recognitions/",
            {
                "to_user_ids": [str(UserFactory(tenant=broke_manager.tenant).pk), str(user_id)],
                "points": 5,
                "message": "x",
            },
            format="json",
        )
        assert (several.status_code, several.json()) == (404, NOT_FOUND)
    assert nothing_moved()


@pytest.mark.parametrize("source", [None, "POOL", "LEAD_BUDGET"])
def test_service_refuses_the_recipient_before_the_source(broke_manager, employee, source):
    with pytest.raises(NotFoundError):
        recognition_create(
            giver=broke_manager, recipient_ids=[employee.pk], points=10, message="x", funding_source=source
        )
    assert nothing_moved()


def test_a_lead_with_an_empty_budget_gets_404_for_another_tenants_member(broke_manager, broke_lead, employee, allocate):
    allocate(broke_manager.tenant, 10)
    lead_delegate(actor=broke_manager, lead_id=broke_lead.pk, amount=1, note="")
    response = client_for(broke_lead).post(
        "/api/v1/recognitions/", {"to_user_id": str(employee.pk), "points": 500, "message": "x"}, format="json"
    )
    assert (response.status_code, response.json()) == (404, NOT_FOUND)


def test_delegating_to_another_tenants_lead_is_404_with_an_empty_pool(broke_manager, lead):
    response = client_for(broke_manager).post(
        "/api/v1/points/delegate-to-lead/", {"lead_id": str(lead.pk), "amount": 100}, format="json"
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_recognize_page_refuses_another_tenants_member_as_a_form_error(client, broke_manager, employee, password):
    client.force_login(broke_manager)
    page = client.get("/recognize/")
    token = page.context["form"].initial["form_token"]
    response = client.post(
        "/recognize/", {"recipients": [str(employee.pk)], "points": "10", "message": "x", "form_token": token}
    )
    assert response.status_code == 400
    assert "Insufficient" not in response.content.decode()
    assert nothing_moved()


@pytest.mark.parametrize("points", [1, 10_000], ids=["within-allowance", "over-allowance"])
def test_an_employee_gets_404_for_another_tenants_member_whatever_the_allowance(employee, outsider, points):
    response = client_for(employee).post(
        "/api/v1/recognitions/", {"to_user_id": str(outsider.pk), "points": points, "message": "x"}, format="json"
    )
    assert (response.status_code, response.json()) == (404, NOT_FOUND)
    assert nothing_moved()
