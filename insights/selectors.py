"""Every figure of the insights page and API (SPEC §13), each one set-based statement.

The statement count of a view is fixed whatever the size of the tenant: no figure
loops over members, weeks or rows in Python against the database. The period
figures read the recognitions of the period through the covering index
`recognition_insights_idx` (tenant, created_at) INCLUDE (giver, receiver, points,
funding source, group), so they never visit the table's heap.

What counts where, in a team's view (members = the team and the teams below it):
- recognitions and points (by week, by team, by value) are those *received* by
  members of the scope: what the team was recognised for;
- "gave" counts members of the scope who gave at least one recognition (to anyone);
- participation's denominator is the scope's active members; a deactivated
  member counts in neither part of the ratio.
Kudos (0 points) are recognitions: they count for participation and in the counts,
and add nothing to the points.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID

from django.db import connection, transaction
from django.db.models import Case, Count, F, IntegerField, Max, OuterRef, Q, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from people.models import Profile
from points.models import DelegationLog
from recognition.models import AllowanceUsage, CompanyValue, Recognition, RecognitionValue
from tenants.models import Role, User
from wallets.models import Redemption

from . import rollups
from .models import MemberLast, TeamDay, ValueDay
from .periods import Period
from .scope import Scope

TOP_N = 10
NOT_RECOGNISED_DAYS = (30, 60, 90)
NOT_RECOGNISED_LISTED = 20
BURN_WINDOW_DAYS = 30
Source = Recognition.FundingSource
POOL_OUTFLOW_SOURCES = (Source.POOL, Source.ALLOWANCE)


def percent(part: int, whole: int) -> Decimal:
    """`part` of `whole` as a percentage with one decimal (half up); 0.0 when `whole` is 0."""
    if not whole:
        return Decimal("0.0")
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def period_recognitions(scope: Scope, period: Period):
    """The tenant's recognitions of the period (every one, given or received by anyone)."""
    return Recognition.objects.filter(
        tenant_id=scope.tenant_id, created_at__gte=period.start, created_at__lt=period.end
    )


def received_in_scope(scope: Scope, period: Period, *, window: tuple[dt.datetime, dt.datetime] | None = None):
    """The recognitions of the period (or of `window`, a part of it) received by the scope's members."""
    qs = period_recognitions(scope, period)
    if window is not None:
        qs = Recognition.objects.filter(tenant_id=scope.tenant_id, created_at__gte=window[0], created_at__lt=window[1])
    if not scope.is_whole_tenant:
        qs = qs.filter(receiver_id__in=scope.member_ids())
    return qs


# --- Participation and totals ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Participation:
    active_members: int
    givers: int
    receivers: int
    recognitions: int
    points: int

    @property
    def gave(self) -> Decimal:
        return percent(self.givers, self.active_members)

    @property
    def received(self) -> Decimal:
        return percent(self.receivers, self.active_members)


def participation(scope: Scope, period: Period) -> Participation:
    """Three statements: the active members, and one grouped pass per direction (`_per_member`)."""
    givers, receivers = _per_member(scope, period, "giver_id", 1), _per_member(scope, period, "receiver_id", 1)
    return _participation(scope, givers, receivers)


def _participation(scope: Scope, givers: PerMember, receivers: PerMember) -> Participation:
    return Participation(
        active_members=scope.active_members().count(),
        givers=givers.active,
        receivers=receivers.active,
        recognitions=receivers.recognitions,
        points=receivers.points,
    )


@dataclass(frozen=True)
class PerMember:
    rows: list[tuple[UUID, int, int]]
    """The first members by recognitions, then points, then id: (id, recognitions, points)."""
    active: int
    """How many active members of the scope are in the pass (gave, or received, at least one)."""
    recognitions: int
    points: int


def _per_member(scope: Scope, period: Period, field: str, limit: int) -> PerMember:
    """The period's recognitions given by (`giver_id`) or received by (`receiver_id`) the scope's
    members, grouped per member in one statement: the first `limit` members, and over every
    group (window sums) how many are active members and the recognitions and points in all.

    The grouping reads the covering index alone; the "active" test runs once per member (a
    hashed subplan over the active members), not per recognition.
    """
    if field == "giver_id":
        qs = period_recognitions(scope, period)
        if not scope.is_whole_tenant:
            qs = qs.filter(giver_id__in=scope.member_ids())
    else:
        qs = received_in_scope(scope, period)
    grouped = qs.values(field).annotate(n=Count("*"), p=Coalesce(Sum("points"), 0)).order_by()
    inner, params = grouped.query.sql_with_params()
    active, active_params = scope.active_members().order_by().values("pk").query.sql_with_params()
    sql = f"""
        SELECT g.{field}, g.n, g.p,
            SUM(CASE WHEN g.{field} IN ({active}) THEN 1 ELSE 0 END) OVER (),
            SUM(g.n) OVER (), SUM(g.p) OVER ()
        FROM ({inner}) g
        ORDER BY g.n DESC, g.p DESC, g.{field}
        LIMIT %s
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*active_params, *params, limit])
        rows = cursor.fetchall()
    if not rows:
        return PerMember([], 0, 0, 0)
    return PerMember(
        [(_uuid(m), int(n), int(p)) for m, n, p, *_ in rows], int(rows[0][3]), int(rows[0][4]), int(rows[0][5])
    )


# --- By week ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bucket:
    key: object
    label: str
    recognitions: int
    points: int


def _by_week(scope: Scope, period: Period, *, now: dt.datetime | None = None) -> list[Bucket]:
    """Every week the period touches (Monday, tenant's timezone), weeks without recognitions as zeros.

    The first and last weeks are partial when the period starts or ends mid-week:
    they count only the period's days. One statement: the closed days' rollup rows
    (`TeamDay`) and the open days' recognitions, each put in its week, in one UNION.
    A live row's week is found by comparing its time with the weeks' first instants
    (computed once, in the tenant's timezone), not by converting every row's time.
    """
    weeks = period.weeks()
    starts = [dt.datetime.combine(monday, dt.time.min, tzinfo=period.tz) for monday in weeks[1:]]
    week = Case(
        *(When(created_at__lt=start, then=Value(i)) for i, start in enumerate(starts)),
        default=Value(len(weeks) - 1),
        output_field=IntegerField(),
    )
    live = (
        received_in_scope(scope, period, window=rollups.open_window(period, now))
        .annotate(week=week)
        .values("week")
        .annotate(recognitions=Count("*"), points=Coalesce(Sum("points"), 0))
        .order_by()
    )
    day_week = Case(
        *(When(day__lt=monday, then=Value(i)) for i, monday in enumerate(weeks[1:])),
        default=Value(len(weeks) - 1),
        output_field=IntegerField(),
    )
    rolled = (
        _closed_days(TeamDay, scope, period, now)
        .annotate(week=day_week)
        .values("week")
        .annotate(recognitions=Coalesce(Sum("recognitions"), 0), points=Coalesce(Sum("points"), 0))
        .order_by()
    )
    found: dict[int, dict[str, int]] = {}
    for row in live.union(rolled, all=True):
        sums = found.setdefault(row["week"], {"recognitions": 0, "points": 0})
        sums["recognitions"] += int(row["recognitions"])
        sums["points"] += int(row["points"] or 0)
    buckets = []
    for i, monday in enumerate(weeks):
        row = found.get(i, {"recognitions": 0, "points": 0})
        buckets.append(Bucket(monday, f"{monday.day} {monday:%b}", row["recognitions"], row["points"]))
    return buckets


def _closed_days(model: type[TeamDay] | type[ValueDay], scope: Scope, period: Period, now: dt.datetime | None):
    """The rollup rows (`TeamDay` or `ValueDay`) of the period's closed days, received by the scope's teams."""
    closed = rollups.closed_range(period, now) or (period.date_from, period.date_from - dt.timedelta(days=1))
    qs = model.objects.filter(tenant_id=scope.tenant_id, day__range=closed)
    if not scope.is_whole_tenant:
        qs = qs.filter(team_id__in=scope.team_ids)
    return qs


# --- By team ---------------------------------------------------------------------------------------------------------

NO_TEAM = "No team"


def _by_team(scope: Scope, period: Period, *, now: dt.datetime | None = None) -> list[Bucket] | None:
    """Recognitions and points received per team of the receiver (one statement: the closed
    days' rollup rows and the open days' recognitions), every team of the scope listed, most
    recognised first; members without a team under "No team". `None` when the tenant has no teams."""
    teams = scope.teams
    if teams is None or not teams.names:
        return None
    # Summed per receiver first (the covering index alone), then the at most one row per member
    # is matched to its profile's team.
    window = rollups.open_window(period, now)
    per_receiver = (
        received_in_scope(scope, period, window=window).values("receiver_id").annotate(n=Count("*"), p=Sum("points"))
    )
    inner, params = per_receiver.order_by().query.sql_with_params()
    rolled = (
        _closed_days(TeamDay, scope, period, now).values("team_id").annotate(n=Sum("recognitions"), p=Sum("points"))
    )
    rolled_sql, rolled_params = rolled.order_by().query.sql_with_params()
    sql = f"""
        SELECT u.team_id, SUM(u.n), SUM(u.p) FROM (
            SELECT pr.team_id AS team_id, r.n AS n, r.p AS p
            FROM ({inner}) r LEFT JOIN {Profile._meta.db_table} pr ON pr.user_id = r.receiver_id
            UNION ALL
            SELECT d.team_id, d.n, d.p FROM ({rolled_sql}) d
        ) u
        GROUP BY u.team_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *rolled_params])
        found = {
            (_uuid(team) if team is not None else None): {"recognitions": int(n), "points": int(p or 0)}
            for team, n, p in cursor.fetchall()
        }
    listed = scope.team_ids if scope.team_ids is not None else (*teams.names, None)
    buckets = []
    for team in listed:
        row = found.get(team)
        if team is None and row is None:
            continue
        row = row or {"recognitions": 0, "points": 0}
        buckets.append(Bucket(team, teams.names.get(team, NO_TEAM), row["recognitions"], row["points"]))
    buckets.sort(key=lambda b: (-b.recognitions, -b.points, b.key is None, b.label.lower()))
    return buckets


# --- By value --------------------------------------------------------------------------------------------------------


def _by_value(scope: Scope, period: Period, *, now: dt.datetime | None = None) -> list[Bucket]:
    """Recognitions and points per company value, most recognised first (one statement).

    The period's recognitions are summed per group first, then matched to the values
    their group names (`recognition_values`, looked up by its unique (tenant, group,
    value) index), so a recognition naming two values counts once under each. Active
    values named by nothing in the period are listed with zeros; inactive ones only if named.
    """
    window = rollups.open_window(period, now)
    per_group = (
        received_in_scope(scope, period, window=window)
        .values("group_id")
        .annotate(n=Count("*"), p=Sum("points"))
        .order_by()
    )
    inner_sql, inner_params = per_group.query.sql_with_params()
    rolled = (
        _closed_days(ValueDay, scope, period, now).values("value_id").annotate(n=Sum("recognitions"), p=Sum("points"))
    )
    rolled_sql, rolled_params = rolled.order_by().query.sql_with_params()
    value_table, link_table = CompanyValue._meta.db_table, RecognitionValue._meta.db_table
    sql = f"""
        SELECT v.id, v.name, v.hashtag, COALESCE(t.n, 0), COALESCE(t.p, 0)
        FROM {value_table} v
        LEFT JOIN (
            SELECT u.value_id, SUM(u.n) AS n, SUM(u.p) AS p FROM (
                SELECT rv.value_id AS value_id, g.n AS n, g.p AS p
                FROM ({inner_sql}) g
                JOIN {link_table} rv ON rv.tenant_id = %s AND rv.group_id = g.group_id
                UNION ALL
                SELECT d.value_id, d.n, d.p FROM ({rolled_sql}) d
            ) u
            GROUP BY u.value_id
        ) t ON t.value_id = v.id
        WHERE v.tenant_id = %s AND (v.is_active OR t.n > 0)
        ORDER BY COALESCE(t.n, 0) DESC, COALESCE(t.p, 0) DESC, v.position, v.name
    """
    tenant = _db_uuid(scope.tenant_id)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*inner_params, tenant, *rolled_params, tenant])
        rows = cursor.fetchall()
    return [Bucket(_uuid(pk), f"{name} (#{hashtag})", int(n), int(p)) for pk, name, hashtag, n, p in rows]


def _db_uuid(value: UUID):
    """A UUID as the database column holds it (PostgreSQL: uuid; SQLite: 32 hex digits)."""
    return value if connection.vendor == "postgresql" else value.hex


def _uuid(value) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


# --- Leaderboard -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ranked:
    user_id: UUID
    full_name: str
    email: str
    recognitions: int
    points: int


def _ranked(per_member: PerMember, limit: int) -> list[Ranked]:
    """The first `limit` of a grouped pass (fetched: twice the limit), with their names (one statement)."""
    rows = per_member.rows
    names = {u["pk"]: u for u in User.objects.filter(pk__in=[r[0] for r in rows]).values("pk", "full_name", "email")}
    ranked = [Ranked(pk, names[pk]["full_name"], names[pk]["email"], n, p) for pk, n, p in rows]
    # Equal figures are ordered by name among the rows fetched (twice the limit), by id beyond them.
    ranked.sort(key=lambda r: (-r.recognitions, -r.points, r.full_name, str(r.user_id)))
    return ranked[:limit]


def top_givers(scope: Scope, period: Period, *, limit: int = TOP_N) -> list[Ranked]:
    """The scope's members who gave the most recognitions in the period (then points, then name)."""
    return _ranked(_per_member(scope, period, "giver_id", limit * 2), limit)


def top_receivers(scope: Scope, period: Period, *, limit: int = TOP_N) -> list[Ranked]:
    """The scope's members who received the most recognitions in the period (then points, then name)."""
    return _ranked(_per_member(scope, period, "receiver_id", limit * 2), limit)


# --- Not recognised --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Forgotten:
    user_id: UUID
    full_name: str
    email: str
    last_recognised_at: dt.datetime | None


@dataclass(frozen=True)
class NotRecognised:
    as_of: dt.datetime
    counts: dict[int, int]
    """Days → active members of the scope not recognised in the last that many days."""
    members: list[Forgotten] = field(default_factory=list)
    """The longest-forgotten members (never recognised first), at most `NOT_RECOGNISED_LISTED`."""


def _last_received(scope: Scope, as_of: dt.datetime):
    """Each member's newest recognition received before `as_of`: one probe of
    `recognition_receiver_idx` (tenant, receiver, created_at) per member."""
    newest = Recognition.objects.filter(
        tenant_id=scope.tenant_id, receiver_id=OuterRef("pk"), created_at__lt=as_of
    ).order_by("-created_at")
    return scope.active_members().annotate(last_recognised_at=Subquery(newest.values("created_at")[:1]))


def _rolled_to(scope: Scope, now: dt.datetime | None) -> dt.datetime | None:
    """The end of the days `MemberLast` covers (extended first if a day closed since)."""
    through = rollups.ensure_member_last(scope.tenant, now=now)
    return None if through is None else rollups.midnight(through + dt.timedelta(days=1), scope.tenant_tz)


def _rolled_last(scope: Scope, as_of: dt.datetime, rolled_to: dt.datetime) -> tuple[str, list]:
    """SQL of (pk, full_name, email, last) for every active member of the scope: `MemberLast`
    joined with the newest of the days after it (grouped: a day or so of rows), hash joins."""
    members, params = scope.active_members().order_by().values("pk", "full_name", "email").query.sql_with_params()
    newest = (
        Recognition.objects.filter(tenant_id=scope.tenant_id, created_at__gte=rolled_to, created_at__lt=as_of)
        .values("receiver_id")
        .annotate(at=Max("created_at"))
        .order_by()
    )
    newest_sql, newest_params = newest.query.sql_with_params()
    sql = f"""
        SELECT u.pk AS pk, u.full_name AS full_name, u.email AS email,
            COALESCE(l.at, m.last_received_at) AS last
        FROM ({members}) u
        LEFT JOIN {MemberLast._meta.db_table} m ON m.tenant_id = %s AND m.user_id = u.pk
        LEFT JOIN ({newest_sql}) l ON l.receiver_id = u.pk
    """
    return sql, [*params, _db_uuid(scope.tenant_id), *newest_params]


def _db_time(value: dt.datetime):
    """A time as a raw statement's parameter (SQLite: naive UTC text, as the ORM stores it)."""
    return connection.ops.adapt_datetimefield_value(value)


def last_received_rows(
    scope: Scope, as_of: dt.datetime, *, since: dt.datetime | None = None, now: dt.datetime | None = None
) -> list[tuple]:
    """(id, full name, e-mail, newest recognition received before `as_of` or None) of every active
    member of the scope — only those not recognised since `since` when given, then ordered never
    recognised first, then the longest forgotten, then by name.

    When `as_of` is after the days `MemberLast` covers (the usual case: a period ending today),
    one statement joins the active members to it and to the newest of the days after; for an
    earlier `as_of`, one probe per member. Two statements in both cases (the first reads or
    extends the rollup).
    """
    rolled_to = _rolled_to(scope, now)
    if rolled_to is None or as_of < rolled_to:
        qs = _last_received(scope, as_of)
        if since is not None:
            qs = qs.filter(Q(last_recognised_at__isnull=True) | Q(last_recognised_at__lt=since)).order_by(
                F("last_recognised_at").asc(nulls_first=True), "full_name", "pk"
            )
        return list(qs.values_list("pk", "full_name", "email", "last_recognised_at"))
    base, params = _rolled_last(scope, as_of, rolled_to)
    sql = f"SELECT x.pk, x.full_name, x.email, x.last FROM ({base}) x"
    if since is not None:
        sql += " WHERE x.last IS NULL OR x.last < %s ORDER BY x.last ASC NULLS FIRST, x.full_name, x.pk"
        params = [*params, _db_time(since)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [(_uuid(pk), name, email, _aware(at)) for pk, name, email, at in cursor.fetchall()]


def _aware(value) -> dt.datetime | None:
    """A time from a raw cursor (PostgreSQL: aware; SQLite: text in UTC)."""
    if value is None or (isinstance(value, dt.datetime) and timezone.is_aware(value)):
        return value
    parsed = value if isinstance(value, dt.datetime) else parse_datetime(str(value))
    return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=dt.UTC)


def forgotten_members(scope: Scope, as_of: dt.datetime, *, days: int = NOT_RECOGNISED_DAYS[0]) -> list[tuple]:
    """Active members of the scope not recognised in the `days` before `as_of`, never recognised
    first, then the longest forgotten: (id, full name, e-mail, last recognised at)."""
    return last_received_rows(scope, as_of, since=as_of - dt.timedelta(days=days))


def not_recognised(scope: Scope, period: Period, *, now: dt.datetime | None = None) -> NotRecognised:
    """Counts for 30, 60 and 90 days as of the period's end (or now), and the first members
    of the 30-day list. Two statements: how far `MemberLast` goes, then either (the usual
    case) the counts and the listed members computed in the database from it, or one probe
    per member counted in Python (an `as_of` before the rollup's end)."""
    as_of = period.as_of(now)
    rolled_to = _rolled_to(scope, now)
    if rolled_to is None or as_of < rolled_to:
        return _not_recognised_counted(
            as_of, list(_last_received(scope, as_of).values_list("pk", "full_name", "email", "last_recognised_at"))
        )
    # Not recognised in 60 or 90 days implies not in 30: the rows kept are the 30-day list, the
    # window sums count the longer ones among them. Names are ordered by code point (as Python does).
    since = {days: _db_time(as_of - dt.timedelta(days=days)) for days in NOT_RECOGNISED_DAYS}
    first, *longer = NOT_RECOGNISED_DAYS
    base, params = _rolled_last(scope, as_of, rolled_to)
    binary = ' COLLATE "C"' if connection.vendor == "postgresql" else ""
    counts_sql = ", ".join("SUM(CASE WHEN x.last IS NULL OR x.last < %s THEN 1 ELSE 0 END) OVER ()" for _ in longer)
    sql = f"""
        SELECT x.pk, x.full_name, x.email, x.last, COUNT(*) OVER (), {counts_sql}
        FROM ({base}) x
        WHERE x.last IS NULL OR x.last < %s
        ORDER BY x.last ASC NULLS FIRST, x.full_name{binary}, x.pk
        LIMIT %s
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*[since[d] for d in longer], *params, since[first], NOT_RECOGNISED_LISTED])
        rows = cursor.fetchall()
    counts = {days: int(rows[0][4 + i]) if rows else 0 for i, days in enumerate(NOT_RECOGNISED_DAYS)}
    return NotRecognised(
        as_of=as_of,
        counts=counts,
        members=[Forgotten(_uuid(pk), name, email, _aware(at)) for pk, name, email, at, *_ in rows],
    )


def _not_recognised_counted(as_of: dt.datetime, rows: list[tuple]) -> NotRecognised:
    counts = {}
    for days in NOT_RECOGNISED_DAYS:
        since = as_of - dt.timedelta(days=days)
        counts[days] = sum(1 for row in rows if row[3] is None or row[3] < since)
    since = as_of - dt.timedelta(days=NOT_RECOGNISED_DAYS[0])
    forgotten = sorted(
        (row for row in rows if row[3] is None or row[3] < since),
        key=lambda row: (row[3] is not None, row[3] or as_of, row[1], str(row[0])),
    )
    return NotRecognised(
        as_of=as_of,
        counts=counts,
        members=[Forgotten(*row) for row in forgotten[:NOT_RECOGNISED_LISTED]],
    )


# --- Allowance utilisation -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AllowanceUse:
    role: str
    label: str
    members: int
    limit: int
    given: int

    @property
    def utilisation(self) -> Decimal:
        return percent(self.given, self.limit)


ROLE_ALLOWANCE = {
    Role.EMPLOYEE: "allowance_employee",
    Role.TENANT_LEAD: "allowance_lead",
    Role.TENANT_MANAGER: "allowance_manager",
}


def allowance_periods_in(tenant, period: Period) -> list[dt.date]:
    """The starts of the tenant's allowance periods that begin inside `period`, or the one it starts in."""
    starts = []
    day = _allowance_start(tenant.allowance_period, period.date_from)
    while day <= period.date_to:
        starts.append(day)
        day = _allowance_next(tenant.allowance_period, day)
    return starts


def _allowance_start(kind: str, day: dt.date) -> dt.date:
    if kind == "WEEK":
        return day - dt.timedelta(days=day.weekday())
    if kind == "QUARTER":
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return day.replace(day=1)


def _allowance_next(kind: str, start: dt.date) -> dt.date:
    if kind == "WEEK":
        return start + dt.timedelta(days=7)
    months = 3 if kind == "QUARTER" else 1
    month = start.month - 1 + months
    return dt.date(start.year + month // 12, month % 12 + 1, 1)


def allowance_utilisation(scope: Scope, period: Period) -> list[AllowanceUse] | None:
    """Given against the allowance available, per role, over the allowance periods the view touches.

    A member's limit in a period is their `AllowanceUsage.limit` when they used or were
    boosted in it, else their role's allowance (the limit a first gift would open);
    members are counted if active now. `None` when the tenant gives no allowance.
    One statement.
    """
    tenant = scope.tenant
    if not any(getattr(tenant, name) for name in ROLE_ALLOWANCE.values()):
        return None
    starts = allowance_periods_in(tenant, period)
    usage = AllowanceUsage.objects.filter(tenant_id=scope.tenant_id, user_id=OuterRef("pk"), period_start__in=starts)
    rows = (
        scope.active_members()
        .annotate(
            used_limit=Coalesce(Subquery(usage.values("user_id").annotate(n=Sum("limit")).values("n")), 0),
            used_periods=Coalesce(Subquery(usage.values("user_id").annotate(n=Count("*")).values("n")), 0),
            given=Coalesce(Subquery(usage.values("user_id").annotate(n=Sum("given")).values("n")), 0),
        )
        .values("role")
        .annotate(
            members=Count("*"),
            used_limit=Sum("used_limit"),
            used_periods=Sum("used_periods"),
            given=Sum("given"),
        )
        .order_by()
    )
    found = {row["role"]: row for row in rows}
    result = []
    for role, attribute in ROLE_ALLOWANCE.items():
        row = found.get(role)
        if row is None:
            continue
        unused_periods = row["members"] * len(starts) - row["used_periods"]
        limit = row["used_limit"] + unused_periods * getattr(tenant, attribute)
        if limit == 0:
            continue  # this role gives no allowance
        result.append(AllowanceUse(role, Role(role).label, row["members"], limit, row["given"]))
    return result


# --- Pool burn rate and runway ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Burn:
    pool: int
    outflow: int
    """Points that left the pool in the last 30 days: pool- and allowance-funded awards and
    delegations to leads, net of recalls."""
    window_days: int

    @property
    def per_day(self) -> Decimal:
        return (Decimal(self.outflow) / self.window_days).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def runway_days(self) -> int | None:
        """Whole days until the pool is empty at this pace; `None` when nothing leaves it."""
        if self.outflow <= 0:
            return None
        return self.pool * self.window_days // self.outflow


def pool_burn(scope: Scope, *, now: dt.datetime | None = None) -> Burn | None:
    """The tenant pool's pace over the last 30 days (whatever the period shown), for those
    who see the pool. Two statements."""
    if not scope.sees_pool:
        return None
    since = (now or timezone.now()) - dt.timedelta(days=BURN_WINDOW_DAYS)
    awarded = Recognition.objects.filter(
        tenant_id=scope.tenant_id, created_at__gte=since, funding_source__in=POOL_OUTFLOW_SOURCES
    ).aggregate(n=Coalesce(Sum("points"), 0))["n"]
    delegated = DelegationLog.objects.filter(tenant_id=scope.tenant_id, created_at__gte=since).aggregate(
        out=Coalesce(Sum("amount", filter=Q(kind=DelegationLog.Kind.DELEGATION)), 0),
        back=Coalesce(Sum("amount", filter=Q(kind=DelegationLog.Kind.RECALL)), 0),
    )
    outflow = awarded + delegated["out"] - delegated["back"]
    return Burn(pool=scope.tenant.points_allocation_balance, outflow=outflow, window_days=BURN_WINDOW_DAYS)


# --- Redemptions by reward -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RewardRedemptions:
    reward_id: UUID
    name: str
    redemptions: int
    refunded: int
    points: int
    """Points spent on the redemptions still issued (refunds given back)."""


def redemptions_by_reward(scope: Scope, period: Period) -> list[RewardRedemptions]:
    """The catalogue's redemptions made in the period by the scope's members, most redeemed first."""
    qs = Redemption.objects.filter(tenant_id=scope.tenant_id, created_at__gte=period.start, created_at__lt=period.end)
    if not scope.is_whole_tenant:
        qs = qs.filter(user_id__in=scope.member_ids())
    issued = Q(status=Redemption.Status.ISSUED)
    rows = (
        qs.values("reward_id", "reward__name")
        .annotate(
            redemptions=Count("reward_id"),
            refunded=Count("reward_id", filter=~issued),
            points=Coalesce(Sum("points_spent", filter=issued), 0),
        )
        .order_by("-redemptions", "-points", "reward__name", "reward_id")
    )
    return [
        RewardRedemptions(r["reward_id"], r["reward__name"], r["redemptions"], r["refunded"], r["points"]) for r in rows
    ]


# --- Everything for one view -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Insights:
    scope: Scope
    period: Period
    participation: Participation
    by_week: list[Bucket]
    by_team: list[Bucket] | None
    by_value: list[Bucket]
    top_givers: list[Ranked] | None
    top_receivers: list[Ranked] | None
    not_recognised: NotRecognised
    allowance: list[AllowanceUse] | None
    burn: Burn | None
    redemptions: list[RewardRedemptions]

    @property
    def leaderboard_enabled(self) -> bool:
        return self.scope.tenant.leaderboard_enabled


def insights(scope: Scope, period: Period, *, now: dt.datetime | None = None) -> Insights:
    """Every figure of the view. The period's closed days are built into the rollups first if
    missing (`insights.rollups`); after a build the figures are read on the primary, inside
    one transaction, so they see what was just written."""
    if rollups.ensure_days(scope.tenant, period, now=now):
        with transaction.atomic():
            return _insights(scope, period, now=now)
    return _insights(scope, period, now=now)


def _rolled_up(figure, scope: Scope, period: Period, now: dt.datetime | None):
    """One rollup-backed figure with the period's closed days built first (if missing)."""
    if rollups.ensure_days(scope.tenant, period, now=now):
        with transaction.atomic():
            return figure(scope, period, now=now)
    return figure(scope, period, now=now)


def by_week(scope: Scope, period: Period, *, now: dt.datetime | None = None) -> list[Bucket]:
    return _rolled_up(_by_week, scope, period, now)


def by_team(scope: Scope, period: Period, *, now: dt.datetime | None = None) -> list[Bucket] | None:
    return _rolled_up(_by_team, scope, period, now)


def by_value(scope: Scope, period: Period, *, now: dt.datetime | None = None) -> list[Bucket]:
    return _rolled_up(_by_value, scope, period, now)


def _insights(scope: Scope, period: Period, *, now: dt.datetime | None = None) -> Insights:
    leaderboard = scope.tenant.leaderboard_enabled
    # One grouped pass per direction answers participation and the top lists.
    givers = _per_member(scope, period, "giver_id", TOP_N * 2)
    receivers = _per_member(scope, period, "receiver_id", TOP_N * 2)
    return Insights(
        scope=scope,
        period=period,
        participation=_participation(scope, givers, receivers),
        by_week=_by_week(scope, period, now=now),
        by_team=_by_team(scope, period, now=now),
        by_value=_by_value(scope, period, now=now),
        top_givers=_ranked(givers, TOP_N) if leaderboard else None,
        top_receivers=_ranked(receivers, TOP_N) if leaderboard else None,
        not_recognised=not_recognised(scope, period, now=now),
        allowance=allowance_utilisation(scope, period),
        burn=pool_burn(scope, now=now),
        redemptions=redemptions_by_reward(scope, period),
    )
