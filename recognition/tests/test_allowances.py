"""Allowance gifts (SPEC §10): every figure, every refusal, periods in the tenant's time
zone, boosts and lapsing. Each test runs on SQLite (the general path) and on PostgreSQL
(the one-statement path, with the period computed in SQL)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from perksu.errors import DomainError, NotFoundError, PermissionDeniedError
from points.reconcile import reconcile
from points.tests.books import books, lead_budget, pool, wallet_balance
from recognition import allowances, services
from recognition.models import AllowanceBoost, AllowanceUsage, Recognition
from tenants.models import Tenant
from tenants.services import user_set_active
from tenants.tests.factories import UserFactory

KOLKATA = ZoneInfo("Asia/Kolkata")


@pytest.fixture
def programme(funded_tenant):
    """Employees may give 100 points a month; leads 50; managers 0."""
    Tenant.objects.filter(pk=funded_tenant.pk).update(allowance_employee=100, allowance_lead=50)
    funded_tenant.refresh_from_db()
    return funded_tenant


def _usage(user) -> AllowanceUsage:
    return AllowanceUsage.objects.get(user=user)


def _at(monkeypatch, moment: dt.datetime) -> None:
    """Make `now` of the recognition and allowance services `moment`."""
    monkeypatch.setattr(services.timezone, "now", lambda: moment)
    monkeypatch.setattr(allowances.timezone, "now", lambda: moment)


def _clean() -> None:
    assert [r.drifts for r in reconcile()] == [[] for _ in reconcile()]


def test_an_employee_gift_debits_the_pool_credits_the_wallet_and_counts_against_the_allowance(
    programme, employee, other_employee, award
):
    result = award(employee, other_employee, 30)
    assert result.funding_source == "ALLOWANCE"
    assert result.pool_balance_after == 49_970 == pool(programme)
    assert result.wallet_balances_after == {other_employee.pk: 30}
    assert wallet_balance(other_employee) == 30
    assert result.allowance_given == 30
    usage = _usage(employee)
    assert (usage.limit, usage.given, usage.remaining) == (100, 30, 70)
    start, end = allowances.period_bounds(programme)
    assert (usage.period_start, usage.period_end) == (start, end) == (result.allowance_period, end)
    row = Recognition.objects.get(group_id=result.group_id)
    assert (row.funding_source, row.allowance_period, row.points) == ("ALLOWANCE", start, 30)
    _clean()


def test_a_gift_to_several_colleagues_counts_points_times_recipients(programme, employee, award):
    others = [UserFactory(tenant=programme) for _ in range(3)]
    result = award(employee, others, 20)
    assert result.allowance_given == 60
    assert pool(programme) == 50_000 - 60
    assert _usage(employee).given == 60
    _clean()


def test_a_gift_over_what_is_left_is_refused_with_remaining_and_required(programme, employee, other_employee, award):
    award(employee, other_employee, 70)
    before = books()
    with pytest.raises(DomainError) as refused:
        award(employee, other_employee, 31)
    assert refused.value.code == "allowance_exceeded"
    assert (refused.value.extra["remaining"], refused.value.extra["required"]) == (30, 31)
    assert books() == before
    award(employee, other_employee, 30)
    assert _usage(employee).given == 100
    _clean()


def test_a_gift_the_pool_cannot_cover_is_refused_naming_the_pool(tenant, allocate, employee, other_employee, award):
    Tenant.objects.filter(pk=tenant.pk).update(allowance_employee=100)
    allocate(tenant, 40)
    before = books()
    with pytest.raises(DomainError) as refused:
        award(employee, other_employee, 50)
    assert refused.value.code == "insufficient_balance"
    assert "company allocation pool" in refused.value.message
    assert (refused.value.extra["available"], refused.value.extra["required"]) == (40, 50)
    # The usage row may now exist (created empty on first use), but nothing was given or moved.
    after = books()
    assert after["pools"] == before["pools"] and after["wallets"] == before["wallets"]
    assert AllowanceUsage.objects.filter(given__gt=0).count() == 0
    _clean()


def test_without_an_allowance_an_employee_gives_only_kudos(funded_tenant, employee, other_employee, award):
    before = books()
    with pytest.raises(PermissionDeniedError):
        award(employee, other_employee, 10)
    assert books() == before
    assert award(employee, other_employee, 0).funding_source == "NONE"


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("self", "self_recognition"),
        ("inactive", "inactive_user"),
        ("cap", "over_award_cap"),
        ("too_many", "too_many_recipients"),
    ],
)
def test_the_rules_of_every_award_apply_to_allowance_gifts(programme, employee, other_employee, award, case, code):
    Tenant.objects.filter(pk=programme.pk).update(max_award_points=5)
    recipients = {"self": [employee], "inactive": [other_employee], "cap": [other_employee]}.get(case)
    if case == "inactive":
        user_set_active(user=other_employee, is_active=False)
    if case == "too_many":
        recipients = [UserFactory(tenant=programme) for _ in range(51)]
    before = books()
    with pytest.raises(DomainError) as refused:
        award(employee, recipients, 1 if case != "cap" else 6)
    assert refused.value.code == code
    assert books() == before


def test_a_colleague_of_another_tenant_is_not_found(programme, employee, outsider, award):
    before = books()
    with pytest.raises(NotFoundError):
        award(employee, outsider, 10)
    assert books() == before


def test_a_lead_gives_from_its_budget_then_from_its_allowance(programme, manager, lead, employee, award):
    from points.services import lead_delegate

    lead_delegate(actor=manager, lead_id=lead.pk, amount=20, note="small")
    assert award(lead, employee, 20).funding_source == "LEAD_BUDGET"
    assert lead_budget(lead) == 0
    gift = award(lead, employee, 30)
    assert gift.funding_source == "ALLOWANCE"
    assert _usage(lead).given == 30
    with pytest.raises(DomainError) as refused:
        award(lead, employee, 21)
    assert refused.value.code == "allowance_exceeded"
    assert (refused.value.extra["remaining"], refused.value.extra["lead_budget_available"]) == (20, 0)
    _clean()


def test_a_manager_gives_from_an_allowance_only_when_asked(programme, manager, employee, award):
    Tenant.objects.filter(pk=programme.pk).update(allowance_manager=10)
    assert award(manager, employee, 15).funding_source == "POOL"
    assert award(manager, employee, 10, funding_source="ALLOWANCE").funding_source == "ALLOWANCE"
    with pytest.raises(DomainError) as refused:
        award(manager, employee, 1, funding_source="ALLOWANCE")
    assert refused.value.code == "allowance_exceeded"
    assert pool(programme) == 50_000 - 25
    _clean()


def test_period_bounds_week_month_quarter_in_the_tenant_zone():
    tenant = Tenant(timezone="Asia/Kolkata", allowance_period="WEEK")
    # Sunday 2026-11-29 20:00 UTC is Monday 01:30 in Kolkata: a new week there.
    moment = dt.datetime(2026, 11, 29, 20, 0, tzinfo=dt.UTC)
    assert allowances.period_bounds(tenant, moment) == (dt.date(2026, 11, 30), dt.date(2026, 12, 7))
    tenant.allowance_period = "MONTH"
    assert allowances.period_bounds(tenant, moment) == (dt.date(2026, 11, 1), dt.date(2026, 12, 1))
    tenant.allowance_period = "QUARTER"
    assert allowances.period_bounds(tenant, moment) == (dt.date(2026, 10, 1), dt.date(2027, 1, 1))
    assert allowances.period_bounds(tenant, dt.datetime(2027, 3, 31, 18, 29, tzinfo=dt.UTC))[0] == dt.date(2027, 1, 1)
    assert allowances.period_bounds(tenant, dt.datetime(2027, 3, 31, 18, 31, tzinfo=dt.UTC))[0] == dt.date(2027, 4, 1)
    tenant.timezone = "UTC"
    tenant.allowance_period = "WEEK"
    assert allowances.period_bounds(tenant, moment) == (dt.date(2026, 11, 23), dt.date(2026, 11, 30))


@pytest.mark.parametrize("period", ["MONTH", "QUARTER"])
def test_gifts_at_2359_and_0001_local_on_the_last_day_land_in_different_periods(
    programme, employee, other_employee, award, monkeypatch, period
):
    Tenant.objects.filter(pk=programme.pk).update(timezone="Asia/Kolkata", allowance_period=period)
    # Two gifts each side: on PostgreSQL the second of a period takes the one-statement
    # path, whose period is computed in SQL, so both computations are checked.
    _at(monkeypatch, dt.datetime(2026, 12, 31, 23, 59, tzinfo=KOLKATA))
    first = [award(employee, other_employee, 30), award(employee, other_employee, 30)]
    _at(monkeypatch, dt.datetime(2027, 1, 1, 0, 1, tzinfo=KOLKATA))
    second = [award(employee, other_employee, 60), award(employee, other_employee, 40)]
    expected = dt.date(2026, 12, 1) if period == "MONTH" else dt.date(2026, 10, 1)
    assert {r.allowance_period for r in first} == {expected}
    assert {r.allowance_period for r in second} == {dt.date(2027, 1, 1)}
    rows = dict(AllowanceUsage.objects.filter(user=employee).values_list("period_start", "given"))
    assert rows == {expected: 60, dt.date(2027, 1, 1): 100}
    # In UTC both moments are on 31 December: the zone is what splits them.
    assert dt.datetime(2027, 1, 1, 0, 1, tzinfo=KOLKATA).astimezone(dt.UTC).date() == dt.date(2026, 12, 31)
    _clean()


def test_unused_allowance_lapses_and_nothing_moves(programme, employee, other_employee, award, monkeypatch):
    _at(monkeypatch, dt.datetime(2026, 11, 15, 12, 0, tzinfo=dt.UTC))
    award(employee, other_employee, 40)
    before = books()
    _at(monkeypatch, dt.datetime(2026, 12, 1, 0, 0, 1, tzinfo=dt.UTC))
    status = allowances.allowance_status(tenant=programme, user=employee)
    assert (status.period_start, status.limit, status.given, status.remaining) == (dt.date(2026, 12, 1), 100, 0, 100)
    assert books() == before  # the 60 not given stayed in the pool: nothing moved when the period ended
    assert pool(programme) == 50_000 - 40
    with pytest.raises(DomainError):
        award(employee, other_employee, 101)
    award(employee, other_employee, 100)
    _clean()


def test_a_boost_raises_the_limit_of_this_period_and_is_logged(programme, manager, employee, other_employee, award):
    award(employee, other_employee, 100)
    boost = allowances.allowance_boost(actor=manager, user_id=employee.pk, amount=50, reason="Launch week")
    assert (boost.amount, boost.limit_after, boost.actor_id, boost.reason) == (50, 150, manager.pk, "Launch week")
    assert (_usage(employee).limit, _usage(employee).given) == (150, 100)
    award(employee, other_employee, 50)
    with pytest.raises(DomainError) as refused:
        award(employee, other_employee, 1)
    assert refused.value.extra["remaining"] == 0
    _clean()


def test_a_boost_before_any_gift_starts_from_the_role_allowance(programme, manager, employee):
    allowances.allowance_boost(actor=manager, user_id=employee.pk, amount=25, reason="Welcome")
    status = allowances.allowance_status(tenant=programme, user=employee)
    assert (status.limit, status.given) == (125, 0)


def test_only_managers_boost_and_only_their_own_members(programme, manager, employee, other_employee, outsider):
    before = books()
    with pytest.raises(PermissionDeniedError):
        allowances.allowance_boost(actor=employee, user_id=other_employee.pk, amount=5, reason="x")
    with pytest.raises(NotFoundError):
        allowances.allowance_boost(actor=manager, user_id=outsider.pk, amount=5, reason="x")
    with pytest.raises(DomainError) as refused:
        allowances.allowance_boost(actor=manager, user_id=employee.pk, amount=5, reason=" ")
    assert refused.value.extra["field"] == "reason"
    with pytest.raises(DomainError):
        allowances.allowance_boost(actor=manager, user_id=employee.pk, amount=0, reason="x")
    assert books() == before
    assert AllowanceBoost.objects.count() == 0


def test_reconcile_catches_a_tampered_allowance_usage_row(programme, employee, other_employee, award):
    award(employee, other_employee, 30)
    _clean()
    AllowanceUsage.objects.filter(user=employee).update(given=20)
    (report,) = reconcile(tenant_slug=programme.slug)
    assert any("allowance usage" in drift for drift in report.drifts), report.drifts
    AllowanceUsage.objects.filter(user=employee).update(given=30, limit=30)
    assert reconcile(tenant_slug=programme.slug)[0].ok


def test_reconcile_catches_an_allowance_gift_without_a_usage_row(programme, employee, other_employee, award):
    award(employee, other_employee, 30)
    AllowanceUsage.objects.filter(user=employee).delete()
    (report,) = reconcile()
    assert any("allowance usage" in drift for drift in report.drifts), report.drifts


def test_reconcile_counts_allowance_gifts_in_the_pool(programme, employee, other_employee, award):
    award(employee, other_employee, 30)
    (report,) = reconcile()
    assert report.ok, report.drifts
    assert (report.figures["allowance_awards"], report.figures["allowance_given"]) == (30, 30)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_an_allowance_gift_is_one_round_trip_locking_usage_then_pool_last(
    programme, employee, other_employee, award, award_sql
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from .award_sql import award_sql_text

    award(employee, other_employee, 10)  # the period's first gift creates the usage row
    assert not connection.in_atomic_block
    with CaptureQueriesContext(connection) as ctx:
        result = award(employee, other_employee, 15)
    sql = [q["sql"] for q in ctx.captured_queries]
    assert len(sql) == 1, sql
    gift = award_sql_text(award_sql, sql[0])
    assert gift.index("FOR UPDATE OF w") < gift.index("UPDATE allowance_usage") < gift.index("UPDATE tenants")
    assert (result.funding_source, result.allowance_given, result.pool_balance_after) == ("ALLOWANCE", 25, 49_975)
    assert result.allowance_period == allowances.period_bounds(programme)[0]
    assert _usage(employee).given == 25 and pool(programme) == 49_975
    _clean()
