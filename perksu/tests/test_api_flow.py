"""The seed's data flow end to end over HTTP, with real tokens, asserting every figure a user would check:

allocate 50,000 "Invoice #8842" → pool card → delegate 10,000 → manager awards 1,000 → lead recognition →
employee redeems → manager refunds → platform claws back the rest → the books reconcile.
"""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from points.reconcile import reconcile

V1 = "/api/v1"


def login(email: str, password: str) -> APIClient:
    response = APIClient().post(f"{V1}/auth/token/", {"email": email, "password": password}, format="json")
    assert response.status_code == 200, response.json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['token']}")
    return client


def ok(response, status: int = 200) -> dict:
    assert response.status_code == status, (response.status_code, response.json())
    return response.json()


@pytest.fixture
def people(platform_admin, tenant, manager, lead, employee, password):
    return {
        "admin": login(platform_admin.email, password),
        "manager": login(manager.email, password),
        "lead": login(lead.email, password),
        "employee": login(employee.email, password),
    }


def test_the_seed_flow_over_http(people, tenant, manager, lead, employee):
    admin, mgr, ld, emp = people["admin"], people["manager"], people["lead"], people["employee"]
    today = timezone.localdate().isoformat()

    # 1. The platform sells Triton 50,000 points.
    body = ok(
        admin.post(
            f"{V1}/points/allocate-to-tenant",
            {"tenant_id": str(tenant.pk), "amount": 50_000, "reference_note": "Invoice #8842", "currency": "INR"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="invoice-8842",
        )
    )
    assert (body["success"], body["amount_allocated"], body["new_allocation_balance"], body["currency"]) == (
        True,
        50_000,
        50_000,
        "INR",
    )

    # 2. The manager's pool card.
    card = ok(mgr.get(f"{V1}/points/tenant-allocation-stats"))
    assert (card["points_allocation_balance"], card["balance_status"], card["status"]) == (50_000, "ready", "ACTIVE")
    assert card["message"] == "Ready to distribute. You have 50,000 points available."

    # 3. The manager delegates 10,000 to the lead.
    body = ok(
        mgr.post(
            f"{V1}/points/delegate-to-lead",
            {"lead_id": str(lead.pk), "amount": 10_000, "delegation_note": "Q4 budget"},
            format="json",
        )
    )
    assert (body["amount_delegated"], body["lead_new_balance"], body["tenant_remaining_balance"]) == (
        10_000,
        10_000,
        40_000,
    )
    budgets = ok(mgr.get(f"{V1}/points/lead-budgets/"))["results"]
    assert [(b["lead_id"], b["lead_name"], b["balance"]) for b in budgets] == [(str(lead.pk), "Leo Lead", 10_000)]

    # 4. The manager awards 1,000 from the pool (a double click replays, paying once).
    award = {"to_user_id": str(employee.pk), "amount": 1_000, "recognition_message": "Shipped the release"}
    body = ok(mgr.post(f"{V1}/points/award-to-user", award, format="json", HTTP_IDEMPOTENCY_KEY="award-1"))
    assert (body["amount_awarded"], body["recipient_new_wallet_balance"], body["tenant_remaining_pool"]) == (
        1_000,
        1_000,
        39_000,
    )
    assert body["funding_source"] == "POOL"
    again = mgr.post(f"{V1}/points/award-to-user", award, format="json", HTTP_IDEMPOTENCY_KEY="award-1")
    assert (again.status_code, again["Idempotent-Replayed"], again.json()) == (200, "true", body)

    # 5. The lead recognises the employee from its budget; the employee thanks the lead with kudos (seed path).
    body = ok(
        ld.post(
            f"{V1}/recognitions/",
            {"to_user_id": str(employee.pk), "points": 500, "message": "On-call hero"},
            format="json",
        ),
        201,
    )
    assert (body["points"], body["funding_source"], body["lead_remaining_budget"]) == (500, "LEAD_BUDGET", 9_500)
    assert body["recognitions"][0]["wallet_balance_after"] == 1_500
    kudos = ok(
        emp.post("/api/recognitions", {"to_user_id": str(lead.pk), "points": 0, "message": "Thanks!"}, format="json"),
        201,
    )
    assert (kudos["points"], kudos["funding_source"]) == (0, "NONE")
    feed = ok(emp.get(f"{V1}/recognitions/"))["results"]
    assert [(r["giver_name"], r["receiver_name"], r["points"]) for r in feed] == [
        ("Asha Employee", "Leo Lead", 0),
        ("Leo Lead", "Asha Employee", 500),
        ("Maya Manager", "Asha Employee", 1_000),
    ]

    # 6. The manager stocks a reward; the employee redeems it.
    reward = ok(
        mgr.post(
            f"{V1}/rewards/",
            {"name": "Movie tickets", "description": "Two tickets", "points_cost": 1_200, "stock": 5},
            format="json",
        ),
        201,
    )
    redemption = ok(
        emp.post(f"{V1}/redemptions/", {"reward_id": reward["id"]}, format="json", HTTP_IDEMPOTENCY_KEY="r-1"), 201
    )
    assert (redemption["status"], redemption["points_spent"], redemption["wallet_balance_after"]) == (
        "ISSUED",
        1_200,
        300,
    )
    assert len(redemption["voucher_code"]) >= 8
    wallet = ok(emp.get(f"{V1}/wallets/me/"))
    assert (wallet["balance"], wallet["lifetime_earned"], wallet["lifetime_spent"], wallet["currency_label"]) == (
        300,
        1_500,
        1_200,
        "Points",
    )
    assert ok(emp.get(f"{V1}/rewards/{reward['id']}/"))["stock"] == 4

    # 7. The manager refunds it.
    refund = ok(mgr.post(f"{V1}/redemptions/{redemption['id']}/refund/", format="json"))
    assert (refund["status"], refund["wallet_balance_after"]) == ("REFUNDED", 1_500)
    ledger = ok(emp.get(f"{V1}/wallets/me/ledger/"))["results"]
    assert [(e["entry_type"], e["source"], e["amount"], e["balance_after"]) for e in ledger] == [
        ("CREDIT", "REFUND", 1_200, 1_500),
        ("DEBIT", "REDEMPTION", 1_200, 300),
        ("CREDIT", "RECOGNITION", 500, 1_500),
        ("CREDIT", "RECOGNITION", 1_000, 1_000),
    ]
    card = ok(mgr.get(f"{V1}/points/tenant-allocation-stats"))
    assert (card["points_allocation_balance"], card["delegated_outstanding"], card["wallets_outstanding"]) == (
        39_000,
        9_500,
        1_500,
    )

    # 8. The liability and the day's roll-forward, as the platform sees them.
    (row,) = ok(admin.get(f"{V1}/points/liability/", {"tenant_id": str(tenant.pk), "from": today, "to": today}))[
        "results"
    ]
    assert (row["pool"], row["lead_budgets"], row["wallets"], row["outstanding"], row["value"]) == (
        39_000,
        9_500,
        1_500,
        50_000,
        "50000.00",
    )
    assert row["roll_forward"] == {
        "date_from": today,
        "date_to": today,
        "opening": 0,
        "allocated": 50_000,
        "clawed_back": 0,
        "redeemed": 1_200,
        "refunded": 1_200,
        "closing": 50_000,
    }

    # 9. The platform claws back the rest of the pool; budgets and wallets stay.
    body = ok(admin.post(f"{V1}/points/clawback/{tenant.pk}", {"reason": "Contract ended"}, format="json"))
    assert (body["amount_clawed_back"], body["new_balance"], body["reason"]) == (39_000, 0, "Contract ended")
    card = ok(mgr.get(f"{V1}/points/tenant-allocation-stats"))
    assert (card["points_allocation_balance"], card["balance_status"]) == (0, "empty")
    assert card["message"] == "No points in the company pool. Contact the platform team to allocate points."
    (row,) = ok(admin.get(f"{V1}/points/liability/", {"tenant_id": str(tenant.pk), "from": today, "to": today}))[
        "results"
    ]
    assert (row["outstanding"], row["roll_forward"]["clawed_back"], row["roll_forward"]["closing"]) == (
        11_000,
        39_000,
        11_000,
    )
    logs = ok(admin.get(f"{V1}/points/billing-logs/", {"tenant_id": str(tenant.pk)}))["results"]
    assert [(b["transaction_type"], b["amount"], b["reference_note"]) for b in logs] == [
        ("CLAWBACK", 39_000, "Contract ended"),
        ("CREDIT_INJECTION", 50_000, "Invoice #8842"),
    ]

    # 10. The books reconcile.
    (report,) = reconcile(tenant_slug=tenant.slug)
    assert report.ok, report.line()
    out = io.StringIO()
    call_command("reconcile", "--tenant", tenant.slug, stdout=out)
    assert "OK" in out.getvalue()
