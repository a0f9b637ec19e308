"""/wallet/ and /rewards/: ledger with filters, redeem with confirmation, vouchers, refunds."""

import html
import re

from recognition.services import recognition_create
from tenants.tests.factories import ManagerFactory, UserFactory
from wallets.models import Redemption, Reward, Wallet, WalletLedger
from wallets.services import redemption_create, reward_create


def texts(response) -> list[str]:
    """The messages the user sees on the page the POST redirected to."""
    if response.status_code == 302:
        response = response.client.get(response["Location"])
    return [html.unescape(m) for m in re.findall(r'<p class="message [^"]*">(.*?)</p>', response.content.decode())]


def token_of(response) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', response.content.decode()).group(1)


def balance(user) -> int:
    return Wallet.objects.get(user=user).balance


def stock(reward) -> int | None:
    return Reward.objects.get(pk=reward.pk).stock


def _reward(manager, name="Coffee voucher", cost=200, stock=5):
    return reward_create(actor=manager, name=name, points_cost=cost, stock=stock, description="At the café")


def test_wallet_shows_balance_lifetime_figures_and_filtered_ledger(client, funded_tenant, manager, employee, award):
    award(manager, employee, 1_000, message="Rig delivery")
    award(manager, employee, 500, message="Telemetry fix")
    redemption_create(user=employee, reward_id=_reward(manager).pk)
    client.force_login(employee)
    page = client.get("/wallet/").content.decode()
    assert '<span data-testid="wallet-balance">1,300</span>' in page
    assert "<dd>1,500</dd>" in page and "<dd>200</dd>" in page
    assert page.count('class="num amount') == 3
    debits = client.get("/wallet/?entry_type=DEBIT").content.decode()
    assert debits.count('class="num amount') == 1
    assert "−200" in debits and "Telemetry fix" not in debits
    recognitions = client.get("/wallet/?source=RECOGNITION").content.decode()
    assert recognitions.count('class="num amount') == 2


def test_wallet_ledger_is_paginated_and_keeps_the_filter(client, funded_tenant, manager, employee, award):
    for _ in range(25):
        award(manager, employee, 1)
    client.force_login(employee)
    first = client.get("/wallet/?entry_type=CREDIT").content.decode()
    assert first.count('class="num amount') == 20
    assert "Page 1 of 2" in first
    assert "?entry_type=CREDIT&amp;source=&amp;page=2" in first or "?entry_type=CREDIT&amp;page=2" in first
    second = client.get("/wallet/?entry_type=CREDIT&page=2").content.decode()
    assert second.count('class="num amount') == 5


def test_redeem_confirm_then_voucher_once_per_token(client, funded_tenant, manager, employee, award):
    award(manager, employee, 1_000)
    reward = _reward(manager)
    client.force_login(employee)
    confirm = client.get(f"/rewards/{reward.pk}/redeem/")
    assert confirm.status_code == 200
    assert "Redeem Coffee voucher?" in confirm.content.decode()
    assert "<dd>800</dd>" in confirm.content.decode()
    assert balance(employee) == 1_000  # the confirmation step moves nothing
    token = token_of(confirm)
    response = client.post(f"/rewards/{reward.pk}/redeem/", {"form_token": token})
    redemption = Redemption.objects.get(user=employee)
    assert response["Location"] == f"/rewards/redemptions/{redemption.pk}/"
    voucher = client.get(response["Location"]).content.decode()
    assert f'data-testid="voucher-code">{redemption.voucher_code}</code>' in voucher
    again = client.post(f"/rewards/{reward.pk}/redeem/", {"form_token": token})
    assert again["Location"] == f"/rewards/redemptions/{redemption.pk}/"
    assert balance(employee) == 800
    assert stock(reward) == 4
    assert Redemption.objects.filter(user=employee).count() == 1
    assert WalletLedger.objects.filter(wallet__user=employee, source="REDEMPTION").count() == 1
    history = client.get("/rewards/").content.decode()
    assert redemption.voucher_code in history


def test_redeem_without_enough_points_is_refused(client, funded_tenant, manager, employee, award):
    award(manager, employee, 100)
    reward = _reward(manager)
    client.force_login(employee)
    response = client.post(f"/rewards/{reward.pk}/redeem/", {"form_token": "t"})
    assert response.status_code == 400  # the confirmation again, saying what is missing
    assert texts(response) == ["Insufficient wallet balance. Available: 100, Required: 200."]
    assert "You need 100 more" in response.content.decode()
    assert balance(employee) == 100
    assert stock(reward) == 5
    assert not Redemption.objects.exists()


def test_redeem_out_of_stock_is_refused(client, funded_tenant, manager, employee, award):
    award(manager, employee, 1_000)
    reward = _reward(manager, stock=0)
    client.force_login(employee)
    response = client.post(f"/rewards/{reward.pk}/redeem/", {"form_token": "t"})
    assert texts(response) == ["Coffee voucher is out of stock."]
    assert balance(employee) == 1_000


def test_other_tenants_reward_and_voucher_answer_404(client, funded_tenant, manager, employee, award, outsider):
    award(manager, employee, 1_000)
    reward = _reward(manager)
    redemption = redemption_create(user=employee, reward_id=reward.pk).redemption
    client.force_login(outsider)
    assert client.get(f"/rewards/{reward.pk}/redeem/").status_code == 404
    assert client.post(f"/rewards/{reward.pk}/redeem/", {"form_token": "t"}).status_code == 404
    assert client.get(f"/rewards/{reward.pk}/redeem/".replace(str(reward.pk), "nope")).status_code == 404
    assert client.get(f"/rewards/redemptions/{redemption.pk}/").status_code == 404
    assert "Coffee voucher" not in client.get("/rewards/").content.decode()
    # A colleague of the same tenant cannot open someone else's voucher either.
    colleague = UserFactory(tenant=funded_tenant)
    client.force_login(colleague)
    assert client.get(f"/rewards/redemptions/{redemption.pk}/").status_code == 404


def test_manager_sees_pool_card_and_refunds_once(client, funded_tenant, manager, employee, award):
    award(manager, employee, 1_000)
    reward = _reward(manager)
    redemption = redemption_create(user=employee, reward_id=reward.pk).redemption
    client.force_login(manager)
    page = client.get("/rewards/").content.decode()
    assert "Company Distribution Pool" in page
    assert f'action="/rewards/redemptions/{redemption.pk}/refund/"' in page
    token = token_of(client.get("/rewards/"))
    first = client.post(f"/rewards/redemptions/{redemption.pk}/refund/", {"form_token": token})
    assert texts(first) == ["Refunded 200 points to Asha Employee for Coffee voucher. Their wallet: 1,000."]
    second = client.post(f"/rewards/redemptions/{redemption.pk}/refund/", {"form_token": token})
    assert texts(second)[-1] == "Refunded 200 points to Asha Employee for Coffee voucher. Their wallet: 1,000."
    assert balance(employee) == 1_000
    assert stock(reward) == 5
    assert WalletLedger.objects.filter(source="REFUND").count() == 1
    third = client.post(f"/rewards/redemptions/{redemption.pk}/refund/", {"form_token": "fresh"})
    assert texts(third) == ["This redemption was already refunded."]
    assert balance(employee) == 1_000


def test_employee_sees_no_pool_and_cannot_refund(client, funded_tenant, manager, employee, award):
    award(manager, employee, 1_000)
    redemption = redemption_create(user=employee, reward_id=_reward(manager).pk).redemption
    client.force_login(employee)
    page = client.get("/rewards/").content.decode()
    assert "Company Distribution Pool" not in page
    assert "/refund/" not in page
    assert client.post(f"/rewards/redemptions/{redemption.pk}/refund/", {"form_token": "t"}).status_code == 403
    assert balance(employee) == 800


def test_manager_cannot_refund_another_tenants_redemption(client, funded_tenant, manager, other_tenant, allocate):
    other_manager = ManagerFactory(tenant=other_tenant, email="boss@other.test")
    buyer = UserFactory(tenant=other_tenant)
    allocate(other_tenant, 1_000)
    recognition_create(giver=other_manager, recipient_ids=[buyer.pk], points=500, message="x")
    reward = reward_create(actor=other_manager, name="Mug", points_cost=100)
    redemption = redemption_create(user=buyer, reward_id=reward.pk).redemption
    client.force_login(manager)
    response = client.post(f"/rewards/redemptions/{redemption.pk}/refund/", {"form_token": "t"})
    assert texts(response) == ["Redemption not found."]
    assert balance(buyer) == 400
    assert Redemption.objects.get(pk=redemption.pk).status == "ISSUED"
