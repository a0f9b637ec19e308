"""The rollups (insights.rollups) against the live computation, on randomised tenants.

Each tenant gets recognitions at random instants over seven weeks (a third of them
on a minute either side of the tenant's midnight), random teams and values, then
random periods — reaching before the first recognition and past today, starting
and ending mid-week — are read twice: with the rollups of the closed days, and
entirely live (the same figure asked as if no day had closed yet). They must agree
on every figure, in every timezone; and reconcile must notice a rollup that no
longer matches its sources.
"""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest
from django.db.models import F, Q

from insights import rollups, selectors
from insights.models import MemberLast, PayrollWalletMonth, RollupDay, TeamDay
from insights.payroll import payroll_lines
from insights.periods import Period
from insights.scope import resolve_scope
from people.models import Profile, Team
from points.reconcile import reconcile
from recognition.models import CompanyValue
from recognition.services import recognition_create
from tenants.models import Tenant
from tenants.tests.factories import UserFactory

from .conftest import frozen

NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=dt.UTC)
TIMEZONES = ["Asia/Kolkata", "America/New_York", "Pacific/Auckland", "Asia/Kathmandu", "UTC"]


def _build(monkeypatch, seed, tz_name, tenant, manager, lead, employee, other_employee, allocate):
    rnd = random.Random(seed)
    tz = ZoneInfo(tz_name)
    Tenant.objects.filter(pk=tenant.pk).update(timezone=tz_name)
    tenant.refresh_from_db()
    allocate(tenant, 1_000_000)
    members = [manager, lead, employee, other_employee] + [
        UserFactory(tenant=tenant, email=f"m{i}@t.test", full_name=f"Member {i}") for i in range(4)
    ]
    a = Team.objects.create(tenant=tenant, name="A")
    b = Team.objects.create(tenant=tenant, name="B", parent=a)
    c = Team.objects.create(tenant=tenant, name="C")
    for member in members:
        Profile.objects.filter(user=member).update(team=rnd.choice([a, b, c, None]))
    values = [
        CompanyValue.objects.create(tenant=tenant, name=f"Value {i}", hashtag=f"v{i}", position=i) for i in range(3)
    ]
    local_now = NOW.astimezone(tz)
    for i in range(45):
        day = local_now.date() - dt.timedelta(days=0 if i < 4 else rnd.randint(0, 49))  # a few on the open day
        if rnd.random() < 0.33:  # a minute either side of midnight
            at = dt.datetime.combine(day, dt.time(23, 59, 30), tzinfo=tz) if rnd.random() < 0.5 else None
            at = at or dt.datetime.combine(day, dt.time(0, 0, 30), tzinfo=tz)
        else:
            at = dt.datetime.combine(day, dt.time(rnd.randint(0, 23), rnd.randint(0, 59)), tzinfo=tz)
        at = min(at, local_now - dt.timedelta(minutes=1))
        giver = rnd.choice(members)
        receivers = rnd.sample([m for m in members if m != giver], rnd.choice([1, 1, 2]))
        points = rnd.choice([10, 20, 35]) if giver == manager and rnd.random() < 0.7 else 0
        named = rnd.sample(values, rnd.randint(0, 2))
        with frozen(monkeypatch, at.astimezone(dt.UTC)):
            recognition_create(
                giver=giver,
                recipient_ids=[r.pk for r in receivers],
                points=points,
                message="Thanks",
                values=[v.pk for v in named] or None,
            )
    periods = [Period(local_now.date() - dt.timedelta(days=29), local_now.date(), tz)]  # the default: last 30 days
    periods.append(Period(dt.date(2026, 2, 1), dt.date(2026, 3, 5), tz))  # February whole: its payroll rollup
    periods.append(Period(dt.date(2026, 2, 1), dt.date(2026, 2, 28), tz))  # February alone: its rollup rows as they are
    for _ in range(4):
        start = local_now.date() - dt.timedelta(days=rnd.randint(-2, 55))
        periods.append(Period(start, start + dt.timedelta(days=rnd.randint(0, 40)), tz))
    return [a, c], periods


def _live(period: Period) -> dt.datetime:
    """A `now` before the period: no day of it is closed, so every figure is read live."""
    return period.start - dt.timedelta(days=2)


def _scopes(tenant, manager, teams):
    return [resolve_scope(manager)] + [resolve_scope(manager, team_id=t.pk) for t in teams]


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("tz_name", TIMEZONES)
def test_rollups_agree_with_the_live_figures(
    monkeypatch, seed, tz_name, tenant, manager, lead, employee, other_employee, allocate
):
    teams, periods = _build(monkeypatch, seed, tz_name, tenant, manager, lead, employee, other_employee, allocate)
    for period in periods:
        for scope in _scopes(tenant, manager, teams):
            for figure, live in (
                (selectors.by_week, selectors._by_week),
                (selectors.by_team, selectors._by_team),
                (selectors.by_value, selectors._by_value),
            ):
                assert figure(scope, period, now=NOW) == live(scope, period, now=_live(period)), (figure, period)
            assert list(payroll_lines(scope, period, now=NOW)) == list(payroll_lines(scope, period, now=_live(period)))
    assert RollupDay.objects.filter(tenant=tenant).exists()
    assert PayrollWalletMonth.objects.filter(tenant=tenant, month=dt.date(2026, 2, 1)).exists()
    # Members not recognised, as of now: the rollup of the closed days and the open day, or one probe each.
    for scope in _scopes(tenant, manager, teams):
        for days in (None, 5, 30):
            since = None if days is None else NOW - dt.timedelta(days=days)
            rolled = selectors.last_received_rows(scope, NOW, since=since, now=NOW)
            probed = selectors._last_received(scope, NOW)  # one probe per member
            if since is not None:
                probed = probed.filter(Q(last_recognised_at__isnull=True) | Q(last_recognised_at__lt=since))
                probed = probed.order_by(F("last_recognised_at").asc(nulls_first=True), "full_name", "pk")
            probed = list(probed.values_list("pk", "full_name", "email", "last_recognised_at"))
            assert (rolled if since else sorted(rolled)) == (probed if since else sorted(probed))
        # The counts and the first members listed, counted in the database from the rollup.
        for period in periods:
            as_of = period.as_of(NOW)
            probed = selectors._last_received(scope, as_of).values_list(
                "pk", "full_name", "email", "last_recognised_at"
            )
            expected = selectors._not_recognised_counted(as_of, list(probed))
            assert selectors.not_recognised(scope, period, now=NOW) == expected
    assert MemberLast.objects.filter(tenant=tenant).exists()
    [report] = reconcile(tenant_slug=tenant.slug)
    assert report.ok, report.drifts


def test_a_member_changing_team_rebuilds_the_days_before_they_are_read(
    monkeypatch, tenant, manager, lead, employee, other_employee, allocate
):
    teams, periods = _build(monkeypatch, 7, "Asia/Kolkata", tenant, manager, lead, employee, other_employee, allocate)
    period = periods[0]
    before = selectors.by_team(resolve_scope(manager), period, now=NOW)
    moved = Profile.objects.filter(user__tenant=tenant, team__isnull=False).first()
    Profile.objects.filter(pk=moved.pk).update(team=None)
    for scope in _scopes(tenant, manager, teams):
        assert selectors.by_team(scope, period, now=NOW) == selectors._by_team(scope, period, now=_live(period))
    assert selectors.by_team(resolve_scope(manager), period, now=NOW) != before or not before


def test_reconcile_finds_a_rollup_that_disagrees_with_its_sources(
    monkeypatch, tenant, manager, lead, employee, other_employee, allocate
):
    _teams, periods = _build(
        monkeypatch, 3, "America/New_York", tenant, manager, lead, employee, other_employee, allocate
    )
    period = periods[1]
    scope = resolve_scope(manager)
    selectors.by_week(scope, period, now=NOW)
    list(payroll_lines(scope, period, now=NOW))
    rollups.ensure_member_last(tenant, now=NOW)
    [report] = reconcile(tenant_slug=tenant.slug)
    assert report.ok, report.drifts

    # A tampered day: the figure read from the rollup moves (the rollup is what is read), and reconcile says so.
    row = TeamDay.objects.filter(tenant=tenant).order_by("day").first()
    TeamDay.objects.filter(pk=row.pk).update(points=row.points + 7)
    assert selectors.by_week(scope, period, now=NOW) != selectors._by_week(scope, period, now=_live(period))
    [report] = reconcile(tenant_slug=tenant.slug)
    assert report.drifts == [f"insights team rollup differs from the recognitions on 1 day(s), first {row.day}"]
    rollups.build_days(tenant, row.day, row.day)
    assert reconcile(tenant_slug=tenant.slug)[0].ok

    # A recognition written into a closed day after it was built (a clock that went back).
    closed = period.date_from + dt.timedelta(days=3)
    at = dt.datetime.combine(closed, dt.time(12), tzinfo=ZoneInfo("America/New_York"))
    with frozen(monkeypatch, at.astimezone(dt.UTC)):
        recognition_create(giver=manager, recipient_ids=[employee.pk], points=5, message="Late")
    drifts = reconcile(tenant_slug=tenant.slug)[0].drifts
    assert f"insights team rollup differs from the recognitions on 1 day(s), first {closed}" in drifts
    assert any(d.startswith("insights payroll rollup of 2026-02") for d in drifts)
    rollups.build_days(tenant, closed, closed)
    rollups.build_month(tenant, dt.date(2026, 2, 1))
    MemberLast.objects.filter(tenant=tenant, user_id=employee.pk).delete()
    drifts = reconcile(tenant_slug=tenant.slug)[0].drifts
    assert drifts == ["insights: 1 member(s)' last recognition received differ from the recognitions"]

    # A tampered payroll month.
    wallet_row = PayrollWalletMonth.objects.filter(tenant=tenant).first()
    PayrollWalletMonth.objects.filter(pk=wallet_row.pk).update(redemptions=wallet_row.redemptions + 1)
    drifts = reconcile(tenant_slug=tenant.slug)[0].drifts
    assert "insights payroll rollup of 2026-02 differs from the ledger" in drifts
