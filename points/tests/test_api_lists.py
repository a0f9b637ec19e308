"""The company-side lists: allocation and billing logs, delegations, lead budgets, liability (SPEC §6)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from points.models import AllocationLog, DelegationLog, LeadBudget, PlatformBillingLog
from points.selectors import roll_forward, roll_forwards
from points.services import lead_delegate, lead_recall, tenant_allocate, tenant_clawback
from points.tests.test_api import client_for
from tenants.models import Tenant
from tenants.tests.factories import LeadFactory, ManagerFactory, TenantFactory, UserFactory

ALLOCATION_LOGS = "/api/v1/points/allocation-logs/"
BILLING_LOGS = "/api/v1/points/billing-logs/"
DELEGATIONS = "/api/v1/points/delegations/"
LEAD_BUDGETS = "/api/v1/points/lead-budgets/"
LIABILITY = "/api/v1/points/liability/"

TODAY = timezone.localdate
ALL_LISTS = [ALLOCATION_LOGS, BILLING_LOGS, DELEGATIONS, LEAD_BUDGETS, LIABILITY]


def results(response) -> list[dict]:
    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == len(body["results"]) or body["next"]
    return body["results"]


@pytest.fixture
def two_tenants(platform_admin, funded_lead, manager, outsider, allocate):
    """Triton (50,000 allocated, 10,000 delegated) and Other Corp (7,000 allocated, 2,000 clawed back)."""
    other = outsider.tenant
    allocate(other, 7_000, note="Invoice #1")
    tenant_clawback(actor=platform_admin, tenant_id=other.pk, reason="Refund", amount=2_000)
    return funded_lead.tenant, other


# --- allocation logs -----------------------------------------------------------------------------------------------


def test_platform_sees_every_tenants_allocation_log(platform_admin, two_tenants):
    triton, _ = two_tenants
    rows = results(client_for(platform_admin).get(ALLOCATION_LOGS))
    assert [(r["tenant_name"], r["kind"], r["amount"], r["balance_after"]) for r in rows] == [
        ("Other Corp", "CLAWBACK", 2_000, 5_000),
        ("Other Corp", "ALLOCATION", 7_000, 7_000),
        ("Triton Energy", "ALLOCATION", 50_000, 50_000),
    ]
    log = AllocationLog.objects.get(tenant=triton)
    assert rows[2] == {
        "id": str(log.pk),
        "tenant_id": str(triton.pk),
        "tenant_name": "Triton Energy",
        "kind": "ALLOCATION",
        "amount": 50_000,
        "balance_after": 50_000,
        "reference_note": "Invoice #8842",
        "actor_id": str(platform_admin.pk),
        "actor_name": "Platform Admin",
        "created_at": rows[2]["created_at"],
    }
    assert dt.datetime.fromisoformat(rows[2]["created_at"]) == log.created_at


def test_allocation_log_filters(platform_admin, two_tenants):
    _, other = two_tenants
    client = client_for(platform_admin)
    assert [r["amount"] for r in results(client.get(ALLOCATION_LOGS, {"tenant_id": other.pk}))] == [2_000, 7_000]
    assert [r["amount"] for r in results(client.get(ALLOCATION_LOGS, {"kind": "CLAWBACK"}))] == [2_000]
    today, day = TODAY(), dt.timedelta(days=1)
    in_range = {"created_at_after": today.isoformat(), "created_at_before": today.isoformat()}
    assert len(results(client.get(ALLOCATION_LOGS, in_range))) == 3
    assert results(client.get(ALLOCATION_LOGS, {"created_at_after": (today + day).isoformat()})) == []
    assert results(client.get(ALLOCATION_LOGS, {"created_at_before": (today - day).isoformat()})) == []
    response = client.get(ALLOCATION_LOGS, {"created_at_after": "24/11/2026"})
    assert response.status_code == 400
    assert list(response.json()) == ["created_at"]
    response = client.get(ALLOCATION_LOGS, {"kind": "GIFT"})
    assert response.status_code == 400
    assert list(response.json()) == ["kind"]
    assert client.get(ALLOCATION_LOGS, {"tenant_id": uuid.uuid4()}).status_code == 404


def test_a_manager_sees_only_its_tenants_allocation_log(manager, two_tenants):
    triton, other = two_tenants
    client = client_for(manager)
    rows = results(client.get(ALLOCATION_LOGS))
    assert [(r["tenant_id"], r["amount"]) for r in rows] == [(str(triton.pk), 50_000)]
    assert results(client.get(ALLOCATION_LOGS, {"tenant_id": other.pk})) == []
    other_log = AllocationLog.objects.filter(tenant=other).first()
    response = client.get(f"{ALLOCATION_LOGS}{other_log.pk}/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}
    own = AllocationLog.objects.get(tenant=triton)
    assert client.get(f"{ALLOCATION_LOGS}{own.pk}").json()["amount"] == 50_000


def test_billing_log_is_the_platforms(platform_admin, manager, two_tenants):
    triton, other = two_tenants
    client = client_for(platform_admin)
    rows = results(client.get(BILLING_LOGS, {"transaction_type": "CREDIT_INJECTION"}))
    assert [(r["tenant_name"], r["amount"], r["currency"]) for r in rows] == [
        ("Other Corp", 7_000, "INR"),
        ("Triton Energy", 50_000, "INR"),
    ]
    billing = PlatformBillingLog.objects.get(tenant=triton)
    assert rows[1] == {
        "id": str(billing.pk),
        "tenant_id": str(triton.pk),
        "tenant_name": "Triton Energy",
        "allocation_log_id": str(billing.allocation_log_id),
        "transaction_type": "CREDIT_INJECTION",
        "amount": 50_000,
        "currency": "INR",
        "reference_note": "Invoice #8842",
        "admin_id": str(platform_admin.pk),
        "admin_email": "admin@platform.test",
        "created_at": rows[1]["created_at"],
    }
    assert [r["amount"] for r in results(client.get(BILLING_LOGS, {"tenant_id": other.pk}))] == [2_000, 7_000]
    response = client_for(manager).get(BILLING_LOGS)
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


# --- delegations and lead budgets ----------------------------------------------------------------------------------


@pytest.fixture
def two_leads(funded_lead, manager, tenant):
    second = LeadFactory(tenant=tenant, email="lead2@triton.test", full_name="Lara Lead")
    lead_delegate(actor=manager, lead_id=second.pk, amount=3_000, note="Ops")
    lead_recall(actor=manager, lead_id=second.pk, amount=1_000, note="Unused")
    return funded_lead, second


def test_a_manager_sees_every_delegation_of_its_tenant(manager, two_leads, outsider):
    first, second = two_leads
    other_manager = ManagerFactory(tenant=outsider.tenant)
    other_lead = LeadFactory(tenant=outsider.tenant)
    tenant_allocate(actor=_admin(), tenant_id=outsider.tenant_id, amount=100)
    lead_delegate(actor=other_manager, lead_id=other_lead.pk, amount=100)
    rows = results(client_for(manager).get(DELEGATIONS))
    assert [
        (r["lead_name"], r["kind"], r["amount"], r["pool_balance_after"], r["lead_balance_after"]) for r in rows
    ] == [
        ("Lara Lead", "RECALL", 1_000, 38_000, 2_000),
        ("Lara Lead", "DELEGATION", 3_000, 37_000, 3_000),
        ("Leo Lead", "DELEGATION", 10_000, 40_000, 10_000),
    ]
    recall = DelegationLog.objects.get(kind="RECALL")
    assert rows[0] == {
        "id": str(recall.pk),
        "tenant_id": str(manager.tenant_id),
        "lead_id": str(second.pk),
        "lead_name": "Lara Lead",
        "kind": "RECALL",
        "amount": 1_000,
        "pool_balance_after": 38_000,
        "lead_balance_after": 2_000,
        "note": "Unused",
        "actor_id": str(manager.pk),
        "actor_name": "Maya Manager",
        "created_at": rows[0]["created_at"],
    }
    client = client_for(manager)
    assert [r["amount"] for r in results(client.get(DELEGATIONS, {"lead_id": first.pk}))] == [10_000]
    assert [r["amount"] for r in results(client.get(DELEGATIONS, {"kind": "RECALL"}))] == [1_000]
    other_log = DelegationLog.objects.get(lead=other_lead)
    assert client.get(f"{DELEGATIONS}{other_log.pk}/").status_code == 404


def test_a_lead_sees_only_its_own_delegations_and_budget(two_leads):
    first, second = two_leads
    client = client_for(second)
    assert [(r["kind"], r["amount"]) for r in results(client.get(DELEGATIONS))] == [
        ("RECALL", 1_000),
        ("DELEGATION", 3_000),
    ]
    assert results(client.get(DELEGATIONS, {"lead_id": first.pk})) == []
    first_log = DelegationLog.objects.get(lead=first)
    assert client.get(f"{DELEGATIONS}{first_log.pk}/").status_code == 404
    budgets = results(client.get(LEAD_BUDGETS))
    assert [(b["lead_name"], b["balance"]) for b in budgets] == [("Lara Lead", 2_000)]
    first_budget = LeadBudget.objects.get(lead=first)
    assert client.get(f"{LEAD_BUDGETS}{first_budget.pk}/").status_code == 404


def test_a_manager_sees_every_lead_budget_of_its_tenant(manager, two_leads, outsider):
    first, second = two_leads
    LeadFactory(tenant=outsider.tenant)
    rows = results(client_for(manager).get(LEAD_BUDGETS))
    budget = LeadBudget.objects.get(lead=second)
    assert rows == [
        {
            "id": str(budget.pk),
            "tenant_id": str(manager.tenant_id),
            "lead_id": str(second.pk),
            "lead_name": "Lara Lead",
            "lead_email": "lead2@triton.test",
            "lead_is_active": True,
            "balance": 2_000,
        },
        {
            "id": str(LeadBudget.objects.get(lead=first).pk),
            "tenant_id": str(manager.tenant_id),
            "lead_id": str(first.pk),
            "lead_name": "Leo Lead",
            "lead_email": "lead@triton.test",
            "lead_is_active": True,
            "balance": 10_000,
        },
    ]
    assert [r["balance"] for r in results(client_for(manager).get(LEAD_BUDGETS, {"lead_id": first.pk}))] == [10_000]


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (ALLOCATION_LOGS, {"platform_admin", "manager"}),
        (BILLING_LOGS, {"platform_admin"}),
        (DELEGATIONS, {"manager", "lead"}),
        (LEAD_BUDGETS, {"manager", "lead"}),
        (LIABILITY, {"platform_admin", "manager"}),
    ],
)
@pytest.mark.parametrize("who", ["platform_admin", "manager", "lead", "employee", "anonymous"])
def test_role_matrix_of_the_lists(request, tenant, path, allowed, who):
    user = None if who == "anonymous" else request.getfixturevalue(who)
    response = client_for(user).get(path)
    expected = 200 if who in allowed else (401 if user is None else 403)
    assert response.status_code == expected
    if expected != 200:
        assert response.json()["code"] == ("not_authenticated" if user is None else "permission_denied")


# --- liability -----------------------------------------------------------------------------------------------------


def _admin():
    from tenants.tests.factories import PlatformAdminFactory

    return PlatformAdminFactory()


def test_platform_sees_the_liability_of_every_tenant(platform_admin, two_tenants, award, manager, employee):
    triton, other = two_tenants
    Tenant.objects.filter(pk=triton.pk).update(point_value=Decimal("0.25"))
    award(manager, employee, 1_000)
    rows = results(client_for(platform_admin).get(LIABILITY))
    assert rows == [
        {
            "id": str(other.pk),
            "tenant_id": str(other.pk),
            "tenant_name": "Other Corp",
            "tenant_slug": "other-corp",
            "currency": "INR",
            "point_value": "1.0000",
            "pool": 5_000,
            "lead_budgets": 0,
            "wallets": 0,
            "outstanding": 5_000,
            "value": "5000.00",
            "roll_forward": None,
        },
        {
            "id": str(triton.pk),
            "tenant_id": str(triton.pk),
            "tenant_name": "Triton Energy",
            "tenant_slug": "triton-energy",
            "currency": "INR",
            "point_value": "0.2500",
            "pool": 39_000,
            "lead_budgets": 10_000,
            "wallets": 1_000,
            "outstanding": 50_000,
            "value": "12500.00",
            "roll_forward": None,
        },
    ]
    only = results(client_for(platform_admin).get(LIABILITY, {"tenant_id": other.pk}))
    assert [r["tenant_name"] for r in only] == ["Other Corp"]
    response = client_for(platform_admin).get(LIABILITY, {"tenant_id": uuid.uuid4()})
    assert response.status_code == 404


def test_a_manager_sees_only_its_own_liability(manager, two_tenants):
    triton, other = two_tenants
    rows = results(client_for(manager).get(LIABILITY, {"tenant_id": other.pk}))
    assert [(r["tenant_id"], r["outstanding"]) for r in rows] == [(str(triton.pk), 50_000)]


def test_the_roll_forward_of_a_period(platform_admin, two_tenants):
    today, day = TODAY(), dt.timedelta(days=1)
    client = client_for(platform_admin)
    rows = results(client.get(LIABILITY, {"from": today.isoformat(), "to": today.isoformat()}))
    by_name = {r["tenant_name"]: r["roll_forward"] for r in rows}
    assert by_name["Other Corp"] == {
        "date_from": today.isoformat(),
        "date_to": today.isoformat(),
        "opening": 0,
        "allocated": 7_000,
        "clawed_back": 2_000,
        "redeemed": 0,
        "refunded": 0,
        "closing": 5_000,
    }
    assert by_name["Triton Energy"]["closing"] == 50_000
    later = results(client.get(LIABILITY, {"from": (today + day).isoformat(), "to": (today + 2 * day).isoformat()}))
    assert {r["tenant_name"]: (r["roll_forward"]["opening"], r["roll_forward"]["closing"]) for r in later} == {
        "Other Corp": (5_000, 5_000),
        "Triton Energy": (50_000, 50_000),
    }


def test_grouped_roll_forwards_keep_tenants_apart(platform_admin, two_tenants):
    """Computing many tenants in one grouped query gives each the figures it gets alone."""
    today, day = TODAY(), dt.timedelta(days=1)
    ids = [t.pk for t in two_tenants] + [uuid.uuid4()]
    for date_from, date_to in ((today, today), (today - day, today), (today + day, today + day)):
        grouped = roll_forwards(ids, date_from=date_from, date_to=date_to)
        for tenant_id in ids:
            assert grouped[tenant_id] == roll_forward(tenant_id, date_from=date_from, date_to=date_to)
    assert grouped[ids[-1]].closing == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-13-01", "to": "2026-12-31"}, "from"),
        ({"from": "2026-11-01", "to": "yesterday"}, "to"),
        ({"from": "2026-11-01"}, "to"),
        ({"to": "2026-11-01"}, "from"),
        ({"from": "2026-11-02", "to": "2026-11-01"}, "to"),
        ({"tenant_id": "nope"}, "tenant_id"),
    ],
)
def test_bad_liability_parameters_are_a_field_map(platform_admin, tenant, params, field):
    response = client_for(platform_admin).get(LIABILITY, params)
    assert response.status_code == 400
    assert list(response.json()) == [field]


# --- pinned query counts: the same whatever the number of rows ----------------------------------------------------


def _queries(user, path, params=None) -> int:
    client = client_for(user)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path, params or {})
    assert response.status_code == 200, response.json()
    return len(ctx.captured_queries)


def _grow(n: int, admin, manager, tenant):
    """`n` allocations, `n` leads each with a delegation and a budget, `n` tenants each with an allocation."""
    for i in range(n):
        tenant_allocate(actor=admin, tenant_id=tenant.pk, amount=100 + i, reference_note=f"Invoice {i}")
        lead = LeadFactory(tenant=tenant)
        lead_delegate(actor=manager, lead_id=lead.pk, amount=1)
        extra = TenantFactory()
        tenant_allocate(actor=admin, tenant_id=extra.pk, amount=10)
        UserFactory(tenant=extra)


LIST_QUERIES = [
    # The actor (platform staff, in the platform's tenant) is read apart by id: one statement more.
    ("platform_admin", ALLOCATION_LOGS, {}, 3),
    ("manager", ALLOCATION_LOGS, {"kind": "ALLOCATION"}, 3),
    ("platform_admin", BILLING_LOGS, {}, 3),
    ("manager", DELEGATIONS, {}, 2),
    ("manager", LEAD_BUDGETS, {}, 2),
    ("platform_admin", LIABILITY, {}, 3),
    ("platform_admin", LIABILITY, {"from": "2026-01-01", "to": "2026-12-31"}, 5),
    ("manager", LIABILITY, {"from": "2026-01-01", "to": "2026-12-31"}, 5),
]


@pytest.mark.parametrize(("who", "path", "params", "pinned"), LIST_QUERIES)
def test_list_query_counts_do_not_grow_with_rows(
    request, platform_admin, manager, tenant, who, path, params, pinned, django_assert_max_num_queries
):
    user = request.getfixturevalue(who)
    _grow(3, platform_admin, manager, tenant)
    small = _queries(user, path, params)
    _grow(27, platform_admin, manager, tenant)
    with django_assert_max_num_queries(pinned):
        response = client_for(user).get(path, params)
    assert response.json()["count"] >= (1 if who == "manager" and path == LIABILITY else 30)
    assert _queries(user, path, params) == small
