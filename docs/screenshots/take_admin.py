"""Retake the platform console screenshots (docs/screenshots/admin-*.png).

    .venv/bin/python docs/screenshots/take_admin.py

Builds a throwaway SQLite database (/tmp/perksu_admin_shots.sqlite3), runs
`migrate` and `seed_demo`, starts the dev server on 127.0.0.1:8105 and drives
Debian's Chromium headless through Playwright as admin@perksu.test. Every
action goes through the console's own forms (a second tenant is created and
funded with the add and allocate pages), so the pictures show real behaviour.
Needs nothing from the network.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "screenshots"
DB = Path("/tmp/perksu_admin_shots.sqlite3")  # noqa: S108 - a throwaway demo database, rebuilt each run
PORT = int(os.environ.get("SHOTS_PORT", "8105"))
BASE = f"http://127.0.0.1:{PORT}"
PYTHON = str(ROOT / ".venv" / "bin" / "python")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ADMIN, PASSWORD = "admin@perksu.test", "perksu-demo-2026"


def manage(*args: str, env: dict) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)  # noqa: S603


def wait_for_server(timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{BASE}/healthz", timeout=2) as response:  # noqa: S310 - local dev server
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the dev server did not answer on {BASE}")


def shot(page: Page, name: str) -> None:
    path = OUT / f"admin-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"saved {path.relative_to(ROOT)}")


def take(page: Page) -> None:
    page.goto(f"{BASE}/admin/login/")
    page.fill("#id_username", ADMIN)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{BASE}/admin/")
    shot(page, "index")

    # A second tenant, created and funded through the console's own forms.
    page.goto(f"{BASE}/admin/tenants/tenant/add/")
    page.fill("#id_name", "Nimbus Labs")
    page.fill("#id_slug", "nimbus-labs")
    page.fill("#id_currency", "USD")
    page.fill("#id_point_value", "0.01")
    page.click("input[name=_save]")
    page.wait_for_url("**/change/")
    page.click("text=Allocate points")
    page.fill("#id_amount", "20000")
    page.fill("#id_reference_note", "PO 2026-117")
    page.click("input[type=submit]")
    page.wait_for_url("**/change/")

    page.goto(f"{BASE}/admin/tenants/tenant/")
    shot(page, "tenants")

    page.click("text=Triton Energy")
    page.wait_for_url("**/change/")
    triton = page.url
    shot(page, "tenant-change")

    page.click("text=Allocate points")
    page.fill("#id_amount", "10000")
    page.fill("#id_reference_note", "Invoice #9120")
    shot(page, "allocate")
    page.click("input[type=submit]")
    page.wait_for_url(triton)
    shot(page, "allocate-done")

    page.click("text=Claw back")
    page.fill("#id_amount", "900000")
    page.fill("#id_reason", "Contract ended early")
    page.click("input[type=submit]")
    page.wait_for_selector(".errornote")
    shot(page, "clawback-refused")

    # An empty amount takes the whole pool: the console names the figure and asks first.
    page.fill("#id_amount", "")
    page.once("dialog", lambda dialog: dialog.dismiss())  # the script's question; the page's own follows
    page.evaluate("document.querySelector('form[data-confirm-all]').removeAttribute('data-confirm-all')")
    page.click("input[type=submit][value='Claw back points']")
    page.wait_for_selector("[data-testid=confirm-clawback]")
    shot(page, "clawback-confirm")

    page.goto(f"{BASE}/admin/wallets/walletledger/")
    shot(page, "wallet-ledger")
    page.goto(f"{BASE}/admin/points/allocationlog/")
    shot(page, "allocation-log")

    page.goto(f"{BASE}/admin/ledger-health/")
    shot(page, "ledger-health")

    page.goto(f"{BASE}/admin/liability/")
    page.click("#roll-forward-form input[type=submit]")
    page.wait_for_selector("#roll-forward")
    shot(page, "liability")


PHONE_PAGES = [
    ("index", "/admin/"),
    ("tenants", "/admin/tenants/tenant/"),
    ("allocation-log", "/admin/points/allocationlog/"),
    ("recognitions", "/admin/recognition/recognition/"),
    ("ledger-health", "/admin/ledger-health/"),
    ("liability", "/admin/liability/"),
]


def take_phone(page: Page) -> None:
    """The console at 375 px: every page as wide as the screen (wide tables scroll inside their box)."""
    page.goto(f"{BASE}/admin/login/")
    shot(page, "login-phone")
    page.fill("#id_username", ADMIN)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{BASE}/admin/")
    for name, path in PHONE_PAGES:
        page.goto(f"{BASE}{path}")
        shot(page, f"{name}-phone")


def main() -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{DB}", "DJANGO_SETTINGS_MODULE": "perksu.settings.local"}
    DB.unlink(missing_ok=True)
    manage("migrate", "--noinput", env=env)
    manage("seed_demo", env=env)
    server = subprocess.Popen(  # noqa: S603 - our own manage.py, fixed arguments
        [PYTHON, "manage.py", "runserver", f"127.0.0.1:{PORT}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_server()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            errors: list[str] = []
            page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
            page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
            take(page)
            phone = browser.new_page(viewport={"width": 375, "height": 812})
            take_phone(phone)
            browser.close()
        if errors:
            print("browser console errors:", *errors, sep="\n  ", file=sys.stderr)
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
