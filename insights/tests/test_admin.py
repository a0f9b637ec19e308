"""The console's insights page, its CSV tables and its payroll export (platform admins only)."""

from __future__ import annotations

import uuid

import pytest

from people.models import Team

pytestmark = pytest.mark.django_db

PAGE = "/admin/insights/"
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


@pytest.fixture
def console(client, platform_admin, password):
    client.login(email=platform_admin.email, password=password)
    return client


def test_the_console_lists_tenants_then_shows_one(console, books):
    chooser = console.get(PAGE)
    assert chooser.status_code == 200
    assert "Triton Energy" in chooser.content.decode()
    html = console.get(PAGE, {"tenant_id": str(books.tenant.pk), **MARCH}).content.decode()
    assert 'data-testid="participation-gave">60.0%' in html
    assert 'data-testid="burn-runway">119 days' in html
    assert f"/admin/insights/export/by-week.csv?tenant_id={books.tenant.pk}" in html


def test_the_console_payroll_and_tables(console, books):
    payroll = console.get("/admin/insights/payroll.csv", {"tenant_id": str(books.tenant.pk), **MARCH})
    assert payroll.status_code == 200
    lines = b"".join(payroll.streaming_content).decode().splitlines()
    assert [line.split(",")[1] for line in lines[1:]] == ["employee@triton.test", "rahul@triton.test"]
    table = console.get("/admin/insights/export/by-team.csv", {"tenant_id": str(books.tenant.pk), **MARCH})
    assert b"".join(table.streaming_content).decode().splitlines()[1] == "Platform,3,50"


def test_unknown_tenants_and_foreign_teams_are_404(console, books, other_tenant):
    foreign = Team.objects.create(tenant=other_tenant, name="Foreign")
    assert console.get(PAGE, {"tenant_id": str(uuid.uuid4())}).status_code == 404
    assert console.get(PAGE, {"tenant_id": str(books.tenant.pk), "team": str(foreign.pk)}).status_code == 404
    assert console.get("/admin/insights/payroll.csv").status_code == 400


def test_tenant_members_never_reach_the_console_page(client, books, password):
    client.login(email=books.maya.email, password=password)
    response = client.get(PAGE, {"tenant_id": str(books.tenant.pk)})
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    assert client.get("/admin/insights/payroll.csv", {"tenant_id": str(books.tenant.pk)}).status_code == 302
