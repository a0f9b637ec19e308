"""Columns that may name a platform admin on a customer's row (an allocation's actor, a billing
line's admin, a settings change's actor, a SCIM token's creator) are read apart by id, never
joined to `users`.

Staff's user rows are in the platform's own tenant, so such a join crosses tenants: on Citus,
with `users` distributed by tenant, it is refused ("complex joins are only supported when all
distributed tables are co-located…", docs/SCALING.md). The lists that show these columns
prefetch the person with a second statement instead; the rows and names shown are the same."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from identity.services import api_token_issue, scim_token_create
from points.services import tenant_allocate
from tenants.services import tenant_settings_update

pytestmark = pytest.mark.django_db

STAFF_TABLES = ("allocation_logs", "platform_billing_logs", "settings_change_logs", "identity_scim_tokens")


def _joins_to_users(ctx) -> list[str]:
    return [
        q["sql"][:300]
        for q in ctx.captured_queries
        if any(f'FROM "{t}"' in q["sql"] for t in STAFF_TABLES) and re.search(r'JOIN "users"', q["sql"])
    ]


@pytest.fixture
def scene(tenant, manager, platform_admin):
    tenant_allocate(actor=platform_admin, tenant_id=tenant.pk, amount=100, reference_note="INV-1")
    tenant_settings_update(tenant=tenant, actor=platform_admin, changes={"allowance_employee": 77})
    scim_token_create(tenant=tenant, name="Okta", actor=platform_admin)
    return tenant


def _get(client, url: str) -> str:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    assert _joins_to_users(ctx) == [], url
    return response.content.decode()


def test_the_console_and_the_api_read_staff_actors_apart(scene, platform_admin, manager):
    console = Client()
    console.force_login(platform_admin)
    for url in (
        "/admin/points/allocationlog/",
        "/admin/points/platformbillinglog/",
        "/admin/identity/scimtoken/",
        f"/admin/tenants/tenant/{scene.pk}/settings/",
    ):
        page = _get(console, url)
        assert platform_admin.email in page or platform_admin.full_name in page, url

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=platform_admin, name='t')[1]}")
    for url in ("/api/v1/points/allocation-logs/", "/api/v1/points/billing-logs/"):
        with CaptureQueriesContext(connection) as ctx:
            response = api.get(url)
        assert response.status_code == 200 and response.json()["results"], url
        assert _joins_to_users(ctx) == [], url

    pages = Client()
    pages.force_login(manager)
    for url in ("/manage/settings/", "/manage/integrations/"):
        _get(pages, url)


def _csv(response) -> list[dict]:
    import csv
    import io

    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_the_console_exports_and_searches_staff_columns_without_joining_them(
    scene, platform_admin, manager, tenant, other_tenant, monkeypatch
):
    """The logs' CSV exports and searches read the staff column's person apart: the same rows and e-mails."""
    from perksu import admin_base

    monkeypatch.setattr(admin_base, "CSV_CHUNK", 2)  # several chunks, people read once a chunk
    tenant_allocate(actor=platform_admin, tenant_id=other_tenant.pk, amount=50, reference_note="INV-2")
    tenant_allocate(actor=platform_admin, tenant_id=tenant.pk, amount=25, reference_note="INV-3")
    tenant_settings_update(tenant=tenant, actor=manager, changes={"allowance_employee": 12})
    console = Client()
    console.force_login(platform_admin)
    staff = platform_admin.email
    for url, column, expected in (
        ("/admin/points/allocationlog/export/", "actor", [staff] * 3),
        ("/admin/points/platformbillinglog/export/", "admin", [staff] * 3),
        ("/admin/tenants/settingschangelog/export/", "actor", [manager.email, staff]),
    ):
        with CaptureQueriesContext(connection) as ctx:
            rows = _csv(console.get(url))
        assert [r[column] for r in rows] == expected, url
        assert _joins_to_users(ctx) == [], url

    for url, term, found in (
        ("/admin/points/allocationlog/", staff.split("@")[0].upper(), 3),
        ("/admin/points/allocationlog/", "INV-2", 1),
        ("/admin/points/allocationlog/", "nobody-by-this-name", 0),
        ("/admin/points/platformbillinglog/", staff, 3),
        ("/admin/tenants/settingschangelog/", manager.email, 1),
        ("/admin/tenants/settingschangelog/", "allowance_employee", 2),
    ):
        with CaptureQueriesContext(connection) as ctx:
            response = console.get(url, {"q": term})
        assert response.status_code == 200, (url, term)
        assert response.context["cl"].result_count == found, (url, term)
        assert _joins_to_users(ctx) == [], (url, term)
    # The export follows the search.
    searched = _csv(console.get("/admin/tenants/settingschangelog/export/", {"q": manager.email}))
    assert [(r["actor"], r["new_value"]) for r in searched] == [(manager.email, "12")]
