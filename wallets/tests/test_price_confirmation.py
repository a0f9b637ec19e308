"""A redemption is charged the price the member confirmed, or nothing: a price changed between the
confirmation and the click is refused with `price_changed` and the current price."""

from __future__ import annotations

import re

import pytest
from rest_framework.test import APIClient

from perksu.errors import DomainError
from wallets.models import Redemption, Reward, Wallet, WalletLedger
from wallets.services import redemption_create, reward_create, reward_update

REDEMPTIONS = "/api/v1/redemptions/"


@pytest.fixture
def rich_employee(manager, employee, funded_tenant, award):
    award(manager, employee, 1_000)
    return employee


@pytest.fixture
def coffee(manager):
    return reward_create(actor=manager, name="Coffee voucher", points_cost=200, stock=5)


def books() -> dict:
    return {
        "wallets": dict(Wallet.objects.values_list("user_id", "balance")),
        "stock": dict(Reward.objects.values_list("id", "stock")),
        "redemptions": Redemption.objects.count(),
        "ledger": WalletLedger.objects.count(),
    }


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_api_refuses_a_changed_price_and_moves_nothing(rich_employee, coffee, manager):
    reward_update(actor=manager, reward=coffee, points_cost=900)
    before = books()
    response = api_for(rich_employee).post(
        REDEMPTIONS,
        {"reward_id": str(coffee.pk), "expected_points_cost": 200},
        format="json",
        HTTP_IDEMPOTENCY_KEY="r1",
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "The price of Coffee voucher changed from 200 to 900 points since you confirmed. "
        "Nothing was redeemed; confirm the new price to redeem.",
        "code": "price_changed",
        "points_cost": 900,
        "expected_points_cost": 200,
    }
    assert books() == before
    # Confirming the new price redeems at it.
    ok = api_for(rich_employee).post(
        REDEMPTIONS,
        {"reward_id": str(coffee.pk), "expected_points_cost": 900},
        format="json",
        HTTP_IDEMPOTENCY_KEY="r2",
    )
    assert ok.status_code == 201, ok.json()
    assert Wallet.objects.get(user=rich_employee).balance == 100


def test_api_without_an_expected_price_charges_the_current_one(rich_employee, coffee):
    response = api_for(rich_employee).post(REDEMPTIONS, {"reward_id": str(coffee.pk)}, format="json")
    assert response.status_code == 201
    assert Wallet.objects.get(user=rich_employee).balance == 800


@pytest.mark.parametrize("bad", [0, -5, "200x", 1.5, True])
def test_api_validates_the_expected_price(rich_employee, coffee, bad):
    response = api_for(rich_employee).post(
        REDEMPTIONS, {"reward_id": str(coffee.pk), "expected_points_cost": bad}, format="json"
    )
    assert response.status_code == 400
    assert "expected_points_cost" in response.json()
    assert Redemption.objects.count() == 0


def test_service_refuses_a_changed_price(rich_employee, coffee, manager):
    reward_update(actor=manager, reward=coffee, points_cost=150)  # cheaper counts as changed too
    with pytest.raises(DomainError) as caught:
        redemption_create(user=rich_employee, reward_id=coffee.pk, expected_points_cost=200)
    assert (caught.value.code, caught.value.extra["points_cost"]) == ("price_changed", 150)
    assert Redemption.objects.count() == 0


def test_page_carries_the_confirmed_price_and_refuses_a_change(client, rich_employee, coffee, manager):
    client.force_login(rich_employee)
    confirm = client.get(f"/rewards/{coffee.pk}/redeem/").content.decode()
    assert re.search(r'<input type="hidden" name="expected_points_cost" value="200"', confirm)
    token = re.search(r'name="form_token" value="([^"]+)"', confirm).group(1)

    reward_update(actor=manager, reward=coffee, points_cost=900)  # between the page and the click
    before = books()
    response = client.post(f"/rewards/{coffee.pk}/redeem/", {"form_token": token, "expected_points_cost": "200"})
    assert response.status_code == 400  # the confirmation again, at the new price
    assert books() == before
    again = response.content.decode()
    assert "changed from 200 to 900 points" in again
    assert 'name="expected_points_cost" value="900"' in again


# --- Voucher codes are not kept in stored idempotency outcomes ---------------------------------------------------


def stored_bodies() -> str:
    from points.models import IdempotencyRecord

    return repr(list(IdempotencyRecord.objects.values_list("response_body", flat=True)))


def test_api_stores_the_outcome_without_the_voucher_code_and_replays_it_with_the_code(rich_employee, coffee):
    api = api_for(rich_employee)
    first = api.post(REDEMPTIONS, {"reward_id": str(coffee.pk)}, format="json", HTTP_IDEMPOTENCY_KEY="v1")
    assert first.status_code == 201
    code = Redemption.objects.get().voucher_code
    assert first.json()["voucher_code"] == code
    assert code not in stored_bodies()
    replay = api.post(REDEMPTIONS, {"reward_id": str(coffee.pk)}, format="json", HTTP_IDEMPOTENCY_KEY="v1")
    assert (replay.status_code, replay["Idempotent-Replayed"]) == (201, "true")
    assert replay.json() == first.json()
    assert Redemption.objects.count() == 1


def test_page_stores_the_outcome_without_the_voucher_code(client, rich_employee, coffee):
    client.force_login(rich_employee)
    confirm = client.get(f"/rewards/{coffee.pk}/redeem/").content.decode()
    token = re.search(r'name="form_token" value="([^"]+)"', confirm).group(1)
    data = {"form_token": token, "expected_points_cost": "200"}
    first = client.post(f"/rewards/{coffee.pk}/redeem/", data, follow=True).content.decode()
    code = Redemption.objects.get().voucher_code
    assert f"Your voucher code is {code}." in first
    assert code not in stored_bodies()
    again = client.post(f"/rewards/{coffee.pk}/redeem/", data, follow=True).content.decode()
    assert f"Your voucher code is {code}." in again
    assert Redemption.objects.count() == 1
