"""Screenshots of the manager and employee pages, desktop (1280) and phone (375) width.

Run against a dev server with demo data, e.g.:

    export DATABASE_URL=sqlite:////tmp/perksu-shots.sqlite3
    .venv/bin/python manage.py migrate && .venv/bin/python manage.py seed_demo
    .venv/bin/python manage.py runserver 127.0.0.1:8765 &
    .venv/bin/python docs/screenshots/take_pages.py http://127.0.0.1:8765

Writes docs/screenshots/page-<name>-<desktop|phone>.png. Uses Debian's
Chromium (/usr/bin/chromium, or $CHROMIUM).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parent
PASSWORD = "perksu-demo-2026"  # noqa: S105 - the public demo password printed by seed_demo
WIDTHS = {"desktop": (1280, 900), "phone": (375, 812)}
# (file name, who, path)
PAGES = [
    ("login", None, "/accounts/login/"),
    ("manage", "manager@triton.test", "/manage/"),
    ("manage-lead", "lead.ops@triton.test", "/manage/"),
    ("recognize", "asha@triton.test", "/recognize/"),
    ("wallet", "asha@triton.test", "/wallet/"),
    ("rewards", "manager@triton.test", "/rewards/"),
    ("rewards-employee", "asha@triton.test", "/rewards/"),
    ("feed", "asha@triton.test", "/feed/"),
    ("notifications", "asha@triton.test", "/notifications/"),
    ("notification-preferences", "asha@triton.test", "/profile/notifications/"),
]


def log_in(page, base: str, email: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("networkidle")


def main(base: str) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        for label, (width, height) in WIDTHS.items():
            sessions: dict[str | None, object] = {}
            for name, who, path in PAGES:
                if who not in sessions:
                    context = browser.new_context(viewport={"width": width, "height": height})
                    page = context.new_page()
                    if who:
                        log_in(page, base, who)
                    sessions[who] = page
                page = sessions[who]
                page.goto(f"{base}{path}")
                page.wait_for_load_state("networkidle")
                target = OUT / f"page-{name}-{label}.png"
                page.screenshot(path=str(target), full_page=True)
                print(target.relative_to(OUT.parent.parent))
            # The voucher after a redemption: the employee's most recent one.
            page = sessions["asha@triton.test"]
            page.goto(f"{base}/rewards/")
            page.locator("table a code").first.click()
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(OUT / f"page-voucher-{label}.png"), full_page=True)
            page.goto(f"{base}/rewards/")
            page.get_by_role("link", name="Redeem").first.click()
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(OUT / f"page-redeem-confirm-{label}.png"), full_page=True)
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8765")
