"""The pages in a real browser: Debian's Chromium driven by Playwright.

Skipped, saying why, when /usr/bin/chromium is not installed (`.ci/run`
installs it). Each test signs in through the login form like a person would.
"""

import os
import re

import pytest

from perksu.testing import needs_chromium
from points.models import LeadBudget
from recognition.models import Recognition
from recognition.services import recognition_create
from tenants.models import Tenant
from wallets.models import Redemption, Wallet, WalletLedger
from wallets.services import redemption_create, reward_create

# Playwright's sync API runs an event loop in this thread; the ORM calls the
# tests make between browser steps are safe (nothing else uses this thread).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    needs_chromium,
]


def log_in(page, live_server, user, password):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def pool(tenant) -> int:
    return Tenant.objects.get(pk=tenant.pk).points_allocation_balance


def test_manager_awards_sees_the_pool_drop_and_the_card_refresh(
    page, live_server, funded_tenant, manager, employee, other_employee, lead, password
):
    log_in(page, live_server, manager, password)
    page.wait_for_url(f"{live_server.url}/manage/")
    balance = page.get_by_test_id("pool-balance")
    assert balance.inner_text() == "50,000"
    assert page.get_by_test_id("pool-status").inner_text() == "Ready"

    form = page.locator("form.award-form")
    form.get_by_label("Asha Employee").check()
    form.get_by_label("Rahul Employee").check()
    form.get_by_label("Points per recipient").fill("1200")
    form.get_by_label("Message").fill("Brought the rig online a week early")
    form.get_by_role("button", name="Send recognition").click()

    page.wait_for_url(f"{live_server.url}/manage/")
    assert (
        "Awarded 1,200 points to Asha Employee, Rahul Employee (2,400 in total"
        in page.locator(".messages").inner_text()
    )
    assert balance.inner_text() == "47,600"
    assert pool(funded_tenant) == 47_600
    assert Wallet.objects.get(user=employee).balance == 1_200
    assert Wallet.objects.get(user=other_employee).balance == 1_200

    # Points leave the pool elsewhere (another manager's tab, the API): the card
    # catches up on its own, without reloading the page.
    page.evaluate("window.__notReloaded = true")
    recognition_create(giver=manager, recipient_ids=[lead.pk], points=47_550, message="Year-end")
    page.evaluate("window.perksuPool.setInterval(0.2)")
    expect(balance).to_have_text("50")
    expect(page.get_by_test_id("pool-status")).to_have_text("Low balance")
    expect(page.locator("[data-field=wallets_display]")).to_have_text("49,950")
    assert "status-low" in page.locator("[data-pool-card]").get_attribute("class")
    assert page.evaluate("window.__notReloaded") is True
    assert page.csp_violations == []


def test_employee_sees_wallet_redeems_and_gets_the_voucher(
    page, live_server, funded_tenant, manager, employee, password
):
    recognition_create(giver=manager, recipient_ids=[employee.pk], points=1_000, message="Thanks")
    reward = reward_create(actor=manager, name="Movie tickets", points_cost=800, stock=3)

    log_in(page, live_server, employee, password)
    page.wait_for_url(f"{live_server.url}/wallet/")
    assert page.get_by_test_id("wallet-balance").inner_text() == "1,000"
    assert "Thanks" in page.locator("table").inner_text()

    page.get_by_role("link", name="Rewards", exact=True).click()
    page.get_by_role("link", name="Redeem Movie tickets").click()
    assert page.get_by_role("heading", name="Redeem Movie tickets?").is_visible()
    assert Wallet.objects.get(user=employee).balance == 1_000
    page.get_by_role("button", name="Confirm and redeem").click()

    redemption = Redemption.objects.get(user=employee)
    page.wait_for_url(f"{live_server.url}/rewards/redemptions/{redemption.pk}/")
    code = page.get_by_test_id("voucher-code").inner_text()
    assert code == redemption.voucher_code
    assert re.fullmatch(r"PRK(-[2-9A-HJKMNP-TV-Z]{5}){4}", code)
    assert "Your voucher code is " + code in page.locator(".messages").inner_text()
    assert Wallet.objects.get(user=employee).balance == 200
    assert reward.__class__.objects.get(pk=reward.pk).stock == 2
    assert page.csp_violations == []


def test_double_click_and_resubmit_award_once(page, live_server, funded_lead, employee, password):
    log_in(page, live_server, funded_lead, password)
    page.wait_for_url(f"{live_server.url}/manage/")
    form = page.locator("form.award-form")
    form.get_by_label("Asha Employee").check()
    form.get_by_label("Points per recipient").fill("300")
    form.get_by_label("Message").fill("Fixed the pump")
    sent = form.evaluate("form => [...new FormData(form).entries()]")
    form.get_by_role("button", name="Send recognition").dblclick()
    expect(page.locator(".messages")).to_contain_text("Awarded 300 points to Asha Employee")
    page.wait_for_load_state("networkidle")

    ledger = WalletLedger.objects.filter(wallet__user=employee)
    assert ledger.count() == 1
    assert Wallet.objects.get(user=employee).balance == 300
    assert LeadBudget.objects.get(lead=funded_lead).balance == 9_700

    # The same filled-in form sent again (a retry, a resubmitted tab): its
    # one-time token replays the first award instead of paying twice.
    page.go_back()
    page.wait_for_load_state("load")
    replay = page.evaluate(
        """async ([fields, url]) => {
            const body = new URLSearchParams(fields);
            const response = await fetch(url, {method: "POST", body, credentials: "same-origin"});
            return await response.text();
        }""",
        [sent, f"{live_server.url}/recognize/"],
    )
    assert "This form was already submitted; nothing was done twice." in replay
    assert "Awarded 300 points to Asha Employee (300 in total, from your budget)." in replay
    assert ledger.count() == 1
    assert Recognition.objects.filter(receiver=employee).count() == 1
    assert Wallet.objects.get(user=employee).balance == 300
    assert LeadBudget.objects.get(lead=funded_lead).balance == 9_700


def test_pages_fit_a_phone_and_sign_in_works_from_the_keyboard(
    browser, live_server, funded_lead, manager, employee, password
):
    recognition_create(giver=manager, recipient_ids=[employee.pk], points=300, message="Thanks for the night shift")
    headphones = reward_create(actor=manager, name="Noise-cancelling headphones", points_cost=250, stock=2)
    redemption_create(user=employee, reward_id=headphones.pk)
    context = browser.new_context(viewport={"width": 375, "height": 812})
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        # Keyboard only: the email field has focus, Tab moves to the password, Enter submits.
        page.goto(f"{live_server.url}/accounts/login/")
        # Typing starts once the page has focused the email field, not merely loaded.
        page.wait_for_function("document.activeElement === document.querySelector('input[name=username]')")
        page.keyboard.type(manager.email)
        page.keyboard.press("Tab")
        page.keyboard.type(password)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{live_server.url}/manage/")
        # The focused control shows a visible outline.
        page.get_by_label("Points per recipient").focus()
        outline = page.get_by_label("Points per recipient").evaluate("el => getComputedStyle(el).outlineStyle")
        assert outline == "solid"
        for path in ["/manage/", "/recognize/", "/wallet/", "/rewards/", "/feed/"]:
            page.goto(f"{live_server.url}{path}")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, f"{path} is {width}px wide at a 375px viewport"
            # Tables may scroll inside their box, but none of ours needs to at this width.
            cut = page.evaluate(
                """[...document.querySelectorAll('.table-wrap')]
                    .filter(t => t.scrollWidth > t.clientWidth + 1)
                    .map(t => t.closest('section').getAttribute('aria-labelledby') + ': ' + t.scrollWidth + 'px')"""
            )
            assert cut == [], f"{path} has a table wider than the phone"
    finally:
        context.close()
