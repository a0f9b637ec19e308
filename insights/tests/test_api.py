"""GET /api/v1/insights/, its CSV tables and the payroll export, over HTTP with Bearer tokens."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from identity.models import ApiToken
from identity.services import api_token_issue
from insights.periods import tenant_today
from people.models import Team
from tenants.models import Tenant
from tenants.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/insights/"
MARCH = {"from": "2026-03-01", "to": "2026-03-31"}


def client_for(user) -> APIClient:
    client = APIClient()
    token, secret = api_token_issue(user=user)
    # A token in use: a request reads it (1 query) and does not write `last_used_at` (identity.services).
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=token.created_at)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def csv_rows(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_a_manager_gets_every_figure_of_the_period(books):
    response = client_for(books.maya).get(URL, MARCH)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["participation"] == {"gave": 60.0, "received": 40.0}
    assert body["members"] == {"active": 5, "gave": 3, "received": 2}
    assert body["totals"] == {"recognitions": 4, "points": 150}
    assert (body["from"], body["to"], body["timezone"]) == ("2026-03-01", "2026-03-31", "Asia/Kolkata")
    assert [(w["week_start"], w["recognitions"], w["points"]) for w in body["by_week"]] == [
        ("2026-02-23", 0, 0),
        ("2026-03-02", 2, 100),
        ("2026-03-09", 1, 50),
        ("2026-03-16", 0, 0),
        ("2026-03-23", 0, 0),
        ("2026-03-30", 1, 0),
    ]
    assert [(t["team_name"], t["recognitions"], t["points"]) for t in body["by_team"]] == [
        ("Platform", 3, 50),
        ("Engineering", 1, 100),
        ("Sales", 0, 0),
    ]
    assert [g["full_name"] for g in body["top_givers"]] == ["Maya Manager", "Leo Lead", "Asha Employee", "Dev Leaver"]
    assert [(r["full_name"], r["recognitions"]) for r in body["top_receivers"]] == [
        ("Rahul Employee", 3),
        ("Asha Employee", 1),
    ]
    forgotten = body["not_recognised"]
    assert (forgotten["days_30"], forgotten["days_60"], forgotten["days_90"]) == (3, 2, 2)
    assert body["pool_burn"] == {"pool": 39_890, "outflow_30_days": 10_000, "burn_per_day": 333.3, "runway_days": 119}
    assert body["leaderboard_enabled"] is True
    assert response["Cache-Control"] == "no-store"


def test_the_default_period_is_the_last_30_days_in_the_tenants_timezone(books):
    body = client_for(books.maya).get(URL).json()
    today = tenant_today(ZoneInfo("Asia/Kolkata"))
    assert (body["from"], body["to"]) == ((today - dt.timedelta(days=29)).isoformat(), today.isoformat())


def test_the_leaderboard_switched_off_is_absent_everywhere(books):
    Tenant.objects.filter(pk=books.tenant.pk).update(leaderboard_enabled=False)
    client = client_for(books.maya)
    body = client.get(URL, MARCH).json()
    assert (body["leaderboard_enabled"], body["top_givers"], body["top_receivers"]) == (False, None, None)
    assert client.get(URL + "export/top-givers/", MARCH).status_code == 404


def test_a_lead_sees_only_their_team(books):
    client = client_for(books.leo)
    body = client.get(URL, MARCH).json()
    assert body["team_name"] == "Engineering"
    assert body["members"] == {"active": 3, "gave": 2, "received": 2}
    assert body["participation"] == {"gave": 66.7, "received": 66.7}
    assert body["pool_burn"] is None
    assert {r["full_name"] for r in body["top_receivers"]} == {"Rahul Employee", "Asha Employee"}
    # Their sub-team is theirs; a sibling team is not, and answers like a missing one.
    assert client.get(URL, {**MARCH, "team": str(books.platform.pk)}).json()["members"]["active"] == 1
    sales = client.get(URL, {**MARCH, "team": str(books.sales.pk)})
    assert sales.status_code == 404
    assert sales.json()["code"] == "not_found"
    assert client.get(URL + "export/pool-burn/", MARCH).status_code == 403
    assert client.get(URL + "payroll/", MARCH).status_code == 403


def test_a_lead_without_a_team_is_refused(tenant):
    lead = LeadFactory(tenant=tenant)
    response = client_for(lead).get(URL)
    assert response.status_code == 403


def test_employees_are_refused_and_strangers_unauthenticated(books):
    assert client_for(books.asha).get(URL).status_code == 403
    assert client_for(books.asha).get(URL + "payroll/").status_code == 403
    assert APIClient().get(URL).status_code == 401


def test_cross_tenant_team_and_tenant_ids_are_404(books, other_tenant, outsider, platform_admin):
    foreign = Team.objects.create(tenant=other_tenant, name="Foreign")
    maya = client_for(books.maya)
    for team in (foreign.pk, uuid.uuid4(), "not-a-uuid"):
        response = maya.get(URL, {"team": str(team)})
        assert response.status_code in (404, 400), team
    assert maya.get(URL, {"team": str(foreign.pk)}).status_code == 404
    assert maya.get(URL, {"team": str(uuid.uuid4())}).status_code == 404
    assert maya.get(URL + "payroll/", {"team": str(foreign.pk)}).status_code == 404
    # A manager's tenant_id is ignored: they see their own tenant, never another.
    body = maya.get(URL, {**MARCH, "tenant_id": str(other_tenant.pk)}).json()
    assert body["tenant_id"] == str(books.tenant.pk)
    # The platform admin names the tenant; a team of another tenant is a 404 there too.
    admin = client_for(platform_admin)
    assert admin.get(URL).status_code == 400
    assert admin.get(URL, {"tenant_id": str(uuid.uuid4())}).status_code == 404
    assert admin.get(URL, {"tenant_id": str(books.tenant.pk), "team": str(foreign.pk)}).status_code == 404
    platform_body = admin.get(URL, {**MARCH, "tenant_id": str(books.tenant.pk)}).json()
    assert platform_body["participation"] == {"gave": 60.0, "received": 40.0}
    # The outsider's own view knows nothing of Triton.
    outsider_manager_view = client_for(outsider).get(URL)
    assert outsider_manager_view.status_code == 403


def test_bad_periods_are_refused_naming_the_field(books):
    client = client_for(books.maya)
    backwards = client.get(URL, {"from": "2026-03-31", "to": "2026-03-01"})
    assert backwards.status_code == 400
    assert backwards.json()["code"] == "invalid_period"
    assert client.get(URL, {"from": "2025-01-01", "to": "2026-03-01"}).json()["code"] == "invalid_period"
    assert "from" in client.get(URL, {"from": "March"}).json()


def test_payroll_export_per_member_with_value_in_the_currency(books):
    response = client_for(books.maya).get(URL + "payroll/", MARCH)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="payroll-triton-energy-20260301-20260331.csv"'
    rows = csv_rows(response)
    header, lines = rows[0], rows[1:]
    as_dicts = [dict(zip(header, line, strict=True)) for line in lines]
    assert [(d["email"], d["team"], d["taxable points"], d["currency"], d["taxable value"]) for d in as_dicts] == [
        ("employee@triton.test", "Engineering", "100", "INR", "50.00"),
        ("rahul@triton.test", "Platform", "50", "INR", "25.00"),
    ]
    assert as_dicts[0]["points received: recognition"] == "100"
    assert as_dicts[0]["period from"] == "2026-03-01"


@pytest.mark.postgres
def test_postgresql_writes_the_payroll_lines_python_would_write(books):
    """On PostgreSQL the lines are written by COPY: read back, they must be exactly what Python's
    writer gives for the same members — quotes, commas and line breaks in names, formula cells,
    an empty team, accents, and cents rounded half up (50 × 0.0125 = 0.625 → 0.63)."""
    from insights.payroll import COLUMNS, _written_lines, payroll_csv
    from insights.periods import Period
    from insights.scope import resolve_scope
    from people.models import Profile

    Tenant.objects.filter(pk=books.tenant.pk).update(point_value=Decimal("0.0125"))
    User = type(books.leo)
    User.objects.filter(pk=books.asha.pk).update(full_name='Ásha "Ana", Çelik\nsecond line')
    from tenants.services import user_update_identity

    user_update_identity(user=books.rahul, full_name="=SUM(A1:A9)", email="-rahul@triton.test")
    Profile.objects.filter(user=books.asha).update(team=None)
    Team.objects.filter(pk=books.platform.pk).update(name='@Platform, "core"')
    scope = resolve_scope(books.maya)
    period = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31), ZoneInfo("Asia/Kolkata"))

    copied = b"".join(part if isinstance(part, bytes) else part.encode() for part in payroll_csv(scope, period))
    header = ",".join(f'"{h}"' if "," in h else h for _, h in COLUMNS) + "\r\n"
    written = header + "".join(_written_lines(scope, period))
    as_rows = lambda text: list(csv.reader(io.StringIO(text)))  # noqa: E731
    assert as_rows(copied.decode()) == as_rows(written)
    lines = {row[1]: row for row in as_rows(written)[1:]}
    assert lines["employee@triton.test"][2:4] == ['Ásha "Ana", Çelik\nsecond line', ""]
    assert lines["'-rahul@triton.test"][2:4] == ["'=SUM(A1:A9)", '\'@Platform, "core"']
    assert [lines[e][11] for e in ("employee@triton.test", "'-rahul@triton.test")] == ["1.25", "0.63"]
    assert lines["employee@triton.test"][10] == "0.0125"


def test_payroll_counts_redemptions_and_refunds(books):
    from wallets.services import redemption_create, redemption_refund, reward_create

    mug = reward_create(actor=books.maya, name="Mug", points_cost=30)
    kept = redemption_create(user=books.asha, reward_id=mug.pk)
    refunded = redemption_create(user=books.asha, reward_id=mug.pk)
    redemption_refund(actor=books.maya, redemption_id=refunded.redemption.pk)
    assert kept
    rows = csv_rows(client_for(books.maya).get(URL + "payroll/"))
    line = dict(zip(rows[0], rows[1], strict=True))
    assert (line["email"], line["redemptions"], line["points redeemed"], line["points refunded"]) == (
        "employee@triton.test",
        "2",
        "60",
        "30",
    )
    assert line["taxable points"] == "0"
    body = client_for(books.maya).get(URL).json()
    assert body["redemptions_by_reward"] == [
        {"reward_id": str(mug.pk), "reward_name": "Mug", "redemptions": 2, "refunded": 1, "points": 30}
    ]


def test_every_table_exports_as_csv(books):
    client = client_for(books.maya)
    weeks = csv_rows(client.get(URL + "export/by-week/", MARCH))
    assert weeks[0] == ["week starting", "recognitions", "points"]
    assert weeks[2] == ["2026-03-02", "2", "100"]
    for table in (
        "participation",
        "by-team",
        "by-value",
        "top-givers",
        "top-receivers",
        "not-recognised",
        "allowance",
        "pool-burn",
        "redemptions",
    ):
        response = client.get(URL + f"export/{table}/", MARCH, HTTP_ACCEPT="text/csv")
        assert response.status_code == 200, table
        assert csv_rows(response)[0], table
    forgotten = csv_rows(client.get(URL + "export/not-recognised/", MARCH))
    assert [row[1] for row in forgotten[1:]] == ["Leo Lead", "Maya Manager", "Kiran Employee"]
    assert forgotten[3][3] == "2026-02-28T23:59:00+05:30"
    assert client.get(URL + "export/nothing/").status_code == 404


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cells_that_a_spreadsheet_would_run_are_quoted(books, prefix):
    name = f'{prefix}HYPERLINK("http://evil.test","x")'
    type(books.leo).objects.filter(pk=books.leo.pk).update(full_name=name)
    Team.objects.filter(pk=books.platform.pk).update(name=f"{prefix}cmd|' /C calc'!A0")
    client = client_for(books.maya)
    givers = csv_rows(client.get(URL + "export/top-givers/", MARCH))
    assert [row[1] for row in givers[1:]][1] == "'" + name
    teams = csv_rows(client.get(URL + "export/by-team/", MARCH))
    assert teams[1][0] == f"'{prefix}cmd|' /C calc'!A0"
    payroll = csv_rows(client.get(URL + "payroll/", MARCH))
    assert payroll[2][3] == f"'{prefix}cmd|' /C calc'!A0"
    # Numbers are not text: a negative figure would stay a number (none here), and counts are plain.
    assert teams[1][1] == "3"


def _count(client, path, params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, params)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(queries)


def test_statement_counts_are_pinned_and_do_not_grow(books, award):
    client = client_for(books.maya)
    # The first view of a period builds the rollups of its closed days (insights.rollups), then
    # reads them like every later view.
    assert _count(client, URL, MARCH) > 16
    # token and user (1), tenant (1), teams (1), rollup days built and the teams' fingerprint (2),
    # givers and receivers, one grouped pass each (2), active members (1), weeks (1), team (1), value (1),
    # the givers' and receivers' names (2), not recognised (2: how far its rollup goes, the members),
    # allowance (0: the tenant gives none), pool burn (2), redemptions (1).
    first = _count(client, URL, MARCH)
    assert first == 18
    for i in range(5):
        award(books.maya, [books.kiran, books.asha], 1, message=f"more {i}")
    assert _count(client, URL, MARCH) == first
    _count(client, URL, {})  # the last 30 days: builds their closed days
    assert _count(client, URL, {}) == first
    # The payroll export: the months built (1), the sums of rollup and live ledger (1), and the request's own.
    _count(client, URL + "payroll/", MARCH)  # builds March
    assert _count(client, URL + "payroll/", MARCH) == 5
    assert _count(client, URL + "export/by-week/", MARCH) == 6


@pytest.mark.postgres
@pytest.mark.parametrize("days", [(1, 31), (5, 20)], ids=["a closed month", "part of a month"])
def test_every_join_of_the_payroll_statement_names_the_tenant(books, days):
    """On Citus a join by id alone between tables distributed by tenant is refused (docs/SCALING.md)."""
    import re

    from insights.payroll import payroll_lines
    from insights.periods import Period
    from insights.scope import resolve_scope

    period = Period(dt.date(2026, 3, days[0]), dt.date(2026, 3, days[1]), ZoneInfo("Asia/Kolkata"))
    with CaptureQueriesContext(connection) as queries:
        lines = list(payroll_lines(resolve_scope(books.maya), period))
    assert lines
    (sql,) = [q["sql"] for q in queries.captured_queries if "JOIN users u" in q["sql"]]
    ons = re.findall(r"\bJOIN\s+\w+\s+\w+\s+ON\s+(.+?)\s*(?=\bLEFT\b|\bJOIN\b|\bGROUP\b|\bORDER\b|$)", sql, re.S)
    assert len(ons) == 4, sql
    assert [on for on in ons if "tenant_id" not in on] == []
