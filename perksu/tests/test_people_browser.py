"""People pages in a real browser: a photo upload, a CSV import (dry run, then apply) and a
password reset from the e-mail's link. Screenshots of each page at 1280 and 375 px go to
docs/screenshots/ when PERKSU_SCREENSHOTS is set."""

import os
import re
from pathlib import Path

import pytest
from django.core import mail
from PIL import Image

from people.models import Profile
from perksu.testing import needs_chromium
from tenants.models import User

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), needs_chromium]
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def shoot(page, name):
    if not os.environ.get("PERKSU_SCREENSHOTS"):
        return
    for width in (1280, 375):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"people-{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def log_in(page, live_server, email, password):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_photo_import_and_password_reset(page, live_server, manager, employee, password, tmp_path):
    log_in(page, live_server, manager.email, password)
    page.wait_for_url(f"{live_server.url}/manage/")

    # A photo, uploaded from the profile page, replaces the initials.
    page.goto(f"{live_server.url}/profile/")
    assert page.get_by_test_id("avatar-initials").count() >= 1
    picture = tmp_path / "me.jpg"
    Image.new("RGB", (500, 400), (30, 90, 200)).save(picture, format="JPEG")
    page.get_by_label("New photo").set_input_files(str(picture))
    page.get_by_role("button", name="Upload photo").click()
    page.wait_for_url(f"{live_server.url}/profile/")
    photo = page.get_by_test_id("avatar-photo").first
    photo.wait_for(state="visible")
    # The page may be shown before its image has loaded: wait for the image, then read its width.
    loaded = page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=photo.element_handle())
    assert loaded.json_value() is True
    assert page.evaluate("img => img.naturalWidth", photo.element_handle()) == 256
    assert Profile.objects.get(user=manager).avatar.name.endswith("-256.webp")
    shoot(page, "profile")

    # A CSV through the page: the dry run reports, nothing changes; apply creates.
    page.goto(f"{live_server.url}/manage/people/import/")
    csv = tmp_path / "people.csv"
    csv.write_bytes(
        "\ufeffemail;full_name;role;title;team;manager_email\r\n"
        f"ann@triton.test;Ann Lee;employee;Engineer;Platform;{manager.email}\r\n"
        f"bob@triton.test;Bob Ray;tenant_lead;Lead;Platform;{manager.email}\r\n".encode()
    )
    page.get_by_label("CSV file").set_input_files(str(csv))
    page.get_by_role("button", name="Check the file").click()
    assert page.get_by_test_id("count-created").inner_text() == "2"
    assert not User.objects.filter(email="ann@triton.test").exists()
    shoot(page, "import-dry-run")
    page.get_by_role("button", name="Apply the import").click()
    page.wait_for_url(f"{live_server.url}/manage/people/")
    assert "2 created" in page.locator(".messages").inner_text()
    assert User.objects.get(email="bob@triton.test").profile.team.name == "Platform"
    assert page.get_by_test_id("member-row").count() == 4  # the manager, the employee, Ann and Bob
    shoot(page, "list")
    page.goto(f"{live_server.url}/manage/people/new/")
    shoot(page, "add")

    # Forgot password: the e-mail's link sets a new one.
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Forgot password?").click()
    page.get_by_label("Email").fill(employee.email)
    shoot(page, "forgot-password")
    page.get_by_role("button", name="Send the link").click()
    assert "If an account uses that address" in page.get_by_test_id("reset-sent").inner_text()
    [message] = [m for m in mail.outbox if m.to == [employee.email]]
    link = re.search(r"https?://\S+/accounts/reset/\S+", message.body)[0]
    page.goto(link)
    page.get_by_label("New password", exact=True).fill("a-brand-new-Passw0rd")
    page.get_by_label("New password confirmation").fill("a-brand-new-Passw0rd")
    page.get_by_role("button", name="Save password").click()
    assert "Your password is saved" in page.content()
    log_in(page, live_server, employee.email, "a-brand-new-Passw0rd")
    page.wait_for_url(f"{live_server.url}/wallet/")
    assert page.csp_violations == []


def test_faces_on_the_picker_the_wallet_and_the_dashboards(
    browser, page, live_server, funded_lead, manager, employee, other_employee, award, password
):
    """Photos or initials beside names on the pages that list colleagues; the picker's filter matches
    names (not the initials drawn beside them) and its chips stay names; axe finds nothing serious at
    1280 and 375 px on any of these pages."""
    from people.photos import photo_set
    from people.tests.photos import image_bytes
    from perksu.tests.test_pages_browser import expect, serious_violations

    photo_set(user=employee, data=image_bytes("PNG", colour=(20, 120, 60)))
    photo_set(user=funded_lead, data=image_bytes("JPEG", colour=(120, 20, 160)))
    award(manager, employee, 50, message="Fixed the rig")
    award(funded_lead, employee, 20, message="Night shift")
    award(other_employee, employee, 0, message="Kind words")

    log_in(page, live_server, manager.email, password)
    page.wait_for_url(f"{live_server.url}/manage/")
    form = page.locator("form.award-form")
    asha = form.locator("label.check", has=page.get_by_label("Asha Employee"))
    expect(asha.get_by_test_id("avatar-photo")).to_be_visible()
    assert page.evaluate(
        "img => img.complete && img.naturalWidth", asha.get_by_test_id("avatar-photo").element_handle()
    )
    rahul = form.locator("label.check", has=page.get_by_label("Rahul Employee"))
    expect(rahul.get_by_test_id("avatar-initials")).to_have_text("RE")
    form.get_by_label("Rahul Employee").check()
    form.get_by_label("Find a colleague").fill("RE")  # Rahul's initials, but in nobody's name
    expect(form.locator("[data-filter-status]")).to_have_text("0 of 3 shown")
    form.get_by_label("Find a colleague").fill("rahul")
    expect(form.locator("[data-filter-status]")).to_have_text("1 of 3 shown")
    assert form.locator(".chip > span").all_inner_texts() == ["Rahul Employee"]
    budgets = page.locator("table", has=page.get_by_text("Budget of each lead"))
    expect(budgets.get_by_test_id("avatar-photo")).to_have_count(1)
    shoot(page, "dashboard-faces")
    assert page.csp_violations == []

    found = {}
    for width in (1280, 375):
        for user, paths in (
            (manager, ["/manage/", "/recognize/"]),
            (funded_lead, ["/manage/"]),
            (employee, ["/wallet/", "/recognize/"]),
        ):
            context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
            other = context.new_page()
            log_in(other, live_server, user.email, password)
            other.wait_for_load_state("load")
            for path in paths:
                other.goto(f"{live_server.url}{path}")
                if path == "/wallet/":
                    owner = other.get_by_test_id("wallet-owner")
                    expect(owner.get_by_test_id("avatar-photo")).to_be_visible()
                    expect(other.get_by_test_id("kudos-received").get_by_test_id("avatar-initials")).to_have_text("RE")
                found[(width, user.email, path)] = serious_violations(other)
            context.close()
    assert {key: value for key, value in found.items() if value} == {}
