"""`/api/v1/recognitions/` and the seed's `POST /api/recognitions` (SPEC §6)."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from points.models import IdempotencyRecord, LeadBudget
from recognition.models import Recognition
from tenants.models import Tenant
from tenants.services import user_set_active
from tenants.tests.factories import UserFactory
from wallets.models import Wallet, WalletLedger

RECOGNITIONS = "/api/v1/recognitions/"
SEED = "/api/recognitions"


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def pool_of(tenant) -> int:
    return Tenant.objects.values_list("points_allocation_balance", flat=True).get(pk=tenant.pk)


def wallet_of(user) -> int:
    return Wallet.objects.values_list("balance", flat=True).get(user=user)


def budget_of(lead) -> int:
    return LeadBudget.objects.values_list("balance", flat=True).get(lead=lead)


def books() -> dict:
    return {
        "pools": dict(Tenant.objects.values_list("id", "points_allocation_balance")),
        "budgets": dict(LeadBudget.objects.values_list("lead_id", "balance")),
        "wallets": dict(Wallet.objects.values_list("user_id", "balance")),
        "recognitions": Recognition.objects.count(),
        "ledger": WalletLedger.objects.count(),
    }


def iso(value) -> str:
    return value.isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize("path", [RECOGNITIONS, SEED, SEED + "/"])
def test_manager_awards_one_employee_from_the_pool(manager, employee, funded_tenant, path):
    response = client_for(manager).post(
        path, {"to_user_id": str(employee.pk), "points": 1_000, "message": "Great project delivery"}
    )
    assert response.status_code == 201, response.json()
    recognition = Recognition.objects.get()
    entry = WalletLedger.objects.get()
    row = {
        "id": str(recognition.pk),
        "group_id": str(recognition.group_id),
        "giver_id": str(manager.pk),
        "giver_name": "Maya Manager",
        "automated": False,
        "receiver_id": str(employee.pk),
        "receiver_name": "Asha Employee",
        "points": 1_000,
        "message": "Great project delivery",
        "funding_source": "POOL",
        "created_at": iso(recognition.created_at),
    }
    assert response.json() == {
        **row,
        "receiver_ids": [str(employee.pk)],
        "total_points": 1_000,
        "recognitions": [{**row, "wallet_balance_after": 1_000, "ledger_entry_id": str(entry.pk)}],
        "tenant_remaining_pool": 49_000,
        "lead_remaining_budget": None,
        "allowance_remaining": None,
        "value_ids": [],
    }
    assert pool_of(funded_tenant) == 49_000
    assert wallet_of(employee) == 1_000
    assert (entry.entry_type, entry.source, entry.amount, entry.balance_after, entry.recognition_id) == (
        "CREDIT",
        "RECOGNITION",
        1_000,
        1_000,
        recognition.pk,
    )


def test_lead_awards_several_recipients_from_its_budget(funded_lead, employee, other_employee, funded_tenant):
    response = client_for(funded_lead).post(
        RECOGNITIONS,
        {"to_user_ids": [str(employee.pk), str(other_employee.pk)], "points": "250", "message": "Team win"},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["funding_source"] == "LEAD_BUDGET"
    assert body["total_points"] == 500
    assert body["lead_remaining_budget"] == 9_500
    assert body["tenant_remaining_pool"] is None
    assert body["receiver_ids"] == [str(employee.pk), str(other_employee.pk)]
    assert [(r["receiver_id"], r["wallet_balance_after"]) for r in body["recognitions"]] == [
        (str(employee.pk), 250),
        (str(other_employee.pk), 250),
    ]
    assert len({r["group_id"] for r in body["recognitions"]}) == 1
    assert budget_of(funded_lead) == 9_500
    assert pool_of(funded_tenant) == 40_000
    assert (wallet_of(employee), wallet_of(other_employee)) == (250, 250)
    assert Recognition.objects.filter(group_id=body["group_id"]).count() == 2


def test_manager_names_the_lead_budget_explicitly(manager, lead, employee, funded_tenant):
    response = client_for(manager).post(
        RECOGNITIONS,
        {"to_user_id": str(employee.pk), "points": 10, "message": "x", "funding_source": "lead_budget"},
    )
    assert response.status_code == 400
    assert response.json() == {"detail": "You have no lead budget.", "code": "no_lead_budget"}
    assert pool_of(funded_tenant) == 50_000


def test_employee_gives_kudos_that_move_nothing(employee, other_employee, funded_tenant):
    before = books()
    response = client_for(employee).post(
        RECOGNITIONS, {"to_user_id": str(other_employee.pk), "points": 0, "message": "Thanks for the help!"}
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["points"], body["funding_source"], body["total_points"]) == (0, "NONE", 0)
    # Kudos never show a colleague's wallet balance.
    assert body["recognitions"][0]["wallet_balance_after"] is None
    assert body["recognitions"][0]["ledger_entry_id"] is None
    assert (body["tenant_remaining_pool"], body["lead_remaining_budget"]) == (None, None)
    after = books()
    assert after["recognitions"] == before["recognitions"] + 1
    assert {k: v for k, v in after.items() if k != "recognitions"} == {
        k: v for k, v in before.items() if k != "recognitions"
    }


def test_employee_may_not_award_points(employee, other_employee, funded_tenant):
    before = books()
    response = client_for(employee).post(
        RECOGNITIONS, {"to_user_id": str(other_employee.pk), "points": 5, "message": "x"}
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert books() == before


@pytest.mark.parametrize(
    ("make_body", "status", "code"),
    [
        (lambda e, m: {"to_user_id": str(m.pk), "points": 10, "message": "me"}, 400, "self_recognition"),
        (
            lambda e, m: {"to_user_ids": [str(e.pk), str(e.pk)], "points": 10, "message": "x"},
            400,
            "duplicate_recipients",
        ),
        (lambda e, m: {"to_user_id": str(e.pk), "points": 60_000, "message": "x"}, 400, "insufficient_balance"),
        (lambda e, m: {"to_user_id": str(uuid.uuid4()), "points": 10, "message": "x"}, 404, "not_found"),
    ],
)
def test_business_rule_refusals_change_nothing(manager, employee, funded_tenant, make_body, status, code):
    before = books()
    response = client_for(manager).post(RECOGNITIONS, make_body(employee, manager))
    assert response.status_code == status, response.json()
    assert response.json()["code"] == code
    assert books() == before


def test_insufficient_pool_names_the_figures(manager, employee, funded_tenant):
    response = client_for(manager).post(
        RECOGNITIONS, {"to_user_id": str(employee.pk), "points": 60_000, "message": "x"}
    )
    assert response.json() == {
        "detail": "Insufficient company allocation pool. Available: 50000, Required: 60000.",
        "code": "insufficient_balance",
        "available": 50_000,
        "required": 60_000,
    }


def test_an_inactive_recipient_is_refused(manager, employee, funded_tenant):
    user_set_active(user=employee, is_active=False)
    response = client_for(manager).post(RECOGNITIONS, {"to_user_id": str(employee.pk), "points": 10, "message": "x"})
    assert response.status_code == 400
    assert response.json()["code"] == "inactive_user"
    assert pool_of(funded_tenant) == 50_000


def test_a_suspended_tenant_moves_nothing(manager, employee, funded_tenant):
    Tenant.objects.filter(pk=funded_tenant.pk).update(status="SUSPENDED")
    response = client_for(manager).post(RECOGNITIONS, {"to_user_id": str(employee.pk), "points": 10, "message": "x"})
    assert response.status_code == 400
    assert response.json()["code"] == "tenant_suspended"
    assert wallet_of(employee) == 0


def test_another_tenants_recipient_answers_like_a_missing_one(manager, outsider, funded_tenant):
    client = client_for(manager)
    foreign = client.post(RECOGNITIONS, {"to_user_id": str(outsider.pk), "points": 10, "message": "x"})
    missing = client.post(RECOGNITIONS, {"to_user_id": str(uuid.uuid4()), "points": 10, "message": "x"})
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json() == {"detail": "Recipient not found.", "code": "not_found"}
    assert wallet_of(outsider) == 0
    assert pool_of(funded_tenant) == 50_000


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"points": 10, "message": "x"}, "to_user_id"),
        ({"to_user_id": "{e}", "to_user_ids": ["{e}"], "points": 10, "message": "x"}, "to_user_id"),
        ({"to_user_id": "{e}", "message": "x"}, "points"),
        ({"to_user_id": "{e}", "points": 10}, "message"),
        ({"to_user_id": "{e}", "points": -1, "message": "x"}, "points"),
        ({"to_user_id": "{e}", "points": 1.5, "message": "x"}, "points"),
        ({"to_user_id": "{e}", "points": "1.5", "message": "x"}, "points"),
        ({"to_user_id": "{e}", "points": True, "message": "x"}, "points"),
        ({"to_user_id": "{e}", "points": None, "message": "x"}, "points"),
        ({"to_user_id": "{e}", "points": [10], "message": "x"}, "points"),
        ({"to_user_id": "{e}", "points": 1_000_000_001, "message": "x"}, "points"),
        ({"to_user_id": "{e}", "points": "ten", "message": "x"}, "points"),
        ({"to_user_id": 12, "points": 10, "message": "x"}, "to_user_id"),
        ({"to_user_id": None, "points": 10, "message": "x"}, "to_user_id"),
        ({"to_user_id": "not-a-uuid", "points": 10, "message": "x"}, "to_user_id"),
        ({"to_user_ids": [], "points": 10, "message": "x"}, "to_user_ids"),
        ({"to_user_ids": "{e}", "points": 10, "message": "x"}, "to_user_ids"),
        ({"to_user_ids": [str(uuid.uuid4()) for _ in range(51)], "points": 10, "message": "x"}, "to_user_ids"),
        ({"to_user_id": "{e}", "points": 10, "message": "x" * 2001}, "message"),
        ({"to_user_id": "{e}", "points": 10, "message": "   "}, "message"),
        ({"to_user_id": "{e}", "points": 10, "message": "x", "funding_source": "BANK"}, "funding_source"),
        ({"to_user_id": "{e}", "points": 10, "message": "x", "tenant_id": str(uuid.uuid4())}, "tenant_id"),
    ],
)
def test_bad_inputs_are_field_errors_and_change_nothing(manager, employee, funded_tenant, body, field):
    def fill(value):
        if value == "{e}":
            return str(employee.pk)
        if isinstance(value, list):
            return [fill(v) for v in value]
        return value

    before = books()
    response = client_for(manager).post(RECOGNITIONS, {k: fill(v) for k, v in body.items()})
    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert books() == before


def test_malformed_json_is_a_400(manager, funded_tenant):
    response = client_for(manager).post(RECOGNITIONS, data="{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_idempotent_replay_moves_nothing_twice(manager, employee, funded_tenant):
    client = client_for(manager)
    body = {"to_user_id": str(employee.pk), "points": 100, "message": "Once"}
    first = client.post(RECOGNITIONS, body, HTTP_IDEMPOTENCY_KEY="award-1")
    second = client.post(RECOGNITIONS, body, HTTP_IDEMPOTENCY_KEY="award-1")
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert wallet_of(employee) == 100
    assert pool_of(funded_tenant) == 49_900
    reused = client.post(RECOGNITIONS, {**body, "points": 200}, HTTP_IDEMPOTENCY_KEY="award-1")
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"
    assert wallet_of(employee) == 100
    assert IdempotencyRecord.objects.count() == 1


def test_a_replayed_refusal_is_the_same_refusal(manager, employee, funded_tenant):
    client = client_for(manager)
    body = {"to_user_id": str(employee.pk), "points": 60_000, "message": "Too much"}
    first = client.post(RECOGNITIONS, body, HTTP_IDEMPOTENCY_KEY="k")
    second = client.post(RECOGNITIONS, body, HTTP_IDEMPOTENCY_KEY="k")
    assert first.status_code == second.status_code == 400
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"


@pytest.mark.parametrize("role", ["platform_admin", None])
def test_non_members_may_not_recognise(request, role, employee):
    user = request.getfixturevalue(role) if role else None
    response = client_for(user).post(RECOGNITIONS, {"to_user_id": str(employee.pk), "points": 0, "message": "x"})
    assert response.status_code == (403 if role else 401)
    assert Recognition.objects.count() == 0


def test_feed_is_the_tenants_newest_first(manager, lead, employee, other_employee, outsider, funded_tenant, award):
    first = award(manager, employee, 10, "First")
    second = award(manager, [employee, other_employee], 20, "Second")
    award(employee, other_employee, 0, "Kudos")
    outsider_peer = UserFactory(tenant=outsider.tenant)
    award(outsider, outsider_peer, 0, "Elsewhere")
    response = client_for(lead).get(RECOGNITIONS)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 4
    assert [r["message"] for r in body["results"]] == ["Kudos", "Second", "Second", "First"]
    last = body["results"][-1]
    assert last == {
        "id": str(first.recognitions[0].pk),
        "group_id": str(first.group_id),
        "giver_id": str(manager.pk),
        "giver_name": "Maya Manager",
        "automated": False,
        "receiver_id": str(employee.pk),
        "receiver_name": "Asha Employee",
        "points": 10,
        "message": "First",
        "funding_source": "POOL",
        "created_at": iso(first.recognitions[0].created_at),
    }
    assert {r["group_id"] for r in body["results"][1:3]} == {str(second.group_id)}


def test_feed_filters(manager, lead, employee, other_employee, funded_lead, award):
    award(manager, employee, 10, "pool")
    award(lead, other_employee, 20, "budget")
    award(employee, other_employee, 0, "kudos")
    client = client_for(employee)

    def messages(**params):
        response = client.get(RECOGNITIONS, params)
        assert response.status_code == 200, response.json()
        return [r["message"] for r in response.json()["results"]]

    assert messages(funding_source="LEAD_BUDGET") == ["budget"]
    assert messages(funding_source="NONE") == ["kudos"]
    assert messages(giver_id=str(lead.pk)) == ["budget"]
    assert messages(receiver_id=str(employee.pk)) == ["pool"]
    assert messages(user_id=str(employee.pk)) == ["kudos", "pool"]
    assert messages(created_at_after="2000-01-01", created_at_before="2000-01-02") == []
    assert len(messages(created_at_after="2000-01-01")) == 3
    assert client.get(RECOGNITIONS, {"funding_source": "BANK"}).status_code == 400
    assert client.get(RECOGNITIONS, {"giver_id": "nope"}).status_code == 400


def test_retrieve_one_recognition_and_another_tenants_is_404(manager, employee, outsider, funded_tenant, award):
    mine = award(manager, employee, 10).recognitions[0]
    peer = UserFactory(tenant=outsider.tenant)
    theirs = award(outsider, peer, 0).recognitions[0]
    client = client_for(employee)
    assert client.get(f"{RECOGNITIONS}{mine.pk}/").json()["id"] == str(mine.pk)
    foreign = client.get(f"{RECOGNITIONS}{theirs.pk}/")
    missing = client.get(f"{RECOGNITIONS}{uuid.uuid4()}/")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()


@pytest.mark.parametrize("rows", [3, 30])
def test_feed_query_count_does_not_grow(manager, employee, funded_tenant, award, django_assert_max_num_queries, rows):
    for _ in range(rows):
        award(manager, employee, 1)
    with django_assert_max_num_queries(2):  # count + page with giver and receiver joined
        response = client_for(employee).get(RECOGNITIONS, {"page_size": 200})
    assert response.json()["count"] == rows


@pytest.mark.parametrize("recipients", [1, 20])
def test_create_query_count_does_not_grow_with_recipients(
    manager, tenant, funded_tenant, django_assert_max_num_queries, recipients
):
    people = [UserFactory(tenant=tenant) for _ in range(recipients)]
    body = {"to_user_ids": [str(p.pk) for p in people], "points": 5, "message": "All of you"}
    # Measured 15 for 1 and for 20 recipients: key claim, tenant, wallets (locked), set-based inserts and
    # update, pool debit, the event, read-back of the rows, key completion, and the savepoints around them.
    with django_assert_max_num_queries(16):
        response = client_for(manager).post(RECOGNITIONS, body, HTTP_IDEMPOTENCY_KEY=f"k{recipients}")
    assert response.status_code == 201
    assert pool_of(funded_tenant) == 50_000 - 5 * recipients
