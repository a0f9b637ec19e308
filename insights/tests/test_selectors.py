"""Every figure of insights against the hand-built tenant of conftest.py, worked out by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from insights import selectors
from insights.periods import period_for
from insights.scope import resolve_scope

from .conftest import ist

pytestmark = pytest.mark.django_db

MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))


def march(books):
    return period_for("Asia/Kolkata", *MARCH)


def test_participation_is_three_of_five_givers_and_two_of_five_receivers(books):
    p = selectors.participation(resolve_scope(books.maya), march(books))
    # Maya, Leo and Asha gave (Dev too, but Dev is no longer active); Asha and Rahul received.
    assert (p.active_members, p.givers, p.receivers) == (5, 3, 2)
    assert p.gave == Decimal("60.0")
    assert p.received == Decimal("40.0")
    assert (p.recognitions, p.points) == (4, 150)


def test_the_period_ends_at_midnight_in_the_tenants_timezone(books):
    scope = resolve_scope(books.maya)
    # 31 March 23:59 in India is in March; 1 April 00:00 there (still 31 March in UTC) is not.
    p = selectors.participation(scope, march(books))
    assert p.recognitions == 4
    april_first = selectors.participation(scope, period_for("Asia/Kolkata", dt.date(2026, 4, 1), dt.date(2026, 4, 1)))
    assert (april_first.recognitions, april_first.givers, april_first.receivers) == (1, 1, 1)
    feb_last = selectors.participation(scope, period_for("Asia/Kolkata", dt.date(2026, 2, 28), dt.date(2026, 2, 28)))
    assert (feb_last.recognitions, feb_last.points) == (1, 10)


def test_by_week_starts_on_monday_in_the_tenants_timezone(books):
    weeks = selectors.by_week(resolve_scope(books.maya), march(books))
    assert [(b.key, b.recognitions, b.points) for b in weeks] == [
        (dt.date(2026, 2, 23), 0, 0),  # Sunday 1 March belongs to the week of Monday 23 February
        (dt.date(2026, 3, 2), 2, 100),
        (dt.date(2026, 3, 9), 1, 50),
        (dt.date(2026, 3, 16), 0, 0),
        (dt.date(2026, 3, 23), 0, 0),
        (dt.date(2026, 3, 30), 1, 0),  # Tuesday 31 March 23:59 India time
    ]


def test_by_team_counts_what_each_team_received(books):
    teams = selectors.by_team(resolve_scope(books.maya), march(books))
    assert [(b.label, b.recognitions, b.points) for b in teams] == [
        ("Platform", 3, 50),
        ("Engineering", 1, 100),
        ("Sales", 0, 0),
    ]


def test_top_givers_and_receivers(books):
    scope = resolve_scope(books.maya)
    givers = selectors.top_givers(scope, march(books))
    assert [(r.full_name, r.recognitions, r.points) for r in givers] == [
        ("Maya Manager", 1, 100),
        ("Leo Lead", 1, 50),
        ("Asha Employee", 1, 0),
        ("Dev Leaver", 1, 0),
    ]
    receivers = selectors.top_receivers(scope, march(books))
    assert [(r.full_name, r.recognitions, r.points) for r in receivers] == [
        ("Rahul Employee", 3, 50),
        ("Asha Employee", 1, 100),
    ]


def test_not_recognised_counts_back_from_the_end_of_the_period(books):
    result = selectors.not_recognised(resolve_scope(books.maya), march(books))
    assert result.as_of == ist(2026, 4, 1)
    # Since 2 March 00:00: Maya and Leo never, Kiran last on 28 February. Since 31 January and
    # 1 January: Kiran was recognised on 28 February, so only Maya and Leo.
    assert result.counts == {30: 3, 60: 2, 90: 2}
    assert [(m.full_name, m.last_recognised_at) for m in result.members] == [
        ("Leo Lead", None),
        ("Maya Manager", None),
        ("Kiran Employee", ist(2026, 2, 28, 23, 59)),
    ]


def test_pool_burn_and_runway_over_the_last_30_days(books):
    burn = selectors.pool_burn(resolve_scope(books.maya))
    # In the last 30 days only the 10,000 delegated to Leo left the pool (the awards were in March).
    assert (burn.pool, burn.outflow) == (50_000 - 10_000 - 100 - 10, 10_000)
    assert burn.per_day == Decimal("333.3")
    assert burn.runway_days == 39_890 * 30 // 10_000 == 119


def test_pool_burn_is_none_when_nothing_leaves(tenant, manager, allocate):
    allocate(tenant, 1_000)
    burn = selectors.pool_burn(resolve_scope(manager))
    assert (burn.outflow, burn.runway_days, burn.per_day) == (0, None, Decimal("0.0"))


def test_a_lead_sees_their_team_and_the_teams_below_it(books):
    scope = resolve_scope(books.leo)
    assert scope.team_name == "Engineering"
    assert set(scope.team_ids) == {books.engineering.pk, books.platform.pk}
    assert scope.sees_pool is False
    p = selectors.participation(scope, march(books))
    # Members: Leo, Asha, Rahul. Leo and Asha gave; Asha and Rahul received 4 recognitions.
    assert (p.active_members, p.givers, p.receivers, p.recognitions, p.points) == (3, 2, 2, 4, 150)
    assert p.gave == Decimal("66.7")
    assert selectors.pool_burn(scope) is None
    assert [r.full_name for r in selectors.top_receivers(scope, march(books))] == ["Rahul Employee", "Asha Employee"]
    assert [b.label for b in selectors.by_team(scope, march(books))] == ["Platform", "Engineering"]


def test_a_manager_narrows_to_a_sub_team(books):
    scope = resolve_scope(books.maya, team_id=books.platform.pk)
    p = selectors.participation(scope, march(books))
    # Platform is Rahul alone: he gave nothing in March and received three recognitions.
    assert (p.active_members, p.givers, p.receivers, p.recognitions, p.points) == (1, 0, 1, 3, 50)
    assert (p.gave, p.received) == (Decimal("0.0"), Decimal("100.0"))
    assert selectors.not_recognised(scope, march(books)).counts == {30: 0, 60: 0, 90: 0}


def _name_values(books, group_values):
    from recognition.models import CompanyValue, Recognition, RecognitionValue

    values = {
        name: CompanyValue.objects.create(tenant=books.tenant, name=name, hashtag=tag, is_active=active, position=i)
        for i, (name, tag, active) in enumerate(
            [("Ownership", "ownership", True), ("Customer first", "customer", True), ("Legacy", "legacy", False)]
        )
    }
    for giver, receiver, names in group_values:
        group = Recognition.objects.get(giver=giver, receiver=receiver).group_id
        for name in names:
            RecognitionValue.objects.create(tenant=books.tenant, group_id=group, value=values[name])
    return values


def test_by_value_counts_each_value_a_recognition_names(books):
    _name_values(
        books,
        [
            (books.maya, books.asha, ["Ownership", "Customer first"]),
            (books.leo, books.rahul, ["Ownership"]),
            (books.maya, books.kiran, ["Legacy"]),  # February: outside the period
        ],
    )
    rows = selectors.by_value(resolve_scope(books.maya), march(books))
    # Legacy is inactive and named by nothing in March: not listed.
    assert [(b.label, b.recognitions, b.points) for b in rows] == [
        ("Ownership (#ownership)", 2, 150),
        ("Customer first (#customer)", 1, 100),
    ]
    team_rows = selectors.by_value(resolve_scope(books.maya, team_id=books.platform.pk), march(books))
    assert [(b.label, b.recognitions, b.points) for b in team_rows] == [
        ("Ownership (#ownership)", 1, 50),
        ("Customer first (#customer)", 0, 0),
    ]


def test_allowance_utilisation_per_role(books):
    from recognition.models import AllowanceUsage
    from tenants.models import Tenant

    Tenant.objects.filter(pk=books.tenant.pk).update(allowance_employee=100, allowance_period="MONTH")
    books.tenant.refresh_from_db()
    AllowanceUsage.objects.create(
        tenant=books.tenant,
        user=books.asha,
        period_start=dt.date(2026, 3, 1),
        period_end=dt.date(2026, 4, 1),
        limit=150,
        given=90,
    )
    rows = selectors.allowance_utilisation(resolve_scope(books.maya), march(books))
    # Employees: Asha (boosted to 150, gave 90), Rahul and Kiran (100 each, unused); leads and managers get none.
    assert [(a.role, a.members, a.limit, a.given, a.utilisation) for a in rows] == [
        ("employee", 3, 350, 90, Decimal("25.7"))
    ]
    # Two months: each member has two periods; Asha's April is unused.
    two = selectors.allowance_utilisation(
        resolve_scope(books.maya), period_for("Asia/Kolkata", dt.date(2026, 3, 1), dt.date(2026, 4, 30))
    )
    assert [(a.limit, a.given) for a in two] == [(150 + 5 * 100, 90)]


def test_no_allowance_no_figure(books):
    assert selectors.allowance_utilisation(resolve_scope(books.maya), march(books)) is None
