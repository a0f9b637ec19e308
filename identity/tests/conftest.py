"""The browser fixtures of the pages' tests (Chromium through Playwright, CSP violations recorded)."""

from perksu.tests.conftest import browser, page  # noqa: F401
