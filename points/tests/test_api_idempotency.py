"""`Idempotency-Key` over HTTP (SPEC §6): replay, reuse with another body, in flight, concurrent duplicates."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from perksu.testing import run_together
from points.idempotency import fingerprint
from points.models import AllocationLog, DelegationLog, IdempotencyRecord, PlatformIdempotencyRecord
from points.reconcile import reconcile
from points.tests.test_api import (
    ALLOCATE,
    AWARD,
    DELEGATE,
    DISTRIBUTE,
    RECALL,
    books,
    budget_of,
    clawback_path,
    client_for,
    pool_of,
    wallet_of,
)
from recognition.models import Recognition
from tenants.models import Tenant, User
from tenants.tests.factories import ManagerFactory, TenantFactory, UserFactory
from wallets.models import WalletLedger


def post(user, path, body, key):
    return client_for(user).post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def award_body(employee, amount=1_000):
    return {"to_user_id": str(employee.pk), "amount": amount, "recognition_message": "Thanks"}


def test_a_repeated_award_replays_and_pays_once(manager, employee, funded_tenant):
    first = post(manager, AWARD, award_body(employee), "award-001")
    assert first.status_code == 200
    assert "Idempotent-Replayed" not in first
    second = post(manager, AWARD, award_body(employee), "award-001")
    assert second.status_code == 200
    assert second["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()
    assert WalletLedger.objects.count() == 1
    assert Recognition.objects.count() == 1
    assert (wallet_of(employee), pool_of(funded_tenant)) == (1_000, 49_000)


def test_the_key_order_of_the_body_does_not_matter(manager, employee, funded_tenant):
    body = award_body(employee)
    post(manager, AWARD, body, "k")
    reordered = dict(reversed(list(body.items())))
    response = post(manager, AWARD, reordered, "k")
    assert response["Idempotent-Replayed"] == "true"
    assert wallet_of(employee) == 1_000


@pytest.mark.parametrize(
    ("path", "body", "changed"),
    [
        (DELEGATE, {"amount": 100, "lead_id": "LEAD"}, {"amount": 101}),
        (RECALL, {"amount": 100, "lead_id": "LEAD"}, {"amount": 99}),
        (AWARD, {"amount": 100, "recognition_message": "x", "to_user_id": "EMPLOYEE"}, {"recognition_message": "y"}),
        (DISTRIBUTE, {"amount_per_user": 10, "recognition_message": "x"}, {"amount_per_user": 11}),
    ],
)
def test_the_same_key_with_another_body_is_422_and_moves_nothing(manager, funded_lead, employee, path, body, changed):
    ids = {"LEAD": str(funded_lead.pk), "EMPLOYEE": str(employee.pk)}
    body = {k: ids.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    assert post(manager, path, body, "same-key").status_code == 200
    before = books()
    response = post(manager, path, {**body, **changed}, "same-key")
    assert response.status_code == 422
    assert response.json() == {
        "detail": "This Idempotency-Key was already used with a different request body.",
        "code": "idempotency_key_reused",
    }
    assert books() == before


def test_each_platform_endpoint_replays(platform_admin, funded_tenant):
    body = {"tenant_id": str(funded_tenant.pk), "amount": 500, "reference_note": "Invoice #9"}
    first = post(platform_admin, ALLOCATE, body, "inv-9")
    again = post(platform_admin, ALLOCATE, body, "inv-9")
    assert (again.status_code, again["Idempotent-Replayed"], again.json()) == (200, "true", first.json())
    claw = {"reason": "Over-allocated", "amount": 500}
    first = post(platform_admin, clawback_path(funded_tenant.pk), claw, "claw-1")
    again = post(platform_admin, clawback_path(funded_tenant.pk), claw, "claw-1")
    assert (again.status_code, again["Idempotent-Replayed"], again.json()) == (200, "true", first.json())
    assert pool_of(funded_tenant) == 50_000
    assert AllocationLog.objects.filter(kind="ALLOCATION").count() == 2  # the fixture's and this one
    assert AllocationLog.objects.filter(kind="CLAWBACK").count() == 1


def test_a_members_key_is_kept_under_their_tenant_and_a_platform_admins_apart(
    manager, employee, platform_admin, funded_tenant, other_tenant
):
    """SPEC §14: a member's record carries their tenant (the claim is a statement on one tenant);
    staff have none, and their records live in the platform's own table."""
    assert post(manager, AWARD, award_body(employee), "same-key").status_code == 200
    body = {"tenant_id": str(other_tenant.pk), "amount": 500, "reference_note": "Invoice #10"}
    assert post(platform_admin, ALLOCATE, body, "same-key").status_code == 200
    assert list(IdempotencyRecord.objects.values_list("tenant_id", "user_id", "key")) == [
        (funded_tenant.pk, manager.pk, "same-key")
    ]
    assert list(PlatformIdempotencyRecord.objects.values_list("user_id", "key")) == [(platform_admin.pk, "same-key")]
    # The platform admin's replay is found in the platform's table.
    again = post(platform_admin, ALLOCATE, body, "same-key")
    assert (again.status_code, again["Idempotent-Replayed"]) == (200, "true")
    assert pool_of(other_tenant) == 500


def test_a_clawback_key_is_bound_to_its_tenant(platform_admin, funded_tenant, other_tenant, allocate):
    """The path is part of the request: the same key and body for another tenant is another request → 422."""
    allocate(other_tenant, 1_000)
    assert post(platform_admin, clawback_path(funded_tenant.pk), {"reason": "x", "amount": 5}, "c").status_code == 200
    response = post(platform_admin, clawback_path(other_tenant.pk), {"reason": "x", "amount": 5}, "c")
    assert response.status_code == 422
    assert pool_of(other_tenant) == 1_000


def test_a_stored_refusal_replays_even_after_the_pool_is_topped_up(manager, lead, funded_tenant, allocate):
    body = {"lead_id": str(lead.pk), "amount": 60_000}
    first = post(manager, DELEGATE, body, "big-delegation")
    assert first.status_code == 400
    assert first.json()["code"] == "insufficient_balance"
    allocate(funded_tenant, 20_000)
    again = post(manager, DELEGATE, body, "big-delegation")
    assert again.status_code == 400
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert (pool_of(funded_tenant), budget_of(lead)) == (70_000, 0)
    assert DelegationLog.objects.count() == 0
    # A fresh key is a fresh request: now it goes through.
    assert post(manager, DELEGATE, body, "big-delegation-2").status_code == 200
    assert budget_of(lead) == 60_000


def test_malformed_input_is_not_stored_so_the_key_can_be_used_once_fixed(manager, employee, funded_tenant):
    response = post(manager, AWARD, {**award_body(employee), "amount": "1.5"}, "fix-me")
    assert response.status_code == 400
    assert IdempotencyRecord.objects.count() == 0
    response = post(manager, AWARD, award_body(employee), "fix-me")
    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response
    assert wallet_of(employee) == 1_000


def test_keys_are_per_endpoint_and_per_user(manager, funded_lead, employee, other_employee):
    assert post(manager, AWARD, award_body(employee, 10), "k").status_code == 200
    response = post(manager, DELEGATE, {"lead_id": str(funded_lead.pk), "amount": 10}, "k")
    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response
    response = post(funded_lead, AWARD, award_body(employee, 10), "k")
    assert response.status_code == 200
    assert response.json()["funding_source"] == "LEAD_BUDGET"
    assert "Idempotent-Replayed" not in response
    assert wallet_of(employee) == 20


def test_a_request_still_in_flight_answers_409(manager, employee, funded_tenant):
    body = award_body(employee)
    IdempotencyRecord.objects.create(
        user=manager,
        tenant_id=manager.tenant_id,
        scope="points.award-to-user",
        key="in-flight",
        fingerprint=fingerprint({"path": AWARD, "body": body}),
    )
    before = books()
    response = post(manager, AWARD, body, "in-flight")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "A request with this Idempotency-Key is still in progress. Retry shortly.",
        "code": "idempotency_key_in_progress",
    }
    assert books() == before


@pytest.mark.parametrize("key", ["", "   ", "x" * 256])
def test_a_bad_key_is_refused(manager, employee, funded_tenant, key):
    before = books()
    response = post(manager, AWARD, award_body(employee), key)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"
    assert books() == before


def _seed_world():
    """Committed rows for threaded tests: a tenant with 50,000 points, a manager and an employee."""
    from points.services import tenant_allocate
    from tenants.tests.factories import PlatformAdminFactory

    admin = PlatformAdminFactory()
    tenant = TenantFactory()
    tenant_allocate(actor=admin, tenant_id=tenant.pk, amount=50_000, reference_note="Invoice #8842")
    return tenant, ManagerFactory(tenant=tenant), UserFactory(tenant=tenant)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_move_points_once():
    tenant, manager, employee = _seed_world()
    body = award_body(employee, 700)

    def send(_):
        client = APIClient()
        client.force_authenticate(User.objects.get(pk=manager.pk))
        response = client.post(AWARD, body, format="json", HTTP_IDEMPOTENCY_KEY="double-click")
        return response.status_code, response.json(), response.get("Idempotent-Replayed")

    results = run_together(8, send)
    assert all(isinstance(r, tuple) for r in results), results
    statuses = sorted(r[0] for r in results)
    assert set(statuses) <= {200, 409}, statuses
    originals = [r for r in results if r[0] == 200 and r[2] is None]
    assert len(originals) == 1
    replays = [r for r in results if r[0] == 200 and r[2] == "true"]
    assert all(r[1] == originals[0][1] for r in replays)
    assert WalletLedger.objects.filter(wallet__user=employee).count() == 1
    assert wallet_of(employee) == 700
    assert pool_of(tenant) == 49_300
    assert all(report.ok for report in reconcile(tenant_slug=tenant.slug))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_awards_never_overdraw_the_pool():
    """Eight managers' clicks of 15,000 each on a 50,000 pool: exactly three go through."""
    tenant, manager, employee = _seed_world()

    def send(i):
        client = APIClient()
        client.force_authenticate(User.objects.get(pk=manager.pk))
        response = client.post(AWARD, award_body(employee, 15_000), format="json", HTTP_IDEMPOTENCY_KEY=f"k{i}")
        return response.status_code, response.json()

    results = run_together(8, send)
    assert all(isinstance(r, tuple) for r in results), results
    assert sorted(r[0] for r in results) == [200] * 3 + [400] * 5
    assert {r[1]["code"] for r in results if r[0] == 400} == {"insufficient_balance"}
    assert sorted(r[1]["tenant_remaining_pool"] for r in results if r[0] == 200) == [5_000, 20_000, 35_000]
    assert pool_of(tenant) == 5_000
    assert wallet_of(employee) == 45_000
    assert Tenant.objects.get(pk=tenant.pk).points_allocation_balance >= 0
    assert all(report.ok for report in reconcile(tenant_slug=tenant.slug))
