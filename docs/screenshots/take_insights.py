"""Screenshots of the insights page (manager, lead) and the console's insights page, at desktop
(1280) and phone (375) width, against a dev server with demo data (see take_pages.py):

    .venv/bin/python docs/screenshots/take_insights.py http://127.0.0.1:8765

Writes docs/screenshots/page-insights*-<desktop|phone>.png and admin-insights.png.
"""

from __future__ import annotations

import os
import sys

from playwright.sync_api import sync_playwright
from take_pages import OUT, WIDTHS, log_in

PAGES = [
    ("insights", "manager@triton.test", "/manage/insights/"),
    ("insights-lead", "lead.eng@triton.test", "/manage/insights/"),
]


def main(base: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        for label, (width, height) in WIDTHS.items():
            for name, who, path in PAGES:
                context = browser.new_context(viewport={"width": width, "height": height})
                page = context.new_page()
                log_in(page, base, who)
                page.goto(f"{base}{path}")
                page.wait_for_load_state("networkidle")
                for details in page.locator("details").all():
                    details.evaluate("d => d.open = true")
                target = OUT / f"page-{name}-{label}.png"
                page.screenshot(path=str(target), full_page=True)
                print(target.relative_to(OUT.parent.parent))
                context.close()
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        log_in(page, base, "admin@perksu.test")
        page.goto(f"{base}/admin/insights/")
        page.get_by_label("Tenant").select_option(label="Triton Energy")
        page.get_by_role("button", name="Show").click()
        page.wait_for_load_state("networkidle")
        page.screenshot(path=str(OUT / "admin-insights.png"), full_page=True)
        print("docs/screenshots/admin-insights.png")
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8765")
