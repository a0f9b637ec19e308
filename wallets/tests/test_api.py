"""`/api/v1/wallets/me/`, `/api/v1/wallets/me/ledger/`, `/api/v1/rewards/` and `/api/v1/redemptions/` (SPEC §6)."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from points.models import IdempotencyRecord
from tenants.models import Tenant
from tenants.tests.factories import UserFactory
from wallets.models import Redemption, Reward, Wallet, WalletLedger
from wallets.services import redemption_create, redemption_refund, reward_create

WALLET = "/api/v1/wallets/me/"
LEDGER = "/api/v1/wallets/me/ledger/"
REWARDS = "/api/v1/rewards/"
REDEMPTIONS = "/api/v1/redemptions/"


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def iso(value) -> str:
    return value.isoformat().replace("+00:00", "Z")


def wallet(user) -> Wallet:
    return Wallet.objects.get(user=user)


def books() -> dict:
    return {
        "wallets": dict(Wallet.objects.values_list("user_id", "balance")),
        "stock": dict(Reward.objects.values_list("id", "stock")),
        "redemptions": dict(Redemption.objects.values_list("id", "status")),
        "ledger": WalletLedger.objects.count(),
        "pools": dict(Tenant.objects.values_list("id", "points_allocation_balance")),
    }


@pytest.fixture
def rich_employee(manager, employee, funded_tenant, award):
    """`employee` with 1,000 points in its wallet, awarded from the pool."""
    award(manager, employee, 1_000, "Great project delivery")
    return employee


@pytest.fixture
def voucher(manager):
    return reward_create(actor=manager, name="Amazon voucher", points_cost=300, description="₹300 gift card", stock=5)


# --- wallet ----------------------------------------------------------------------------------------------------------


def test_my_wallet_shows_balance_and_lifetime_figures(rich_employee, voucher, manager):
    redemption = redemption_create(user=rich_employee, reward_id=voucher.pk).redemption
    redemption_refund(actor=manager, redemption_id=redemption.pk)
    redemption_create(user=rich_employee, reward_id=voucher.pk)
    response = client_for(rich_employee).get(WALLET)
    assert response.status_code == 200
    assert response.json() == {
        "id": str(wallet(rich_employee).pk),
        "user_id": str(rich_employee.pk),
        "balance": 700,
        "lifetime_earned": 1_000,
        "lifetime_spent": 300,
        "currency_label": "Points",
    }


@pytest.mark.parametrize(("role", "status"), [("platform_admin", 403), (None, 401)])
def test_wallet_needs_a_member(request, db, role, status):
    user = request.getfixturevalue(role) if role else None
    assert client_for(user).get(WALLET).status_code == status
    assert client_for(user).get(LEDGER).status_code == status


def test_ledger_lists_my_entries_newest_first(rich_employee, voucher, manager, other_employee, award):
    award(manager, other_employee, 50)  # someone else's wallet: never listed
    redemption = redemption_create(user=rich_employee, reward_id=voucher.pk).redemption
    redemption_refund(actor=manager, redemption_id=redemption.pk)
    response = client_for(rich_employee).get(LEDGER)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [
        (e["entry_no"], e["entry_type"], e["source"], e["amount"], e["balance_after"]) for e in body["results"]
    ] == [
        (3, "CREDIT", "REFUND", 300, 1_000),
        (2, "DEBIT", "REDEMPTION", 300, 700),
        (1, "CREDIT", "RECOGNITION", 1_000, 1_000),
    ]
    entry = WalletLedger.objects.get(wallet__user=rich_employee, entry_no=1)
    assert body["results"][2] == {
        "id": str(entry.pk),
        "entry_no": 1,
        "entry_type": "CREDIT",
        "source": "RECOGNITION",
        "amount": 1_000,
        "balance_after": 1_000,
        "note": "Great project delivery",
        "recognition_id": str(entry.recognition_id),
        "redemption_id": None,
        "actor_id": str(manager.pk),
        "actor_name": "Maya Manager",
        "created_at": iso(entry.created_at),
    }
    assert body["results"][0]["redemption_id"] == str(redemption.pk)


def test_ledger_filters_by_source_type_and_date(rich_employee, voucher):
    redemption_create(user=rich_employee, reward_id=voucher.pk)
    client = client_for(rich_employee)

    def sources(**params):
        response = client.get(LEDGER, params)
        assert response.status_code == 200, response.json()
        return [e["source"] for e in response.json()["results"]]

    assert sources(source="REDEMPTION") == ["REDEMPTION"]
    assert sources(type="CREDIT") == ["RECOGNITION"]
    assert sources(entry_type="DEBIT") == ["REDEMPTION"]
    assert sources(created_at_before="2000-01-01") == []
    assert sources(created_at_after="2000-01-01") == ["REDEMPTION", "RECOGNITION"]
    assert client.get(LEDGER, {"source": "GIFT"}).status_code == 400
    assert client.get(LEDGER, {"created_at_after": "yesterday"}).status_code == 400


@pytest.mark.parametrize("rows", [3, 30])
def test_ledger_query_count_does_not_grow(manager, employee, funded_tenant, award, django_assert_max_num_queries, rows):
    for _ in range(rows):
        award(manager, employee, 1)
    with django_assert_max_num_queries(2):  # count + page with the actor joined
        response = client_for(employee).get(LEDGER, {"page_size": 200})
    assert response.json()["count"] == rows


def test_wallet_query_count(employee, django_assert_max_num_queries):
    with django_assert_max_num_queries(1):
        assert client_for(employee).get(WALLET).json()["balance"] == 0


# --- rewards ---------------------------------------------------------------------------------------------------------


def reward_body(reward: Reward) -> dict:
    reward.refresh_from_db()
    return {
        "id": str(reward.pk),
        "name": reward.name,
        "description": reward.description,
        "points_cost": reward.points_cost,
        "stock": reward.stock,
        "is_active": reward.is_active,
        "created_at": iso(reward.created_at),
    }


def test_members_see_the_active_catalog_and_managers_everything(manager, employee, voucher, other_tenant):
    retired = reward_create(actor=manager, name="Old mug", points_cost=50, is_active=False)
    outsider_manager = UserFactory(tenant=other_tenant, role="tenant_manager")
    reward_create(actor=outsider_manager, name="Elsewhere", points_cost=10)
    member_view = client_for(employee).get(REWARDS).json()
    assert member_view["results"] == [reward_body(voucher)]
    manager_view = client_for(manager).get(REWARDS).json()
    assert manager_view["results"] == [reward_body(retired), reward_body(voucher)]  # cheapest first
    assert client_for(manager).get(REWARDS, {"is_active": "false"}).json()["count"] == 1
    assert client_for(employee).get(f"{REWARDS}{retired.pk}/").status_code == 404
    assert client_for(manager).get(f"{REWARDS}{retired.pk}/").json()["name"] == "Old mug"


def test_catalog_filters(manager, employee, voucher):
    reward_create(actor=manager, name="Sold out", points_cost=100, stock=0)
    client = client_for(employee)
    assert [r["name"] for r in client.get(REWARDS, {"in_stock": "true"}).json()["results"]] == ["Amazon voucher"]
    assert [r["name"] for r in client.get(REWARDS, {"in_stock": "false"}).json()["results"]] == ["Sold out"]
    assert [r["name"] for r in client.get(REWARDS, {"points_cost_max": 150}).json()["results"]] == ["Sold out"]


def test_manager_creates_a_reward(manager, tenant):
    response = client_for(manager).post(REWARDS, {"name": "Team lunch", "points_cost": "800", "stock": 10})
    assert response.status_code == 201, response.json()
    reward = Reward.objects.get()
    assert response.json() == reward_body(reward)
    assert (reward.tenant_id, reward.points_cost, reward.stock, reward.is_active, reward.description) == (
        tenant.pk,
        800,
        10,
        True,
        "",
    )


def test_a_reward_without_stock_is_unlimited(manager):
    response = client_for(manager).post(REWARDS, {"name": "Day off", "points_cost": 5_000, "stock": None})
    assert response.status_code == 201
    assert response.json()["stock"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"points_cost": 10}, "name"),
        ({"name": "X"}, "points_cost"),
        ({"name": "X", "points_cost": 0}, "points_cost"),
        ({"name": "X", "points_cost": -5}, "points_cost"),
        ({"name": "X", "points_cost": 1.5}, "points_cost"),
        ({"name": "X", "points_cost": "1.5"}, "points_cost"),
        ({"name": "X", "points_cost": True}, "points_cost"),
        ({"name": "X", "points_cost": None}, "points_cost"),
        ({"name": "X", "points_cost": [10]}, "points_cost"),
        ({"name": "X", "points_cost": 10**12}, "points_cost"),
        ({"name": "X", "points_cost": 10, "stock": -1}, "stock"),
        ({"name": "X", "points_cost": 10, "stock": 2.5}, "stock"),
        ({"name": "X", "points_cost": 10, "stock": False}, "stock"),
        ({"name": "", "points_cost": 10}, "name"),
        ({"name": "X" * 201, "points_cost": 10}, "name"),
        ({"name": "X", "points_cost": 10, "tenant_id": str(uuid.uuid4())}, "tenant_id"),
    ],
)
def test_bad_reward_inputs(manager, body, field):
    response = client_for(manager).post(REWARDS, body)
    assert response.status_code == 400
    assert field in response.json()
    assert Reward.objects.count() == 0


def test_manager_updates_a_reward(manager, voucher):
    response = client_for(manager).patch(
        f"{REWARDS}{voucher.pk}/", {"points_cost": 350, "stock": 2, "is_active": False}
    )
    assert response.status_code == 200
    assert response.json() == reward_body(voucher)
    voucher.refresh_from_db()
    assert (voucher.points_cost, voucher.stock, voucher.is_active, voucher.name) == (350, 2, False, "Amazon voucher")


@pytest.mark.parametrize(
    "body", [{}, {"points_cost": 0}, {"stock": -1}, {"tenant_id": str(uuid.uuid4())}, {"name": ""}]
)
def test_bad_reward_updates_change_nothing(manager, voucher, body):
    response = client_for(manager).patch(f"{REWARDS}{voucher.pk}/", body)
    assert response.status_code == 400
    voucher.refresh_from_db()
    assert (voucher.points_cost, voucher.stock, voucher.name) == (300, 5, "Amazon voucher")


@pytest.mark.parametrize("role", ["lead", "employee"])
def test_only_managers_write_the_catalog(request, role, voucher):
    client = client_for(request.getfixturevalue(role))
    created = client.post(REWARDS, {"name": "Free", "points_cost": 1})
    changed = client.patch(f"{REWARDS}{voucher.pk}/", {"points_cost": 1})
    assert created.status_code == changed.status_code == 403
    assert created.json()["code"] == changed.json()["code"] == "permission_denied"
    assert Reward.objects.count() == 1
    voucher.refresh_from_db()
    assert voucher.points_cost == 300


def test_another_tenants_reward_is_404(manager, other_tenant):
    outsider_manager = UserFactory(tenant=other_tenant, role="tenant_manager")
    theirs = reward_create(actor=outsider_manager, name="Theirs", points_cost=10)
    client = client_for(manager)
    for foreign, missing in (
        (client.get(f"{REWARDS}{theirs.pk}/"), client.get(f"{REWARDS}{uuid.uuid4()}/")),
        (
            client.patch(f"{REWARDS}{theirs.pk}/", {"points_cost": 1}),
            client.patch(f"{REWARDS}{uuid.uuid4()}/", {"points_cost": 1}),
        ),
    ):
        assert foreign.status_code == missing.status_code == 404
        assert foreign.json() == missing.json()
    theirs.refresh_from_db()
    assert theirs.points_cost == 10


@pytest.mark.parametrize("rows", [3, 30])
def test_catalog_query_count_does_not_grow(manager, employee, django_assert_max_num_queries, rows):
    for n in range(rows):
        reward_create(actor=manager, name=f"Reward {n}", points_cost=10 + n)
    with django_assert_max_num_queries(2):
        response = client_for(employee).get(REWARDS, {"page_size": 200})
    assert response.json()["count"] == rows


# --- redemptions -----------------------------------------------------------------------------------------------------


def test_employee_redeems_a_reward(rich_employee, voucher):
    response = client_for(rich_employee).post(REDEMPTIONS, {"reward_id": str(voucher.pk)})
    assert response.status_code == 201, response.json()
    redemption = Redemption.objects.get()
    entry = WalletLedger.objects.get(redemption=redemption)
    assert response.json() == {
        "id": str(redemption.pk),
        "status": "ISSUED",
        "voucher_code": redemption.voucher_code,
        "points_spent": 300,
        "reward_id": str(voucher.pk),
        "reward_name": "Amazon voucher",
        "user_id": str(rich_employee.pk),
        "created_at": iso(redemption.created_at),
        "refunded_at": None,
        "wallet_balance_after": 700,
        "ledger_entry_id": str(entry.pk),
    }
    assert redemption.voucher_code.startswith("PRK-")
    assert wallet(rich_employee).balance == 700
    assert wallet(rich_employee).lifetime_spent == 300
    voucher.refresh_from_db()
    assert voucher.stock == 4
    assert (entry.entry_type, entry.source, entry.amount, entry.balance_after) == ("DEBIT", "REDEMPTION", 300, 700)


@pytest.mark.parametrize(
    ("setup", "status", "code"),
    [
        (lambda r: Reward.objects.filter(pk=r.pk).update(is_active=False), 400, "reward_inactive"),
        (lambda r: Reward.objects.filter(pk=r.pk).update(stock=0), 400, "out_of_stock"),
        (lambda r: Reward.objects.filter(pk=r.pk).update(points_cost=1_001), 400, "insufficient_balance"),
    ],
)
def test_redemption_refusals_change_nothing(rich_employee, voucher, setup, status, code):
    setup(voucher)
    before = books()
    response = client_for(rich_employee).post(REDEMPTIONS, {"reward_id": str(voucher.pk)})
    assert response.status_code == status
    assert response.json()["code"] == code
    assert books() == before


def test_insufficient_wallet_names_the_figures(employee, voucher):
    response = client_for(employee).post(REDEMPTIONS, {"reward_id": str(voucher.pk)})
    assert response.json() == {
        "detail": "Insufficient wallet balance. Available: 0, Required: 300.",
        "code": "insufficient_balance",
        "available": 0,
        "required": 300,
    }


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"reward_id": None},
        {"reward_id": 7},
        {"reward_id": "nope"},
        {"reward_id": ["x"]},
        {"reward_id": "{r}", "x": 1},
    ],
)
def test_bad_redemption_inputs(rich_employee, voucher, body):
    before = books()
    body = {k: (str(voucher.pk) if v == "{r}" else v) for k, v in body.items()}
    response = client_for(rich_employee).post(REDEMPTIONS, body)
    assert response.status_code == 400
    assert books() == before


def test_another_tenants_reward_cannot_be_redeemed(rich_employee, other_tenant):
    outsider_manager = UserFactory(tenant=other_tenant, role="tenant_manager")
    theirs = reward_create(actor=outsider_manager, name="Theirs", points_cost=10)
    before = books()
    client = client_for(rich_employee)
    foreign = client.post(REDEMPTIONS, {"reward_id": str(theirs.pk)})
    missing = client.post(REDEMPTIONS, {"reward_id": str(uuid.uuid4())})
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json() == {"detail": "Reward not found.", "code": "not_found"}
    assert books() == before


def test_redeem_is_idempotent(rich_employee, voucher):
    client = client_for(rich_employee)
    first = client.post(REDEMPTIONS, {"reward_id": str(voucher.pk)}, HTTP_IDEMPOTENCY_KEY="buy-1")
    second = client.post(REDEMPTIONS, {"reward_id": str(voucher.pk)}, HTTP_IDEMPOTENCY_KEY="buy-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert Redemption.objects.count() == 1
    assert wallet(rich_employee).balance == 700
    other = reward_create(actor=Reward.objects.get().tenant.members.get(role="tenant_manager"), name="B", points_cost=1)
    reused = client.post(REDEMPTIONS, {"reward_id": str(other.pk)}, HTTP_IDEMPOTENCY_KEY="buy-1")
    assert reused.status_code == 422
    assert Redemption.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1


def test_manager_refunds_a_redemption(manager, rich_employee, voucher):
    redemption = redemption_create(user=rich_employee, reward_id=voucher.pk).redemption
    response = client_for(manager).post(f"{REDEMPTIONS}{redemption.pk}/refund/")
    assert response.status_code == 200, response.json()
    redemption.refresh_from_db()
    entry = WalletLedger.objects.get(redemption=redemption, source="REFUND")
    assert response.json() == {
        "id": str(redemption.pk),
        "status": "REFUNDED",
        "voucher_code": None,  # the manager is not the redeemer
        "points_spent": 300,
        "reward_id": str(voucher.pk),
        "reward_name": "Amazon voucher",
        "user_id": str(rich_employee.pk),
        "created_at": iso(redemption.created_at),
        "refunded_at": iso(redemption.refunded_at),
        "wallet_balance_after": 1_000,
        "ledger_entry_id": str(entry.pk),
    }
    assert wallet(rich_employee).balance == 1_000
    assert wallet(rich_employee).lifetime_spent == 0
    voucher.refresh_from_db()
    assert voucher.stock == 5
    assert (entry.entry_type, entry.amount, entry.balance_after, entry.actor) == ("CREDIT", 300, 1_000, manager)

    again = client_for(manager).post(f"{REDEMPTIONS}{redemption.pk}/refund/")
    assert again.status_code == 400
    assert again.json() == {"detail": "This redemption was already refunded.", "code": "already_refunded"}
    assert wallet(rich_employee).balance == 1_000


def test_refund_replay_is_the_same_answer(manager, rich_employee, voucher):
    redemption = redemption_create(user=rich_employee, reward_id=voucher.pk).redemption
    client = client_for(manager)
    first = client.post(f"{REDEMPTIONS}{redemption.pk}/refund/", HTTP_IDEMPOTENCY_KEY="r")
    second = client.post(f"{REDEMPTIONS}{redemption.pk}/refund/", HTTP_IDEMPOTENCY_KEY="r")
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert WalletLedger.objects.filter(source="REFUND").count() == 1


@pytest.mark.parametrize("role", ["lead", "employee"])
def test_only_managers_refund(request, role, rich_employee, voucher):
    redemption = redemption_create(user=rich_employee, reward_id=voucher.pk).redemption
    client = client_for(request.getfixturevalue(role))
    before = books()
    response = client.post(f"{REDEMPTIONS}{redemption.pk}/refund/")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert books() == before


@pytest.fixture
def foreign_redemption(other_tenant, allocate, award):
    """A redemption of another tenant, made through that tenant's own services."""
    their_manager = UserFactory(tenant=other_tenant, role="tenant_manager")
    their_employee = UserFactory(tenant=other_tenant)
    allocate(other_tenant, 100)
    award(their_manager, their_employee, 100)
    reward = reward_create(actor=their_manager, name="Theirs", points_cost=10)
    return redemption_create(user=their_employee, reward_id=reward.pk).redemption


def test_another_tenants_redemption_answers_like_a_missing_one(manager, foreign_redemption):
    before = books()
    client = client_for(manager)
    for call in (
        lambda pk: client.get(f"{REDEMPTIONS}{pk}/"),
        lambda pk: client.post(f"{REDEMPTIONS}{pk}/refund/"),
    ):
        foreign, missing = call(foreign_redemption.pk), call(uuid.uuid4())
        assert foreign.status_code == missing.status_code == 404
        assert foreign.json() == missing.json()
    assert books() == before
    assert Redemption.objects.get(pk=foreign_redemption.pk).status == "ISSUED"


def test_members_see_their_own_redemptions_and_managers_the_tenants(manager, rich_employee, voucher, lead, award):
    award(manager, lead, 500)
    own = redemption_create(user=rich_employee, reward_id=voucher.pk).redemption
    leads = redemption_create(user=lead, reward_id=voucher.pk).redemption
    employee_view = client_for(rich_employee).get(REDEMPTIONS).json()["results"]
    assert [(r["id"], r["voucher_code"]) for r in employee_view] == [(str(own.pk), own.voucher_code)]
    assert client_for(rich_employee).get(f"{REDEMPTIONS}{leads.pk}/").status_code == 404
    manager_view = client_for(manager).get(REDEMPTIONS).json()["results"]
    assert [r["id"] for r in manager_view] == [str(leads.pk), str(own.pk)]
    # A voucher code is a bearer secret: only its redeemer sees it.
    assert [r["voucher_code"] for r in manager_view] == [None, None]
    assert client_for(manager).get(REDEMPTIONS, {"user_id": str(lead.pk)}).json()["count"] == 1
    assert client_for(manager).get(REDEMPTIONS, {"status": "REFUNDED"}).json()["count"] == 0


@pytest.mark.parametrize("rows", [3, 30])
def test_redemption_list_query_count_does_not_grow(
    manager, employee, funded_tenant, award, django_assert_max_num_queries, rows
):
    award(manager, employee, 1_000)
    reward = reward_create(actor=manager, name="Sticker", points_cost=1)
    for _ in range(rows):
        redemption_create(user=employee, reward_id=reward.pk)
    for user in (employee, manager):
        with django_assert_max_num_queries(2):  # count + page with the reward joined
            response = client_for(user).get(REDEMPTIONS, {"page_size": 200})
        assert response.json()["count"] == rows


@pytest.mark.parametrize("history", [3, 30])
def test_redeem_and_refund_query_counts_do_not_grow_with_the_ledger(
    manager, employee, funded_tenant, award, voucher, django_assert_max_num_queries, history
):
    for _ in range(history):
        award(manager, employee, 100)
    # Measured: 16 (redeem) and 16 (refund) on SQLite and PostgreSQL, whatever the ledger's length
    # (each with its event's INSERT; the redemption with its voucher code's claim in voucher_codes).
    with django_assert_max_num_queries(16):
        created = client_for(employee).post(REDEMPTIONS, {"reward_id": str(voucher.pk)}, HTTP_IDEMPOTENCY_KEY="a")
    with django_assert_max_num_queries(16):
        refunded = client_for(manager).post(f"{REDEMPTIONS}{created.json()['id']}/refund/", HTTP_IDEMPOTENCY_KEY="b")
    assert (created.status_code, refunded.status_code) == (201, 200)
    assert created.json()["wallet_balance_after"] == 100 * history - 300
    assert wallet(employee).balance == 100 * history
