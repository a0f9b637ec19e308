"""Redeem, refund and recognise over HTTP under concurrency and repeated keys (SPEC §4, §6).

Threaded tests run on PostgreSQL (real row locks); each thread has its own
connection and all start together at a barrier.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from perksu.testing import run_together
from points.idempotency import fingerprint
from points.models import IdempotencyRecord
from points.reconcile import reconcile
from points.services import tenant_allocate
from recognition.models import Recognition
from recognition.services import recognition_create
from tenants.models import Tenant, User
from tenants.tests.factories import ManagerFactory, PlatformAdminFactory, TenantFactory, UserFactory
from wallets.models import Redemption, Reward, Wallet, WalletLedger
from wallets.services import redemption_create, reward_create

REDEMPTIONS = "/api/v1/redemptions/"
RECOGNITIONS = "/api/v1/recognitions/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=user.pk))
    return client


def seed(members: int):
    """A tenant with 50,000 points, a manager, `members` employees with 1,000 points each, a 300-point reward."""
    tenant = TenantFactory()
    tenant_allocate(actor=PlatformAdminFactory(), tenant_id=tenant.pk, amount=50_000, reference_note="Invoice #8842")
    manager = ManagerFactory(tenant=tenant)
    employees = [UserFactory(tenant=tenant) for _ in range(members)]
    recognition_create(giver=manager, recipient_ids=[e.pk for e in employees], points=1_000, message="Welcome")
    reward = reward_create(actor=manager, name="Voucher", points_cost=300, stock=3)
    return tenant, manager, employees, reward


def balance(user) -> int:
    return Wallet.objects.values_list("balance", flat=True).get(user=user)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_members_race_for_three_vouchers():
    tenant, _, employees, reward = seed(8)

    def send(i):
        response = client_for(employees[i]).post(REDEMPTIONS, {"reward_id": str(reward.pk)}, HTTP_IDEMPOTENCY_KEY="r")
        return response.status_code, response.json()

    results = run_together(8, send)
    assert all(isinstance(r, tuple) for r in results), results
    assert sorted(r[0] for r in results) == [201] * 3 + [400] * 5
    assert {r[1]["code"] for r in results if r[0] == 400} == {"out_of_stock"}
    assert Reward.objects.get(pk=reward.pk).stock == 0
    assert Redemption.objects.count() == 3
    assert sorted(balance(e) for e in employees) == [700] * 3 + [1_000] * 5
    assert all(report.ok for report in reconcile(tenant_slug=tenant.slug))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_double_clicked_redeem_spends_once():
    tenant, _, (employee,), reward = seed(1)

    def send(_):
        response = client_for(employee).post(
            REDEMPTIONS, {"reward_id": str(reward.pk)}, HTTP_IDEMPOTENCY_KEY="double-click"
        )
        return response.status_code, response.json(), response.get("Idempotent-Replayed")

    results = run_together(6, send)
    assert all(isinstance(r, tuple) for r in results), results
    assert {r[0] for r in results} <= {201, 409}
    originals = [r for r in results if r[0] == 201 and r[2] is None]
    assert len(originals) == 1
    assert all(r[1] == originals[0][1] for r in results if r[0] == 201)
    assert Redemption.objects.count() == 1
    assert balance(employee) == 700
    assert Reward.objects.get(pk=reward.pk).stock == 2
    assert all(report.ok for report in reconcile(tenant_slug=tenant.slug))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_refunds_credit_once():
    tenant, manager, (employee,), reward = seed(1)
    redemption = redemption_create(user=employee, reward_id=reward.pk).redemption

    def send(i):
        response = client_for(manager).post(f"{REDEMPTIONS}{redemption.pk}/refund/", HTTP_IDEMPOTENCY_KEY=f"k{i}")
        return response.status_code, response.json()

    results = run_together(6, send)
    assert all(isinstance(r, tuple) for r in results), results
    assert sorted(r[0] for r in results) == [200] + [400] * 5
    assert {r[1]["code"] for r in results if r[0] == 400} == {"already_refunded"}
    assert balance(employee) == 1_000
    assert WalletLedger.objects.filter(source="REFUND").count() == 1
    assert Reward.objects.get(pk=reward.pk).stock == 3
    assert all(report.ok for report in reconcile(tenant_slug=tenant.slug))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_double_clicked_recognition_awards_once():
    tenant, manager, (employee,), _ = seed(1)
    body = {"to_user_ids": [str(employee.pk)], "points": 250, "message": "Once"}

    def send(_):
        response = client_for(manager).post(RECOGNITIONS, body, HTTP_IDEMPOTENCY_KEY="click")
        return response.status_code, response.json(), response.get("Idempotent-Replayed")

    results = run_together(6, send)
    assert all(isinstance(r, tuple) for r in results), results
    assert {r[0] for r in results} <= {201, 409}
    assert len([r for r in results if r[0] == 201 and r[2] is None]) == 1
    assert Recognition.objects.filter(message="Once").count() == 1
    assert balance(employee) == 1_250
    assert Tenant.objects.get(pk=tenant.pk).points_allocation_balance == 50_000 - 1_000 - 250
    assert all(report.ok for report in reconcile(tenant_slug=tenant.slug))


@pytest.mark.parametrize(
    ("path", "make_body"),
    [
        (RECOGNITIONS, lambda e, r: {"to_user_id": str(e.pk), "points": 10, "message": "x"}),
        (REDEMPTIONS, lambda e, r: {"reward_id": str(r.pk)}),
    ],
)
def test_a_request_still_in_flight_answers_409(db, path, make_body):
    _, manager, (employee,), reward = seed(1)
    caller = manager if path == RECOGNITIONS else employee
    body = make_body(employee, reward)
    scope = "recognitions.create" if path == RECOGNITIONS else "redemptions.create"
    IdempotencyRecord.objects.create(
        user=caller,
        tenant_id=caller.tenant_id,
        scope=scope,
        key="in-flight",
        fingerprint=fingerprint({"path": path, "body": body}),
    )
    before = (balance(employee), Redemption.objects.count(), Recognition.objects.count())
    response = client_for(caller).post(path, body, HTTP_IDEMPOTENCY_KEY="in-flight")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "A request with this Idempotency-Key is still in progress. Retry shortly.",
        "code": "idempotency_key_in_progress",
    }
    assert (balance(employee), Redemption.objects.count(), Recognition.objects.count()) == before
