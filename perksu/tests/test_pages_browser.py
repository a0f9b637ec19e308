"""Pages that never lose a user's work or surprise them, in a real browser (Debian's Chromium, Playwright).

One test per promise: Enter only filters, chosen recipients stay visible, a refusal keeps what was typed on the
page it was typed on, numbers read in the tenant's locale, a redemption one cannot afford says what is missing,
"everything" is confirmed with its figure, the message counter, the console at phone and desktop width, the small
things (405 page, console login, favicon, filter button), Back after a purchase, and axe-core on every page at
1280 and 375 px (vendored in perksu/tests/vendor, injected with the CSP bypassed in the test's browser only).
"""

import os
import re
from pathlib import Path

import pytest

from perksu.testing import needs_chromium
from points.models import LeadBudget
from recognition.models import Recognition
from recognition.services import recognition_create
from tenants.models import Tenant
from wallets.models import Redemption
from wallets.services import reward_create

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), needs_chromium]

AXE = (Path(__file__).parent / "vendor" / "axe-4.14.1.min.js").read_text()
PHONE, DESKTOP = 375, 1280


def log_in(page, live_server, user, password):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")


def console_log_in(page, live_server, user, password):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", user.email)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_load_state("load")


def expect(locator):
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def new_page(browser, width, **options):
    context = browser.new_context(viewport={"width": width, "height": 900}, **options)
    context.set_default_timeout(10_000)
    return context.new_page()


def pool(tenant) -> int:
    return Tenant.objects.get(pk=tenant.pk).points_allocation_balance


# 1 ------------------------------------------------------------------------------------------------------------------
def test_enter_in_the_filter_or_on_a_recipient_never_sends_the_award(
    page, live_server, funded_tenant, manager, employee, other_employee, password
):
    log_in(page, live_server, manager, password)
    page.goto(f"{live_server.url}/manage/")
    page.evaluate("window.__stayed = true")
    form = page.locator("form.award-form")
    form.get_by_label("Points per recipient").fill("100")
    form.get_by_label("Message").fill("Thanks")
    search = form.get_by_label("Find a colleague")
    search.fill("Asha")
    search.press("Enter")
    checkbox = form.get_by_label("Asha Employee")
    checkbox.focus()
    checkbox.press("Enter")
    assert checkbox.is_checked()
    assert page.evaluate("window.__stayed === true"), "Enter sent the form"
    assert page.url == f"{live_server.url}/manage/"
    assert Recognition.objects.count() == 0
    assert pool(funded_tenant) == 50_000


# 2 and the preview ------------------------------------------------------------------------------------------------
def test_chosen_recipients_show_as_chips_whatever_the_filter_and_the_preview_names_total_and_source(
    page, live_server, funded_tenant, manager, employee, other_employee, password
):
    log_in(page, live_server, manager, password)
    page.goto(f"{live_server.url}/manage/")
    form = page.locator("form.award-form")
    assert form.get_by_label("Points per recipient").input_value() == ""  # empty, not 0
    assert form.get_by_label("Points", exact=True).is_checked()
    expect(form.get_by_label("Kudos only (no points)")).to_be_visible()
    form.get_by_label("Asha Employee").check()
    form.get_by_label("Rahul Employee").check()
    form.get_by_label("Find a colleague").fill("Leo")  # hides both
    count = form.locator("[data-chosen-count]")
    expect(count).to_have_text("2 recipients chosen (2 not shown by the filter)")
    assert form.locator(".chip > span").all_inner_texts() == ["Asha Employee", "Rahul Employee"]

    form.get_by_label("Points per recipient").fill("500")
    expect(form.locator("[data-award-preview]")).to_have_text(
        "Total 1,000 points (500 × 2 recipients), paid from the company pool: 50,000 now, 49,000 left afterwards."
    )
    form.get_by_role("button", name="Remove Rahul Employee").click()
    expect(count).to_have_text("1 recipient chosen (1 not shown by the filter)")
    assert not form.get_by_label("Rahul Employee").is_checked()
    form.get_by_label("Kudos only (no points)").check()
    expect(form.get_by_label("Points per recipient")).to_be_hidden()
    expect(form.locator("[data-award-preview]")).to_have_text("Kudos to 1 recipient: no points move.")


# 3 and 4 ------------------------------------------------------------------------------------------------------------
def test_a_refused_award_delegation_or_recall_keeps_everything_typed_on_the_same_page(
    page, live_server, tenant, allocate, manager, lead, employee, password
):
    allocate(tenant, 300)
    log_in(page, live_server, manager, password)
    page.goto(f"{live_server.url}/manage/")
    form = page.locator("form.award-form")
    form.get_by_label("Asha Employee").check()
    form.get_by_label("Points per recipient").fill("500")
    form.get_by_label("Message").fill("For the launch weekend")
    form.get_by_role("button", name="Send recognition").click()
    page.wait_for_load_state("load")

    assert page.url == f"{live_server.url}/manage/"  # the page the form was on
    expect(page.locator("h1")).to_have_text("Manager dashboard")
    form = page.locator("form.award-form")
    assert form.get_by_label("Asha Employee").is_checked()
    assert form.get_by_label("Points per recipient").input_value() == "500"
    assert form.get_by_label("Message").input_value() == "For the launch weekend"
    expect(page.locator("#points-error-manage")).to_contain_text("Available: 300, Required: 500")
    assert Recognition.objects.count() == 0

    # No recipient: the red border frames the list, not the search box.
    form.get_by_label("Asha Employee").uncheck()
    form.get_by_label("Points per recipient").fill("100")
    form.get_by_role("button", name="Send recognition").click()
    page.wait_for_load_state("load")
    expect(page.locator("h1")).to_have_text("Manager dashboard")
    border = page.evaluate(
        "() => [getComputedStyle(document.querySelector('.recipients .checklist')).borderTopColor,"
        " getComputedStyle(document.querySelector('.recipients input[type=search]')).borderTopColor]"
    )
    assert border[0] == "rgb(164, 38, 44)" and border[1] != "rgb(164, 38, 44)"
    assert page.locator("form.award-form").get_by_label("Message").input_value() == "For the launch weekend"

    # A delegation over the pool keeps the lead, the amount and the note.
    delegate = page.locator("form.inline-form").first
    delegate.get_by_label("Lead").select_option(label="Leo Lead")
    delegate.get_by_label("Points").fill("1000")
    delegate.get_by_label("Note").fill("Q1")
    delegate.get_by_role("button", name="Delegate").click()
    page.wait_for_load_state("load")
    delegate = page.locator("form.inline-form").first
    assert delegate.get_by_label("Points").input_value() == "1000"
    assert delegate.get_by_label("Note").input_value() == "Q1"
    expect(delegate.locator(".error")).to_contain_text("Available: 300, Required: 1,000")
    assert LeadBudget.objects.get(lead=lead).balance == 0


# 5 --------------------------------------------------------------------------------------------------------------------
def test_numbers_and_times_read_in_the_tenant_locale_and_time_zone(
    page, live_server, tenant, allocate, manager, employee, password
):
    Tenant.objects.filter(pk=tenant.pk).update(locale="en-IN", timezone="Asia/Kolkata")
    allocate(tenant, 150_000)
    recognition_create(giver=manager, recipient_ids=[employee.pk], points=100, message="Thanks")
    log_in(page, live_server, manager, password)
    page.goto(f"{live_server.url}/manage/")
    expect(page.get_by_test_id("pool-balance")).to_have_text("1,49,900")
    form = page.locator("form.award-form")
    form.get_by_label("Asha Employee").check()
    form.get_by_label("Points per recipient").fill("200000")
    form.get_by_label("Message").fill("Too much")
    expect(form.locator("[data-award-preview]")).to_contain_text("2,00,000")
    form.get_by_role("button", name="Send recognition").click()
    page.wait_for_load_state("load")
    expect(page.locator(".messages")).to_contain_text("Available: 1,49,900, Required: 2,00,000")
    page.goto(f"{live_server.url}/feed/")
    stamp = page.locator(".feed-card time").first
    expect(stamp).to_have_text(re.compile(r"ago$"))
    assert stamp.get_attribute("title").endswith("IST")


# 6 --------------------------------------------------------------------------------------------------------------------
def test_a_reward_one_cannot_afford_has_a_disabled_button_saying_what_is_missing(
    page, live_server, funded_tenant, manager, employee, password
):
    recognition_create(giver=manager, recipient_ids=[employee.pk], points=50, message="Thanks")
    reward = reward_create(actor=manager, name="Headphones", points_cost=3_000)
    log_in(page, live_server, employee, password)
    page.goto(f"{live_server.url}/rewards/{reward.pk}/redeem/")
    expect(page.get_by_test_id("missing")).to_have_text("You need 2,950 more")
    expect(page.get_by_test_id("confirm-redeem")).to_be_disabled()


# 7 --------------------------------------------------------------------------------------------------------------------
def test_recall_and_claw_back_of_everything_ask_first_naming_the_amount(
    browser, live_server, funded_lead, funded_tenant, manager, platform_admin, password
):
    page = new_page(browser, DESKTOP)
    asked = []

    def answer(dialog, accept):
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    log_in(page, live_server, manager, password)
    page.goto(f"{live_server.url}/manage/")
    page.once("dialog", lambda dialog: answer(dialog, False))
    page.locator("form.recall-form").first.get_by_role("button", name="Recall").click()
    page.wait_for_timeout(300)
    assert asked == ["Recall the whole budget of 10,000 points from Leo Lead?"]
    assert LeadBudget.objects.get(lead=funded_lead).balance == 10_000
    page.once("dialog", lambda dialog: answer(dialog, True))
    page.locator("form.recall-form").first.get_by_role("button", name="Recall").click()
    page.wait_for_load_state("load")
    expect(page.locator(".messages")).to_contain_text("Recalled 10,000 points from Leo Lead")
    assert LeadBudget.objects.get(lead=funded_lead).balance == 0

    console = new_page(browser, DESKTOP)
    console_log_in(console, live_server, platform_admin, password)
    console.goto(f"{live_server.url}/admin/tenants/tenant/{funded_tenant.pk}/clawback/")
    console.fill("#id_reason", "Contract ended")
    console.once("dialog", lambda dialog: answer(dialog, False))
    console.click("input[type=submit][value='Claw back points']")
    console.wait_for_timeout(300)
    assert asked[-1] == "Claw back the whole pool of 50,000 points from Triton Energy?"
    assert pool(funded_tenant) == 50_000
    page.context.close()
    console.context.close()


# 8 --------------------------------------------------------------------------------------------------------------------
def test_the_message_box_counts_live_and_never_cuts_what_was_typed(page, live_server, tenant, employee, password):
    log_in(page, live_server, employee, password)
    page.goto(f"{live_server.url}/recognize/")
    box = page.locator("form.award-form").get_by_label("Message")
    box.fill("x" * 2_005)
    assert len(box.input_value()) == 2_005
    expect(page.locator("[data-counter]")).to_have_text("2,005 of 2,000 characters: 5 too many")


# 9 --------------------------------------------------------------------------------------------------------------------
CONSOLE_PAGES = [
    "/admin/",
    "/admin/ledger-health/",
    "/admin/liability/",
    "/admin/recognition/recognition/",
    "/admin/points/allocationlog/",
    "/admin/points/delegationlog/",
    "/admin/wallets/walletledger/",
]


def test_every_console_page_fits_375_and_1280(
    browser, live_server, funded_lead, employee, award, platform_admin, password
):
    award(funded_lead, employee, 250, message="A long message " * 20)
    for width in (PHONE, DESKTOP):
        page = new_page(browser, width)
        console_log_in(page, live_server, platform_admin, password)
        for path in CONSOLE_PAGES:
            page.goto(f"{live_server.url}{path}")
            assert page.evaluate("document.documentElement.scrollWidth") <= width, (path, width)
            if width == DESKTOP and page.locator("#result_list").count():
                fits = page.evaluate(
                    "() => { const box = document.querySelector('#changelist .results');"
                    " return document.querySelector('#result_list').scrollWidth <= box.clientWidth; }"
                )
                assert fits, f"{path}: columns hidden at {width} px"
        page.context.close()


# 10 -------------------------------------------------------------------------------------------------------------------
def test_a_get_on_a_form_address_a_manager_at_the_console_login_the_favicon_and_the_filter_button(
    browser, live_server, funded_tenant, manager, employee, password
):
    page = new_page(browser, PHONE)
    log_in(page, live_server, manager, password)
    response = page.goto(f"{live_server.url}/manage/delegate/")
    assert response.status == 405
    expect(page.locator("h1")).to_have_text("Nothing to show here")

    fresh = new_page(browser, DESKTOP)
    requested = []
    fresh.on("request", lambda request: requested.append(request.url))
    console_log_in(fresh, live_server, manager, password)
    expect(fresh.locator(".errornote")).to_contain_text("This console is for Perksu platform staff only")
    expect(fresh.locator("h1")).to_have_text("Sign in to the platform console")
    assert not [url for url in requested if url.endswith("/favicon.ico")]
    fresh.context.close()

    page.context.close()
    page = new_page(browser, PHONE)
    log_in(page, live_server, employee, password)
    page.goto(f"{live_server.url}/wallet/")
    widths = page.evaluate(
        "() => [document.querySelector('form.filters button').getBoundingClientRect().width,"
        " document.querySelector('form.filters').getBoundingClientRect().width]"
    )
    assert widths[0] < widths[1] / 2
    page.context.close()


# 11 -------------------------------------------------------------------------------------------------------------------
def test_back_after_redeeming_says_it_was_just_redeemed_and_asks_before_a_second(
    page, live_server, funded_tenant, manager, employee, password
):
    recognition_create(giver=manager, recipient_ids=[employee.pk], points=1_000, message="Thanks")
    reward = reward_create(actor=manager, name="Coffee voucher", points_cost=200, description="Any café")
    log_in(page, live_server, employee, password)
    page.goto(f"{live_server.url}/rewards/{reward.pk}/redeem/")
    page.get_by_test_id("confirm-redeem").click()
    page.wait_for_url(re.compile(r"/rewards/redemptions/|/voucher|/redemption"))
    page.go_back()
    page.wait_for_load_state("load")
    notice = page.get_by_test_id("just-redeemed")
    expect(notice).to_contain_text("You redeemed Coffee voucher")
    voucher = Redemption.objects.get()
    expect(notice.get_by_role("link")).to_have_attribute("href", re.compile(str(voucher.pk)))
    page.get_by_test_id("confirm-redeem").click()  # the box is not ticked: the browser stops it
    page.wait_for_timeout(300)
    assert Redemption.objects.count() == 1
    page.get_by_label(re.compile("Yes, redeem another one")).check()
    page.get_by_test_id("confirm-redeem").click()
    page.wait_for_load_state("load")
    assert Redemption.objects.count() == 2


# Everyday screens -----------------------------------------------------------------------------------------------------
def test_wallet_voucher_and_phone_navigation(browser, live_server, funded_tenant, manager, employee, password):
    recognition_create(giver=manager, recipient_ids=[employee.pk], points=700, message="Fixed the rig")
    recognition_create(giver=manager, recipient_ids=[employee.pk], points=0, message="Kind words")
    reward = reward_create(actor=manager, name="Coffee voucher", points_cost=200)
    page = new_page(browser, PHONE)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    log_in(page, live_server, employee, password)
    page.goto(f"{live_server.url}/wallet/")
    # The giver's initials (a coloured circle, hidden from screen readers) stand before the name.
    expect(page.locator("tbody tr").first).to_contain_text(re.compile(r"Recognition from\s+MM\s+Maya Manager"))
    expect(page.locator("tbody tr").first).to_contain_text("Fixed the rig")
    expect(page.get_by_test_id("kudos-received")).to_contain_text("Maya Manager: “Kind words”")

    # The header is one line at 375 px; the links open from the Menu button.
    heights = page.evaluate("document.querySelector('.site-header').getBoundingClientRect().height")
    assert heights < 70
    menu = page.get_by_role("button", name="Menu")
    expect(page.get_by_role("link", name="Feed")).to_be_hidden()
    menu.click()
    expect(page.get_by_role("link", name="Feed")).to_be_visible()

    page.goto(f"{live_server.url}/rewards/{reward.pk}/redeem/")
    page.get_by_test_id("confirm-redeem").click()
    page.wait_for_load_state("load")
    code = Redemption.objects.get().voucher_code
    page.get_by_role("button", name="Copy code").click()
    expect(page.locator("[data-copy-status]")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == code
    expect(page.locator(".how-to")).to_contain_text("Enter the code at checkout")
    page.context.close()


# axe-core -------------------------------------------------------------------------------------------------------------
MEMBER_PAGES = {
    "manager": ["/manage/", "/recognize/", "/wallet/", "/rewards/", "/feed/"],
    "lead": ["/manage/"],
    "employee": ["/recognize/", "/wallet/", "/rewards/", "/feed/", "/manage/delegate/"],
}


def serious_violations(page) -> list[str]:
    page.add_script_tag(content=AXE)
    return page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => v.id + ' ×' + v.nodes.length + ': ' + v.nodes[0].target.join(' '))"
    )


def test_axe_finds_no_serious_violation_on_any_page_at_both_widths(
    browser, live_server, funded_lead, funded_tenant, manager, employee, award, platform_admin, password
):
    award(manager, employee, 300)
    reward = reward_create(actor=manager, name="Coffee voucher", points_cost=100)
    users = {"manager": manager, "lead": funded_lead, "employee": employee}
    found = {}
    for width in (DESKTOP, PHONE):
        anonymous = new_page(browser, width, bypass_csp=True)
        for path in ["/accounts/login/", "/admin/login/"]:
            anonymous.goto(f"{live_server.url}{path}")
            found[(width, path)] = serious_violations(anonymous)
        anonymous.context.close()
        for role, paths in MEMBER_PAGES.items():
            page = new_page(browser, width, bypass_csp=True)
            log_in(page, live_server, users[role], password)
            extra = [f"/rewards/{reward.pk}/redeem/"] if role == "employee" else []
            for path in paths + extra:
                page.goto(f"{live_server.url}{path}")
                found[(width, role, path)] = serious_violations(page)
            page.context.close()
        page = new_page(browser, width, bypass_csp=True)
        console_log_in(page, live_server, platform_admin, password)
        tenant_pages = [
            f"/admin/tenants/tenant/{funded_tenant.pk}/{end}/" for end in ("change", "allocate", "clawback")
        ]
        for path in [*CONSOLE_PAGES, "/admin/tenants/tenant/", "/admin/wallets/wallet/", *tenant_pages]:
            page.goto(f"{live_server.url}{path}")
            found[(width, "admin", path)] = serious_violations(page)
        page.context.close()
    assert {key: value for key, value in found.items() if value} == {}
