"""The console's reward catalog and wallets."""

import pytest

from wallets.models import Reward, Wallet
from wallets.services import redemption_create, reward_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def console(client, platform_admin):
    client.force_login(platform_admin)
    return client


REWARD = {"name": "Team lunch", "description": "For four.", "points_cost": "1200", "stock": "10", "is_active": "on"}


def test_add_reward_to_a_tenant_catalog(console, tenant):
    response = console.post("/admin/wallets/reward/add/", {**REWARD, "tenant": str(tenant.pk)})
    assert response.status_code == 302
    reward = Reward.objects.get(name="Team lunch")
    assert (reward.tenant_id, reward.points_cost, reward.stock, reward.is_active) == (tenant.pk, 1_200, 10, True)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"points_cost": "0"}, "points_cost"),
        ({"points_cost": "1000000001"}, "points_cost"),
        ({"points_cost": "12.5"}, "points_cost"),
        ({"stock": "-1"}, "stock"),
        ({"name": ""}, "name"),
        ({"tenant": ""}, "tenant"),
    ],
)
def test_add_reward_refusals_write_nothing(console, tenant, changes, field):
    response = console.post("/admin/wallets/reward/add/", {**REWARD, "tenant": str(tenant.pk), **changes})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field]
    assert not Reward.objects.exists()


def test_change_reward_keeps_a_concurrent_stock_change(console, funded_tenant, manager, employee, award):
    reward = reward_create(actor=manager, name="Coffee", points_cost=100, stock=5)
    award(manager, employee, 500)
    page = console.get(f"/admin/wallets/reward/{reward.pk}/change/").content.decode()
    assert 'name="initial-stock" value="5"' in page
    redemption_create(user=employee, reward_id=reward.pk)  # stock 5 → 4 while the page is open
    response = console.post(
        f"/admin/wallets/reward/{reward.pk}/change/",
        {
            "name": "Coffee (large)",
            "description": "",
            "points_cost": "100",
            "stock": "5",
            "initial-stock": "5",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    reward.refresh_from_db()
    assert (reward.name, reward.stock) == ("Coffee (large)", 4)


def test_change_reward_stock_explicitly_and_deactivate(console, funded_tenant, manager):
    reward = reward_create(actor=manager, name="Coffee", points_cost=100, stock=5)
    response = console.post(
        f"/admin/wallets/reward/{reward.pk}/change/",
        {"name": "Coffee", "description": "", "points_cost": "150", "stock": "20", "initial-stock": "5"},
    )
    assert response.status_code == 302
    reward.refresh_from_db()
    assert (reward.points_cost, reward.stock, reward.is_active, reward.tenant_id) == (150, 20, False, funded_tenant.pk)


def test_rewards_are_not_deleted(console, funded_tenant, manager):
    reward = reward_create(actor=manager, name="Coffee", points_cost=100)
    assert console.post(f"/admin/wallets/reward/{reward.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Reward.objects.filter(pk=reward.pk).exists()


def test_reward_list_filters_by_tenant(console, tenant, other_tenant, manager, outsider):
    reward_create(actor=manager, name="Coffee", points_cost=100)
    Reward.objects.create(tenant=other_tenant, name="Tea", points_cost=50)
    response = console.get("/admin/wallets/reward/", {"tenant__id__exact": str(other_tenant.pk)})
    assert [r.name for r in response.context["cl"].result_list] == ["Tea"]
    assert "unlimited" in response.content.decode()


def test_wallet_page_shows_balances_read_only(console, funded_tenant, manager, employee, award):
    award(manager, employee, 750)
    wallet = Wallet.objects.get(user=employee)
    page = console.get(f"/admin/wallets/wallet/{wallet.pk}/change/")
    assert page.status_code == 200
    body = page.content.decode()
    assert '<div class="readonly">750</div>' in body
    assert 'name="balance"' not in body
    assert console.post(f"/admin/wallets/wallet/{wallet.pk}/change/", {"balance": "1"}).status_code == 403
    assert Wallet.objects.get(pk=wallet.pk).balance == 750
