"""Peer recognition in a real browser (Debian's Chromium, Playwright), SPEC §10: an employee gives points
from their allowance on the award page and sees what is left fall by exactly that much, then reacts to a
recognition on the feed and comments on it; axe-core finds no serious violation on those pages nor on the
console's programme settings of the tenant, at 1280 and 375 px.

Set SCREENSHOT_DIR to keep a full-page screenshot of each page at both widths.
"""

import os
from pathlib import Path

import pytest

from events.models import Event
from perksu.testing import needs_chromium
from perksu.tests.test_pages_browser import (
    DESKTOP,
    PHONE,
    console_log_in,
    expect,
    log_in,
    new_page,
    serious_violations,
)
from points.tests.books import pool, wallet_balance
from recognition.models import AllowanceUsage, Comment, Reaction, Recognition
from tenants.models import Tenant

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), needs_chromium]


@pytest.fixture
def programme(funded_tenant):
    """Employees may give 100 points a month from the pool of 50,000."""
    Tenant.objects.filter(pk=funded_tenant.pk).update(allowance_employee=100)
    funded_tenant.refresh_from_db()
    return funded_tenant


def shoot(page, name: str) -> None:
    folder = os.environ.get("SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_an_employee_gives_from_their_allowance_then_reacts_and_comments_on_the_feed(
    page, live_server, programme, manager, employee, other_employee, award, password
):
    award(manager, other_employee, 20, message="Shipped the release on a Sunday")
    log_in(page, live_server, employee, password)

    page.goto(f"{live_server.url}/recognize/")
    remaining = page.get_by_test_id("allowance-remaining")
    expect(remaining).to_have_text("100")
    expect(page.get_by_test_id("allowance-left")).to_contain_text("100 of 100 points left to give")
    form = page.locator("form.award-form")
    form.get_by_label("Rahul Employee").check()
    form.get_by_label("Points per recipient").fill("30")
    expect(form.locator("[data-award-preview]")).to_contain_text("30")
    form.get_by_label("Message").fill("Thanks for pairing on the flaky test")
    form.get_by_test_id("award-submit").click()
    page.wait_for_load_state("load")
    expect(page.locator(".messages")).to_contain_text("Awarded 30 points to Rahul Employee")
    expect(page.locator(".messages")).to_contain_text("from your allowance")
    page.goto(f"{live_server.url}/recognize/")
    expect(remaining).to_have_text("70")
    expect(page.get_by_test_id("allowance-left")).to_contain_text("70 of 100 points left to give")
    usage = AllowanceUsage.objects.get(user=employee)
    assert (usage.limit, usage.given) == (100, 30)
    gift = Recognition.objects.get(giver=employee)
    assert (gift.funding_source, gift.points) == ("ALLOWANCE", 30)
    assert wallet_balance(other_employee) == 50
    assert pool(programme) == 50_000 - 20 - 30

    page.goto(f"{live_server.url}/feed/")
    cards = page.get_by_test_id("feed-card")
    expect(cards).to_have_count(2)
    manager_card = cards.filter(has_text="Shipped the release on a Sunday")
    clap = manager_card.get_by_test_id("react-1")
    expect(clap).to_have_attribute("aria-pressed", "false")
    clap.click()
    page.wait_for_load_state("load")
    manager_card = page.get_by_test_id("feed-card").filter(has_text="Shipped the release on a Sunday")
    clap = manager_card.get_by_test_id("react-1")
    expect(clap).to_have_attribute("aria-pressed", "true")
    expect(clap.locator(".count")).to_have_text("1")
    reaction = Reaction.objects.get()
    assert (reaction.user_id, reaction.group_id, reaction.emoji) == (employee.pk, award_group(manager), "👏")

    manager_card.get_by_test_id("comment-input").fill("Well deserved, Rahul!")
    manager_card.get_by_role("button", name="Comment", exact=True).click()
    page.wait_for_load_state("load")
    manager_card = page.get_by_test_id("feed-card").filter(has_text="Shipped the release on a Sunday")
    expect(manager_card.get_by_test_id("comment")).to_have_count(1)
    expect(manager_card.get_by_test_id("comment")).to_contain_text("Well deserved, Rahul!")
    comment = Comment.objects.get()
    assert (comment.author_id, comment.group_id, comment.text) == (employee.pk, award_group(manager), comment.text)
    event = Event.objects.get(name="comment.created")
    assert event.payload["recipients"] == [{"id": str(other_employee.pk), "name": other_employee.full_name}]
    # The gift's card is the newest, with the allowance's points.
    expect(page.get_by_test_id("feed-card").first).to_contain_text("+30 points")
    assert page.csp_violations == []


def award_group(giver):
    return Recognition.objects.filter(giver=giver).values_list("group_id", flat=True).get()


def test_axe_and_screenshots_of_the_peer_pages_at_both_widths(
    browser, live_server, programme, manager, employee, other_employee, award, platform_admin, password
):
    from recognition.engagement import comment_create, reaction_add, value_create

    value_create(actor=manager, name="Ownership", hashtag="ownership")
    result = award(manager, other_employee, 20, message="Shipped the release #ownership")
    award(employee, other_employee, 15, message="Thanks for the review")
    reaction_add(user=employee, recognition_id=result.group_id, emoji="🎉")
    comment_create(author=employee, recognition_id=result.group_id, text="Well deserved!")
    found = {}
    for width in (DESKTOP, PHONE):
        page = new_page(browser, width, bypass_csp=True)
        log_in(page, live_server, employee, password)
        for name, path in (("recognize", "/recognize/"), ("feed", "/feed/")):
            page.goto(f"{live_server.url}{path}")
            found[(width, path)] = serious_violations(page)
            shoot(page, f"{name}-{width}")
        page.context.close()
        page = new_page(browser, width, bypass_csp=True)
        console_log_in(page, live_server, platform_admin, password)
        for name, path in (
            ("console-settings", f"/admin/tenants/tenant/{programme.pk}/settings/"),
            ("console-values", f"/admin/recognition/companyvalue/?tenant__id__exact={programme.pk}"),
            ("console-comments", f"/admin/recognition/comment/?tenant__id__exact={programme.pk}"),
        ):
            page.goto(f"{live_server.url}{path}")
            found[(width, path)] = serious_violations(page)
            shoot(page, f"{name}-{width}")
        page.context.close()
    assert {key: value for key, value in found.items() if value} == {}
