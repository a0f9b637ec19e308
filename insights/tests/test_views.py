"""/manage/insights/: the page, its CSV links and the payroll download."""

from __future__ import annotations

import uuid

import pytest

from people.models import Team

pytestmark = pytest.mark.django_db

PAGE = "/manage/insights/"
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


def test_a_manager_sees_the_figures_charts_and_exports(client, books, password):
    client.login(email=books.maya.email, password=password)
    response = client.get(PAGE, MARCH)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="participation-gave">60.0%' in html
    assert 'data-testid="participation-received">40.0%' in html
    assert 'data-testid="not-recognised-30">3<' in html
    assert 'data-testid="burn-runway">119 days' in html
    # Server-drawn, labelled charts; no script beyond the site's own file.
    assert html.count('<svg class="insights-chart"') >= 3
    assert '<title id="chart-weeks-title">Recognitions received per week</title>' in html
    assert '<desc id="chart-weeks-desc">6 bars, 4 recognitions in all' in html
    assert "/manage/insights/export/by-week.csv?from=2026-03-01&amp;to=2026-03-31" in html
    assert "/manage/insights/payroll.csv" in html
    assert "Platform" in html and "Sales" in html


def test_the_page_csv_and_payroll_downloads(client, books, password):
    client.login(email=books.maya.email, password=password)
    weeks = client.get("/manage/insights/export/by-week.csv", MARCH)
    assert weeks.status_code == 200
    assert b"".join(weeks.streaming_content).decode().splitlines()[2] == "2026-03-02,2,100"
    payroll = client.get("/manage/insights/payroll.csv", MARCH)
    assert payroll.status_code == 200
    lines = b"".join(payroll.streaming_content).decode().splitlines()
    assert len(lines) == 3
    assert lines[1].split(",")[1] == "employee@triton.test"


def test_a_lead_sees_their_team_without_pool_or_payroll(client, books, password):
    client.login(email=books.leo.email, password=password)
    html = client.get(PAGE, MARCH).content.decode()
    assert "Insights: Engineering" in html
    assert 'data-testid="participation-gave">66.7%' in html
    assert "burn-runway" not in html
    assert "payroll.csv" not in html
    assert client.get("/manage/insights/payroll.csv").status_code == 403
    assert client.get("/manage/insights/export/pool-burn.csv").status_code == 403
    assert client.get(PAGE, {"team": str(books.sales.pk)}).status_code == 404


def test_employees_get_403_and_foreign_teams_404(client, books, password, other_tenant):
    client.login(email=books.asha.email, password=password)
    assert client.get(PAGE).status_code == 403
    client.logout()
    client.login(email=books.maya.email, password=password)
    foreign = Team.objects.create(tenant=other_tenant, name="Foreign")
    assert client.get(PAGE, {"team": str(foreign.pk)}).status_code == 404
    assert client.get(PAGE, {"team": str(uuid.uuid4())}).status_code == 404
    assert client.get("/manage/insights/payroll.csv", {"team": str(foreign.pk)}).status_code == 404


def test_a_bad_period_is_a_message_and_the_default_period(client, books, password):
    client.login(email=books.maya.email, password=password)
    response = client.get(PAGE, {"from": "2026-03-31", "to": "2026-03-01"}, follow=True)
    assert response.status_code == 200
    assert "`from` must not be after `to`." in response.content.decode()


def test_names_are_escaped_in_the_charts_and_tables(client, books, password):
    Team.objects.filter(pk=books.platform.pk).update(name='<script>alert("x")</script>')
    client.login(email=books.maya.email, password=password)
    html = client.get(PAGE, MARCH).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


@pytest.mark.parametrize(
    ("locale", "gave", "received"),
    [
        ("en", "60.0%", "40.0%"),
        ("en-IN", "60.0%", "40.0%"),
        ("de-DE", "60,0\u00a0%", "40,0\u00a0%"),
        ("fr-FR", "60,0\u00a0%", "40,0\u00a0%"),
    ],
)
def test_percentages_are_written_in_the_tenants_locale(client, books, password, locale, gave, received):
    from tenants.models import Tenant

    Tenant.objects.filter(pk=books.tenant.pk).update(locale=locale)
    client.login(email=books.maya.email, password=password)
    html = client.get(PAGE, MARCH).content.decode()
    assert f'data-testid="participation-gave">{gave}<' in html
    assert f'data-testid="participation-received">{received}<' in html
