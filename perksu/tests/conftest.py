"""The headless Chromium shared by the browser tests (Debian's package, driven by Playwright), and
the page fixture that records every content-security-policy violation."""

import pytest

from perksu.testing import CHROMIUM, CHROMIUM_ARGS


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    """A fresh 1280 × 900 page. `page.csp_violations` collects every content security policy
    violation (a bug in the pages), from the console and from the DOM event, which catches what
    the console might not (e.g. a blocked style attribute set by script). A module may set
    `PAGE_TIMEOUT_MS` (default 10 s)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(getattr(request.module, "PAGE_TIMEOUT_MS", 10_000))
    page = context.new_page()
    page.csp_violations = []
    page.on(
        "console",
        lambda msg: (
            page.csp_violations.append(f"{page.url}: {msg.text}") if "Content Security Policy" in msg.text else None
        ),
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sample));"
    )
    yield page
    context.close()
