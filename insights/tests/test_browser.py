"""/manage/insights/ in a real browser: the figures in the tenant's locale, no serious axe-core
violation, at 1280 and 375 px (screenshots written when INSIGHTS_SCREENSHOTS names a directory)."""

import os

import pytest

from perksu.testing import needs_chromium
from perksu.tests.conftest import browser  # noqa: F401 - the module's Chromium
from perksu.tests.test_pages_browser import DESKTOP, PHONE, log_in, new_page, serious_violations
from tenants.models import Tenant

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), needs_chromium]


def test_insights_page_reads_in_the_tenants_locale_at_both_widths(browser, live_server, books, password):  # noqa: F811
    Tenant.objects.filter(pk=books.tenant.pk).update(locale="de-DE")
    shots = os.environ.get("INSIGHTS_SCREENSHOTS")
    for width in (DESKTOP, PHONE):
        page = new_page(browser, width, bypass_csp=True)
        log_in(page, live_server, books.maya, password)
        page.goto(f"{live_server.url}/manage/insights/?from=2026-03-01&to=2026-03-31")
        assert page.get_by_test_id("participation-gave").inner_text() == "60,0\u00a0%"
        assert page.get_by_test_id("participation-received").inner_text() == "40,0\u00a0%"
        if shots:
            page.screenshot(path=f"{shots}/insights-{width}.png", full_page=True)
        assert serious_violations(page) == []
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        page.context.close()
