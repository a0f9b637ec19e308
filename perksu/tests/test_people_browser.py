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
    assert photo.is_visible()
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
