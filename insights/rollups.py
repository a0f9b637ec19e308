"""Building, finding and checking the insights rollups (`insights.models`).

A period is whole days of the tenant's calendar. Its *closed* days (before the
tenant's today) are read from the day rollups, and what is still open (today, and
any later day of the period) is read live from the recognitions, in the same
statement; the payroll export reads whole closed months from the month rollup and
the rest of the period from the ledger.

Exactness:
- A rollup is rebuilt from its sources by `build_days` / `build_month`, idempotently
  (delete + insert in one transaction); the unique marker row makes two concurrent
  builds of the same day or month commit once (the second one gives way).
- Recognitions and ledger rows are stamped with the time they are written, so a
  closed day or month receives no new rows; what can still change a closed day's
  figures is a member changing team, and that changes the fingerprint
  (`teams_key`) every read compares: a day built with another fingerprint is rebuilt
  before it is read.
- Anything else that rewrites the past (a row written with a past time, a value
  link edited, a row deleted) is found by `rollup_drifts`, which `reconcile` runs:
  it rebuilds every built day and month in memory and reports any difference.
- A missing closed day or month of the requested period is built on the read
  (bounded: a period covers at most 366 days, 13 months); the scheduler builds
  yesterday and the last closed month every night (`events.schedule`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, Max, Q, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from people.models import Profile
from recognition.models import Recognition, RecognitionValue
from wallets.models import WalletLedger

from .models import MemberLast, MemberRollup, PayrollMonth, PayrollWalletMonth, RollupDay, TeamDay, ValueDay
from .periods import Period, tenant_today

ONE_DAY = dt.timedelta(days=1)
Entry = WalletLedger.EntryType
LedgerSource = WalletLedger.Source
PAYROLL_FIELDS = (
    "received_recognition",
    "received_adjustment",
    "redemptions",
    "redeemed_points",
    "refunded_points",
    "other_debits",
)


def midnight(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=tz)


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _date(value) -> dt.date:
    """A date from a raw cursor (PostgreSQL: date; SQLite: text)."""
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


def teams_key(tenant_id) -> str:
    """A fingerprint of every member's team (one statement): it changes when anyone changes team."""
    if connection.vendor == "postgresql":
        # The sum of a 64-bit hash of each (member, team) pair, and the count: it changes when a
        # member changes team, joins or leaves (an unlucky collision is still caught by reconcile).
        with connection.cursor() as cursor:
            cursor.execute(
                f"""SELECT count(*) || ':' || COALESCE(SUM(uuid_hash_extended(
                        COALESCE(team_id, '00000000-0000-0000-0000-000000000000'), uuid_hash_extended(user_id, 0)
                    )), 0)
                    FROM {Profile._meta.db_table} WHERE tenant_id = %s""",
                [tenant_id],
            )
            return cursor.fetchone()[0]
    rows = Profile.objects.filter(tenant_id=tenant_id).order_by("user_id").values_list("user_id", "team_id")
    text = ",".join(f"{user}:{team or '-'}" for user, team in rows)
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


# --- Days ------------------------------------------------------------------------------------------------------------


def closed_range(period: Period, now: dt.datetime | None = None) -> tuple[dt.date, dt.date] | None:
    """The period's days that have ended in the tenant's timezone, or None."""
    last = min(period.date_to, tenant_today(period.tz, now) - ONE_DAY)
    return (period.date_from, last) if period.date_from <= last else None


def open_window(period: Period, now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    """The instants of the period read live: from the first day not closed to the period's end
    (an empty window, start = end, when every day of the period is closed)."""
    closed = closed_range(period, now)
    start = period.start if closed is None else midnight(closed[1] + ONE_DAY, period.tz)
    return start, max(start, period.end)


def _recognitions(tenant_id, start: dt.datetime, end: dt.datetime, tz: ZoneInfo):
    return (
        Recognition.objects.filter(tenant_id=tenant_id, created_at__gte=start, created_at__lt=end)
        .annotate(day=TruncDate("created_at", tzinfo=tz), team_id=F("receiver__profile__team_id"))
        .order_by()
    )


def team_rows(tenant_id, first: dt.date, last: dt.date, tz: ZoneInfo) -> list[tuple]:
    """(day, team, funding source, recognitions, points) of the days, from the recognitions."""
    rows = (
        _recognitions(tenant_id, midnight(first, tz), midnight(last + ONE_DAY, tz), tz)
        .values("day", "team_id", "funding_source")
        .annotate(n=Count("*"), p=Coalesce(Sum("points"), 0))
        .values_list("day", "team_id", "funding_source", "n", "p")
    )
    return [(_date(d), team, source, int(n), int(p)) for d, team, source, n, p in rows]


def value_rows(tenant_id, first: dt.date, last: dt.date, tz: ZoneInfo) -> list[tuple]:
    """(day, team, value, recognitions, points) of the days: recognitions summed per group,
    then matched to the values their group names."""
    per_group = (
        _recognitions(tenant_id, midnight(first, tz), midnight(last + ONE_DAY, tz), tz)
        .values("day", "team_id", "group_id")
        .annotate(n=Count("*"), p=Coalesce(Sum("points"), 0))
    )
    inner, params = per_group.query.sql_with_params()
    sql = f"""
        SELECT g.day, g.team_id, rv.value_id, SUM(g.n), SUM(g.p)
        FROM ({inner}) g
        JOIN {RecognitionValue._meta.db_table} rv ON rv.tenant_id = %s AND rv.group_id = g.group_id
        GROUP BY g.day, g.team_id, rv.value_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, _db_uuid(tenant_id)])
        return [(_date(d), _uuid(t), _uuid(v), int(n), int(p)) for d, t, v, n, p in cursor.fetchall()]


def _db_uuid(value):
    return value if connection.vendor == "postgresql" else value.hex


def _uuid(value):
    import uuid

    if value is None or isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(str(value))


def build_days(tenant, first: dt.date, last: dt.date) -> bool:
    """Rebuild the day rollups of `first` … `last` (closed days of `tenant`) from the recognitions,
    in one transaction. False if a concurrent build of one of these days committed first."""
    tz = ZoneInfo(tenant.timezone)
    now = timezone.now()
    try:
        with transaction.atomic():
            RollupDay.objects.filter(tenant_id=tenant.pk, day__range=(first, last)).delete()
            key = teams_key(tenant.pk)
            # The markers first: a concurrent build of the same days waits here, then gives way.
            RollupDay.objects.bulk_create(
                [RollupDay(tenant_id=tenant.pk, day=d, teams_key=key, built_at=now) for d in _days(first, last)]
            )
            TeamDay.objects.filter(tenant_id=tenant.pk, day__range=(first, last)).delete()
            ValueDay.objects.filter(tenant_id=tenant.pk, day__range=(first, last)).delete()
            TeamDay.objects.bulk_create(
                TeamDay(tenant_id=tenant.pk, day=d, team_id=t, funding_source=s, recognitions=n, points=p)
                for d, t, s, n, p in team_rows(tenant.pk, first, last, tz)
            )
            ValueDay.objects.bulk_create(
                ValueDay(tenant_id=tenant.pk, day=d, team_id=t, value_id=v, recognitions=n, points=p)
                for d, t, v, n, p in value_rows(tenant.pk, first, last, tz)
            )
    except IntegrityError:
        return False
    return True


def ensure_days(tenant, period: Period, *, now: dt.datetime | None = None) -> bool:
    """Build the closed days of `period` that are missing or were built with other teams.

    Two statements when nothing is missing (the markers, the fingerprint); True when it built."""
    closed = closed_range(period, now)
    first, last = closed or (period.date_from, period.date_from - ONE_DAY)
    built = dict(
        RollupDay.objects.filter(tenant_id=tenant.pk, day__range=(first, last)).values_list("day", "teams_key")
    )
    key = teams_key(tenant.pk)
    stale = [d for d in _days(first, last) if built.get(d) != key] if closed else []
    if not stale:
        return False
    build_days(tenant, stale[0], stale[-1])
    return True


# --- Months (payroll) ------------------------------------------------------------------------------------------------


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def closed_months(period: Period, now: dt.datetime | None = None) -> list[dt.date]:
    """The first days of the whole months inside `period` that have ended in the tenant's timezone."""
    today = tenant_today(period.tz, now)
    month = period.date_from if period.date_from.day == 1 else _next_month(period.date_from)
    months = []
    while (end := _next_month(month)) - ONE_DAY <= period.date_to and end <= today:
        months.append(month)
        month = end
    return months


def ledger_sums(qs):
    """The payroll export's sums per wallet of a ledger queryset."""
    credit, debit = Q(entry_type=Entry.CREDIT), Q(entry_type=Entry.DEBIT)
    known_debits = Q(source__in=[LedgerSource.REDEMPTION])
    return (
        qs.values("wallet_id")
        .annotate(
            received_recognition=Coalesce(Sum("amount", filter=Q(source=LedgerSource.RECOGNITION)), 0),
            received_adjustment=Coalesce(Sum("amount", filter=credit & Q(source=LedgerSource.ADJUSTMENT)), 0),
            redemptions=Count("wallet_id", filter=Q(source=LedgerSource.REDEMPTION)),
            redeemed_points=Coalesce(Sum("amount", filter=Q(source=LedgerSource.REDEMPTION)), 0),
            refunded_points=Coalesce(Sum("amount", filter=Q(source=LedgerSource.REFUND)), 0),
            other_debits=Coalesce(Sum("amount", filter=debit & ~known_debits), 0),
        )
        .order_by()
    )


def month_rows(tenant_id, month: dt.date, tz: ZoneInfo) -> list[tuple]:
    qs = WalletLedger.objects.filter(
        tenant_id=tenant_id, created_at__gte=midnight(month, tz), created_at__lt=midnight(_next_month(month), tz)
    )
    return [
        tuple(int(v) if i else v for i, v in enumerate(row))
        for row in ledger_sums(qs).values_list("wallet_id", *PAYROLL_FIELDS)
    ]


def build_month(tenant, month: dt.date) -> bool:
    """Rebuild the payroll rollup of one closed month from the ledger, in one transaction."""
    tz = ZoneInfo(tenant.timezone)
    try:
        with transaction.atomic():
            PayrollMonth.objects.filter(tenant_id=tenant.pk, month=month).delete()
            PayrollMonth.objects.create(tenant_id=tenant.pk, month=month, built_at=timezone.now())
            PayrollWalletMonth.objects.filter(tenant_id=tenant.pk, month=month).delete()
            PayrollWalletMonth.objects.bulk_create(
                PayrollWalletMonth(
                    tenant_id=tenant.pk,
                    month=month,
                    wallet_id=row[0],
                    **dict(zip(PAYROLL_FIELDS, row[1:], strict=True)),
                )
                for row in month_rows(tenant.pk, month, tz)
            )
    except IntegrityError:
        return False
    return True


def ensure_months(tenant, period: Period, *, now: dt.datetime | None = None) -> list[dt.date]:
    """The whole closed months of `period`, each built (one statement when none is missing)."""
    months = closed_months(period, now)
    built = set(PayrollMonth.objects.filter(tenant_id=tenant.pk, month__in=months).values_list("month", flat=True))
    for month in months:
        if month not in built:
            build_month(tenant, month)
    return months


# --- Members' newest recognition received ---------------------------------------------------------------------------


def ensure_member_last(tenant, *, now: dt.datetime | None = None) -> dt.date | None:
    """`MemberLast` extended through yesterday (the tenant's), from the days it does not cover yet:
    one statement when it is up to date. Returns the last day it covers."""
    tz = ZoneInfo(tenant.timezone)
    yesterday = tenant_today(tz, now) - ONE_DAY
    through = MemberRollup.objects.filter(tenant_id=tenant.pk).values_list("through", flat=True).first()
    if through is not None and through >= yesterday:
        return through
    end = midnight(yesterday + ONE_DAY, tz)
    qs = Recognition.objects.filter(tenant_id=tenant.pk, created_at__lt=end)
    if through is not None:
        qs = qs.filter(created_at__gte=midnight(through + ONE_DAY, tz))
    rows = qs.values("receiver_id").annotate(at=Max("created_at")).order_by().values_list("receiver_id", "at")
    try:
        with transaction.atomic():
            # Claim the extension first: a concurrent one waits here, then finds nothing to claim.
            if through is None:
                MemberRollup.objects.create(tenant_id=tenant.pk, through=yesterday)
            elif not MemberRollup.objects.filter(tenant_id=tenant.pk, through=through).update(through=yesterday):
                raise IntegrityError("extended concurrently")
            # Every row of these days is newer than anything the rollup holds: the newest wins.
            MemberLast.objects.bulk_create(
                [MemberLast(tenant_id=tenant.pk, user_id=user, last_received_at=at) for user, at in rows],
                update_conflicts=True,
                unique_fields=["tenant", "user_id"],
                update_fields=["last_received_at"],
            )
    except IntegrityError:
        return MemberRollup.objects.filter(tenant_id=tenant.pk).values_list("through", flat=True).first()
    return yesterday


# --- Scheduled refresh and the reconcile check ----------------------------------------------------------------------


def refresh(tenant, *, now: dt.datetime | None = None, days: int = 1) -> None:
    """The nightly job: the last `days` closed days (rebuilt), the last closed month (if missing)
    and the members' last recognition received (extended). `manage.py insights_rollups` runs it
    with more days to fill a year at once."""
    tz = ZoneInfo(tenant.timezone)
    today = tenant_today(tz, now)
    build_days(tenant, today - dt.timedelta(days=days), today - ONE_DAY)
    month = (today.replace(day=1) - ONE_DAY).replace(day=1)
    built = set(PayrollMonth.objects.filter(tenant_id=tenant.pk).values_list("month", flat=True))
    for _ in range(max(1, days // 28)):
        if month not in built:
            build_month(tenant, month)
        month = (month - ONE_DAY).replace(day=1)
    ensure_member_last(tenant, now=now)


def tenants_with_rollups(tenant_ids) -> set:
    """Which of these tenants have any rollup built (one statement)."""
    days = RollupDay.objects.filter(tenant_id__in=tenant_ids).values("tenant_id").distinct()
    months = PayrollMonth.objects.filter(tenant_id__in=tenant_ids).values("tenant_id").distinct()
    members = MemberRollup.objects.filter(tenant_id__in=tenant_ids).values("tenant_id")
    return set(days.union(months, members).values_list("tenant_id", flat=True))


def rollup_drifts(tenant) -> list[str]:
    """Every built day (with the current team fingerprint) and month, rebuilt in memory and
    compared with the rollup rows: a description of each difference, or nothing."""
    tz = ZoneInfo(tenant.timezone)
    drifts = []
    key = teams_key(tenant.pk)
    days = sorted(RollupDay.objects.filter(tenant_id=tenant.pk, teams_key=key).values_list("day", flat=True))
    if days:
        first, last = days[0], days[-1]
        wanted = set(days)
        for label, model, fields, rebuilt in (
            ("team", TeamDay, ("day", "team_id", "funding_source"), team_rows(tenant.pk, first, last, tz)),
            ("value", ValueDay, ("day", "team_id", "value_id"), value_rows(tenant.pk, first, last, tz)),
        ):
            stored = Counter(
                (_date(row[0]), *row[1:])
                for row in model.objects.filter(tenant_id=tenant.pk, day__in=days).values_list(
                    *fields, "recognitions", "points"
                )
            )
            fresh = Counter(row for row in rebuilt if row[0] in wanted)
            if stored != fresh:
                bad = sorted({row[0] for row in (stored - fresh) + (fresh - stored)})
                drifts.append(
                    f"insights {label} rollup differs from the recognitions on {len(bad)} day(s), first {bad[0]}"
                )
    through = MemberRollup.objects.filter(tenant_id=tenant.pk).values_list("through", flat=True).first()
    if through is not None:
        fresh = dict(
            Recognition.objects.filter(tenant_id=tenant.pk, created_at__lt=midnight(through + ONE_DAY, tz))
            .values("receiver_id")
            .annotate(at=Max("created_at"))
            .order_by()
            .values_list("receiver_id", "at")
        )
        stored = dict(MemberLast.objects.filter(tenant_id=tenant.pk).values_list("user_id", "last_received_at"))
        if stored != fresh:
            wrong = sum(1 for user in stored.keys() | fresh.keys() if stored.get(user) != fresh.get(user))
            drifts.append(f"insights: {wrong} member(s)' last recognition received differ from the recognitions")
    for month in PayrollMonth.objects.filter(tenant_id=tenant.pk).values_list("month", flat=True).order_by("month"):
        stored = Counter(
            PayrollWalletMonth.objects.filter(tenant_id=tenant.pk, month=month).values_list(
                "wallet_id", *PAYROLL_FIELDS
            )
        )
        if stored != Counter(month_rows(tenant.pk, month, tz)):
            drifts.append(f"insights payroll rollup of {month:%Y-%m} differs from the ledger")
    return drifts
