"""The content security policy in a real browser: the admin console, the Swagger UI and the
browsable API render with nothing blocked (Debian's Chromium through Playwright).

The pages of the product have the same check in test_browser.py. What the policy allows
beyond 'self' — and why — is in perksu/security.py (PATH_EXCEPTIONS).
"""

import os

import pytest

from perksu.testing import needs_chromium
from tenants.tests.factories import LeadFactory, UserFactory

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    needs_chromium,
]
# The console and Swagger UI pages keep the 15 s they had before the fixture was shared.
PAGE_TIMEOUT_MS = 15_000


def admin_log_in(page, live_server, user, password):
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", user.email)
    page.fill("#id_password", password)
    page.locator("input[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/admin/")


@pytest.fixture
def books_with_rows(funded_lead, manager, employee, award):
    """Some rows in every admin list, so change pages exist to open."""
    award(manager, [employee], 100)
    award(funded_lead, [employee], 50)
    return funded_lead


def test_admin_console_renders_with_nothing_blocked(page, live_server, platform_admin, password, books_with_rows):
    admin_log_in(page, live_server, platform_admin, password)
    base = live_server.url
    links = page.eval_on_selector_all(
        "#content-main a[href^='/admin/']", "els => [...new Set(els.map(e => e.getAttribute('href')))]"
    )
    changelists = [href for href in links if not href.endswith("/add/")]
    assert len(changelists) >= 5, links
    visited = []
    for href in changelists:
        page.goto(base + href)
        assert page.locator("#content").count() == 1, href
        visited.append(href)
        rows = page.eval_on_selector_all("#result_list tbody th a", "els => els.slice(0, 1).map(e => e.href)")
        for change_url in rows:
            page.goto(change_url)
            visited.append(change_url)
        # The filter sidebar and search box (the admin's own JS) are on the list pages.
    for href in [h for h in links if h.endswith("/add/")]:
        page.goto(base + href)
        visited.append(href)
    assert page.csp_violations == [], page.csp_violations
    assert len(visited) >= 8


def test_allocate_and_clawback_pages_render_with_nothing_blocked(page, live_server, platform_admin, password, tenant):
    admin_log_in(page, live_server, platform_admin, password)
    for action in ("allocate", "clawback"):
        response = page.goto(f"{live_server.url}/admin/tenants/tenant/{tenant.pk}/{action}/")
        if response.status == 404:
            pytest.skip(f"the admin's {action} page is not in this build")
        assert response.status == 200
        assert page.locator("form").count() >= 1
    assert page.csp_violations == [], page.csp_violations


def test_swagger_ui_renders_every_operation_with_nothing_blocked(page, live_server, db):
    response = page.goto(f"{live_server.url}/api/docs/")
    assert response.status == 200
    page.locator(".swagger-ui .info .title").wait_for()
    assert "Perksu API" in page.locator(".swagger-ui .info .title").inner_text()
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() >= 20  # the operations, from /api/schema/
    # Open one operation: its parameters and responses render (more of Swagger UI's code runs).
    page.locator(".opblock-summary").first.click()
    page.locator(".opblock-body").first.wait_for()
    assert page.csp_violations == [], page.csp_violations


def test_browsable_api_renders_with_nothing_blocked(page, live_server, manager, password, tenant):
    LeadFactory(tenant=tenant, email="lead2@triton.test")
    UserFactory(tenant=tenant, email="emp2@triton.test")
    # Sign in through DRF's login page (session), then open a list with filters and forms.
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(manager.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    for path in ("/api/v1/users/", "/api/v1/rewards/", "/api/v1/points/tenant-allocation-stats"):
        response = page.goto(f"{live_server.url}{path}", wait_until="load")
        assert response.status == 200, path
        assert page.locator(".response-info").count() == 1, path
    # The floated buttons (Filters, OPTIONS) are laid out by the hashed style attributes.
    filters = page.locator("button[data-target='#filtersModal']")
    if filters.count():
        assert filters.first.evaluate("e => getComputedStyle(e).float") == "right"
    assert page.csp_violations == [], page.csp_violations
