"""The role × endpoint matrix and the cross-tenant matrix of the points endpoints (SPEC §2, §6)."""

from __future__ import annotations

import pytest

from points.models import AllocationLog, DelegationLog, LeadBudget
from points.services import lead_delegate
from points.tests.test_api import (
    ALLOCATE,
    AWARD,
    DELEGATE,
    DISTRIBUTE,
    RECALL,
    STATS,
    books,
    clawback_path,
    client_for,
)
from tenants.tests.factories import LeadFactory, ManagerFactory, UserFactory

CALLERS = ["platform_admin", "manager", "lead", "employee", "anonymous"]
# endpoint: (method, who may call it)
ENDPOINTS = {
    "allocate-to-tenant": ("post", {"platform_admin"}),
    "tenant-allocation-stats": ("get", {"platform_admin", "manager", "lead"}),
    "delegate-to-lead": ("post", {"manager"}),
    "recall-from-lead": ("post", {"manager"}),
    "award-to-user": ("post", {"manager", "lead"}),
    "distribute": ("post", {"manager"}),
    "clawback": ("post", {"platform_admin"}),
}


def request_for(name: str, tenant, lead, employee) -> tuple[str, dict]:
    return {
        "allocate-to-tenant": (ALLOCATE, {"tenant_id": str(tenant.pk), "amount": 100}),
        "tenant-allocation-stats": (STATS, {"tenant_id": str(tenant.pk)}),
        "delegate-to-lead": (DELEGATE, {"lead_id": str(lead.pk), "amount": 100}),
        "recall-from-lead": (RECALL, {"lead_id": str(lead.pk), "amount": 100}),
        "award-to-user": (AWARD, {"to_user_id": str(employee.pk), "amount": 100, "recognition_message": "Thanks"}),
        "distribute": (DISTRIBUTE, {"amount_per_user": 100, "recognition_message": "Thanks"}),
        "clawback": (clawback_path(tenant.pk), {"reason": "Contract ended", "amount": 100}),
    }[name]


@pytest.mark.parametrize("name", list(ENDPOINTS))
@pytest.mark.parametrize("who", CALLERS)
def test_role_matrix(request, funded_lead, employee, name, who):
    """7 endpoints × 5 callers: allowed → 200 and the books move; refused → 401/403 and nothing moves."""
    method, allowed = ENDPOINTS[name]
    user = None if who == "anonymous" else request.getfixturevalue(who)
    path, body = request_for(name, funded_lead.tenant, funded_lead, employee)
    before = books()
    response = getattr(client_for(user), method)(path, body, **({"format": "json"} if method == "post" else {}))
    if who in allowed:
        assert response.status_code == 200, response.json()
        if method == "post":
            assert response.json()["success"] is True
            assert books() != before
    else:
        assert response.status_code == (401 if user is None else 403)
        assert response.json()["code"] == ("not_authenticated" if user is None else "permission_denied")
        assert books() == before


@pytest.fixture
def intruders(outsider, allocate):
    """A manager and a lead of Other Corp, with points of their own to move."""
    other = outsider.tenant
    allocate(other, 5_000)
    manager = ManagerFactory(tenant=other)
    lead = LeadFactory(tenant=other)
    lead_delegate(actor=manager, lead_id=lead.pk, amount=1_000)
    return {"manager": manager, "lead": lead}


@pytest.mark.parametrize(
    ("name", "who"),
    [
        ("delegate-to-lead", "manager"),
        ("recall-from-lead", "manager"),
        ("award-to-user", "manager"),
        ("award-to-user", "lead"),
    ],
)
def test_another_tenants_ids_are_404_like_unknown_ones(intruders, funded_lead, employee, name, who):
    """An intruder naming Triton's lead or employee gets exactly the answer for an id that does not exist."""
    path, body = request_for(name, funded_lead.tenant, funded_lead, employee)
    before = books()
    response = client_for(intruders[who]).post(path, body, format="json")
    assert response.status_code == 404
    target = "Recipient" if name == "award-to-user" else "Lead"
    assert response.json() == {"detail": f"{target} not found.", "code": "not_found"}
    assert books() == before


@pytest.mark.parametrize(
    ("list_path", "model", "who"),
    [
        ("/api/v1/points/allocation-logs/", AllocationLog, "manager"),
        ("/api/v1/points/delegations/", DelegationLog, "manager"),
        ("/api/v1/points/delegations/", DelegationLog, "lead"),
        ("/api/v1/points/lead-budgets/", LeadBudget, "manager"),
        ("/api/v1/points/lead-budgets/", LeadBudget, "lead"),
    ],
)
def test_another_tenants_rows_are_neither_listed_nor_retrievable(intruders, funded_lead, list_path, model, who):
    client = client_for(intruders[who])
    listed = client.get(list_path).json()["results"]
    assert listed  # the intruder sees its own rows …
    assert all(row["tenant_id"] == str(intruders[who].tenant_id) for row in listed)  # … and only those
    triton_row = model.objects.filter(tenant=funded_lead.tenant).first()
    for path in (f"{list_path}{triton_row.pk}/", f"{list_path}{triton_row.pk}"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found.", "code": "not_found"}
    assert client.get(f"{list_path}00000000-0000-4000-8000-000000000000/").json() == {
        "detail": "Not found.",
        "code": "not_found",
    }


def test_an_intruders_pool_card_and_liability_are_its_own(intruders, funded_lead):
    client = client_for(intruders["manager"])
    card = client.get(STATS, {"tenant_id": str(funded_lead.tenant_id)}).json()
    assert card["tenant_name"] == "Other Corp"
    assert card["points_allocation_balance"] == 4_000
    rows = client.get("/api/v1/points/liability/", {"tenant_id": str(funded_lead.tenant_id)}).json()["results"]
    assert [(r["tenant_name"], r["outstanding"]) for r in rows] == [("Other Corp", 5_000)]


def test_a_manager_distributes_only_to_its_own_tenant(intruders, funded_lead, employee):
    UserFactory(tenant=intruders["manager"].tenant)
    before_wallets = books()["wallets"]
    response = client_for(intruders["manager"]).post(
        DISTRIBUTE, {"amount_per_user": 10, "recognition_message": "x"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["recipients"] == 3  # its lead, its new employee, Olga — none of Triton's people
    after = books()["wallets"]
    for user in (funded_lead, employee):
        assert after[user.pk] == before_wallets[user.pk]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", ALLOCATE),
        ("put", AWARD),
        ("delete", DELEGATE),
        ("post", STATS),
        ("post", "/api/v1/points/allocation-logs/"),
        ("delete", "/api/v1/points/liability/"),
    ],
)
def test_wrong_methods_answer_json_405(platform_admin, manager, method, path):
    user = platform_admin if path in (ALLOCATE, "/api/v1/points/allocation-logs/") else manager
    response = getattr(client_for(user), method)(path)
    assert response.status_code == 405
    assert response.json() == {"detail": f'Method "{method.upper()}" not allowed.', "code": "method_not_allowed"}
