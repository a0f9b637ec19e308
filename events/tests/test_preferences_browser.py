"""The e-mail preferences page in Chromium: a manager sees and can reach every category, at both widths."""

from __future__ import annotations

import pytest

from perksu.testing import needs_chromium
from perksu.tests.conftest import browser  # noqa: F401 - the module's Chromium
from perksu.tests.test_pages_browser import DESKTOP, PHONE, log_in, new_page, serious_violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), needs_chromium]


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_a_manager_sees_every_category_without_a_hidden_scroll(browser, live_server, manager, password, width):  # noqa: F811
    page = new_page(browser, width, bypass_csp=True)
    log_in(page, live_server, manager, password)
    page.goto(f"{live_server.url}/profile/notifications/")
    labels = page.locator("fieldset label.check")
    assert "Webhook endpoint disabled" in labels.all_inner_texts()
    box = page.locator("fieldset").bounding_box()
    for label in labels.all():
        inner = label.bounding_box()
        assert box["y"] <= inner["y"] and inner["y"] + inner["height"] <= box["y"] + box["height"], label.inner_text()
    assert page.locator("fieldset").evaluate("f => f.scrollHeight <= f.clientHeight")
    assert serious_violations(page) == []
    page.context.close()
