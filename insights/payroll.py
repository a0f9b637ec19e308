"""The payroll export (SPEC §13): per member and period, the points received by source,
their value in the tenant's currency, and the redemptions — as CSV, streamed.

It reads the books, so it agrees with every balance and with `reconcile`: the
closed months from their rollup (rebuilt from the ledger and checked by reconcile),
the rest of the period from the ledger rows (the covering index
`ledger_insights_idx` (tenant, created_at) INCLUDE (wallet, source, entry type,
amount) answers it without the table's heap), in one statement. On PostgreSQL the
database writes the CSV lines itself (COPY) and they stream as they come; elsewhere
a server-side cursor is read in chunks. Either way memory stays flat. Members with
no movement in the period are left out; a zero line is nothing payroll has to report.

Taxable points are what the member *received*: recognition credits and positive
adjustments. Refunds give back the member's own points and redemptions spend
them, so both are reported beside, not in, the taxable value.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID

from django.db import connection
from django.db.models import Q

from people.models import Profile, Team
from perksu.admin_base import FORMULA_PREFIXES
from perksu.db import copy_out
from tenants.models import Tenant, User
from wallets.models import Wallet, WalletLedger

from . import rollups
from .csvexport import cell
from .models import PayrollWalletMonth
from .periods import Period
from .scope import Scope

CHUNK = 2000

COLUMNS = [
    ("member_id", "member id"),
    ("email", "email"),
    ("full_name", "full name"),
    ("team", "team"),
    ("period_from", "period from"),
    ("period_to", "period to"),
    ("received_recognition", "points received: recognition"),
    ("received_adjustment", "points received: adjustment"),
    ("taxable_points", "taxable points"),
    ("currency", "currency"),
    ("point_value", "point value"),
    ("taxable_value", "taxable value"),
    ("redemptions", "redemptions"),
    ("redeemed_points", "points redeemed"),
    ("refunded_points", "points refunded"),
    ("other_debits", "other debits"),
]


@dataclass(frozen=True)
class PayrollLine:
    member_id: object
    email: str
    full_name: str
    team: str | None
    received_recognition: int
    received_adjustment: int
    redemptions: int
    redeemed_points: int
    refunded_points: int
    other_debits: int

    @property
    def taxable_points(self) -> int:
        return self.received_recognition + self.received_adjustment


def _payroll_sql(
    scope: Scope, period: Period, select: str, select_params: list, *, now: dt.datetime | None = None
) -> tuple[str, list]:
    """The statement behind the export, with `select` as its column list (aliases `u` user, `t`
    team, `s` the sums) and `select_params` its parameters: one row per member with a movement
    in the period, by name then id.

    The whole closed months of the period come from the month rollup (`PayrollWalletMonth`,
    built from the ledger first if missing: the statement before this one reads which are built),
    the rest of the period from the ledger rows summed per wallet (an index-only scan of the
    covering index); the at most one-per-member sums are joined to the member, profile and team.
    """
    tz = period.tz
    # The tenant as the joins below take it (a UUID on PostgreSQL, its hex on SQLite).
    tenant = Tenant._meta.pk.get_db_prep_value(scope.tenant_id, connection)
    months = rollups.ensure_months(scope.tenant, period, now=now)
    if months:
        first, end = rollups.midnight(months[0], tz), rollups.midnight(rollups._next_month(months[-1]), tz)
        live = Q(created_at__gte=period.start, created_at__lt=first) | Q(created_at__gte=end, created_at__lt=period.end)
    else:
        live = Q(created_at__gte=period.start, created_at__lt=period.end)
    qs = WalletLedger.objects.filter(live, tenant_id=scope.tenant_id)
    # An empty range when no whole month is closed (the statement stays the same shape).
    month_range = (months[0], months[-1]) if months else (period.date_to, period.date_from)
    rolled = PayrollWalletMonth.objects.filter(tenant_id=scope.tenant_id, month__range=month_range)
    if not scope.is_whole_tenant:
        wallets = Wallet.objects.filter(tenant_id=scope.tenant_id, user_id__in=scope.member_ids()).values("pk")
        qs = qs.filter(wallet_id__in=wallets)
        rolled = rolled.filter(wallet_id__in=wallets)
    live_sql, live_params = rollups.ledger_sums(qs).query.sql_with_params()
    # The month rows as they are: the outer GROUP BY sums a wallet's months and its live edges at once.
    rolled_sql, rolled_params = rolled.values("wallet_id", *rollups.PAYROLL_FIELDS).order_by().query.sql_with_params()
    columns = ", ".join(rollups.PAYROLL_FIELDS)
    # Whole numbers (PostgreSQL's SUM of bigint is numeric: a Decimal per cell, slower to write).
    sums = ", ".join(f"CAST(SUM(a.{f}) AS BIGINT) AS {f}" for f in rollups.PAYROLL_FIELDS)
    if months and first == period.start and end == period.end and len(months) == 1:
        # The period is one closed month, as a payroll run usually is: its rollup rows are the
        # answer as they are (one per wallet), with nothing to sum.
        inner = f"""
            SELECT w.user_id, {", ".join(f"m.{f}" for f in rollups.PAYROLL_FIELDS)}
            FROM ({rolled_sql}) m JOIN {Wallet._meta.db_table} w ON w.tenant_id = %s AND w.id = m.wallet_id
        """
        params = [*select_params, *rolled_params, tenant]
    else:
        # Grouped by the wallet's member, not by the wallet: the planner knows how many distinct
        # members there are (it cannot know it of the union's wallet ids, guessed at 200), so it
        # joins the members, profiles and teams by hash rather than one index probe per member.
        inner = f"""
            SELECT w.user_id, {sums} FROM (
                SELECT l.wallet_id, {columns} FROM ({live_sql}) l
                UNION ALL
                SELECT m.wallet_id, {columns} FROM ({rolled_sql}) m
            ) a JOIN {Wallet._meta.db_table} w ON w.tenant_id = %s AND w.id = a.wallet_id GROUP BY w.user_id
        """
        params = [*select_params, *live_params, *rolled_params, tenant]
    # Every join names the tenant: on Citus the statement is then one shard's (docs/SCALING.md).
    sql = f"""
        SELECT {select}
        FROM ({inner}) s
        JOIN {User._meta.db_table} u ON u.tenant_id = %s AND u.id = s.user_id
        LEFT JOIN {Profile._meta.db_table} p ON p.tenant_id = u.tenant_id AND p.user_id = u.id
        LEFT JOIN {Team._meta.db_table} t ON t.tenant_id = p.tenant_id AND t.id = p.team_id
        ORDER BY u.full_name, u.id
    """
    return sql, [*params, tenant]


_LINE_COLUMNS = (
    "u.id, u.email, u.full_name, t.name, s.received_recognition, s.received_adjustment,"
    " s.redemptions, s.redeemed_points, s.refunded_points, s.other_debits"
)


def payroll_lines(scope: Scope, period: Period, *, now: dt.datetime | None = None) -> Iterator[PayrollLine]:
    """One line per member with a movement in the period, by name then id; two statements, the
    rows fetched through a server-side cursor in chunks."""
    sql, params = _payroll_sql(scope, period, _LINE_COLUMNS, [], now=now)
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(CHUNK):
            for row in rows:
                yield PayrollLine(_uuid(row[0]), *row[1:])


def _uuid(value) -> UUID:
    return value if isinstance(value, UUID) else UUID(str(value))


def money(points: int, point_value: Decimal) -> Decimal:
    """Points × the tenant's point value, rounded half up to the cent."""
    return (Decimal(points) * point_value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def payroll_csv(scope: Scope, period: Period) -> Iterator[str | bytes]:
    """The header, then one CSV line per member, produced as the rows arrive.

    On PostgreSQL the lines are written by the database (`COPY (…) TO STDOUT`, CSV): the same
    statement, its cells made CSV-safe in SQL as `cell` makes them in Python, streamed in the
    blocks PostgreSQL sends, with no Python per line. Elsewhere Python writes them, a chunk of
    lines at a time. COPY ends a line with a line feed, Python's writer with CR LF, and the header
    ends as the lines do (every CSV reader takes either).
    """
    copied = connection.vendor == "postgresql"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n" if copied else "\r\n")
    writer.writerow([header for _, header in COLUMNS])
    yield buffer.getvalue()
    yield from (_copied_lines if copied else _written_lines)(scope, period)


def _written_lines(scope: Scope, period: Period) -> Iterator[str]:
    """The members' lines written by Python's CSV writer, a chunk of lines at a time."""
    tenant = scope.tenant
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    period_from, period_to = cell(period.date_from), cell(period.date_to)
    currency, point_value = cell(tenant.currency), cell(tenant.point_value)
    # In the order of COLUMNS; numbers are written as they are (`cell` leaves numbers alone).
    for written, line in enumerate(payroll_lines(scope, period), start=1):
        taxable = line.taxable_points
        writer.writerow(
            [
                cell(line.member_id),
                cell(line.email),
                cell(line.full_name),
                cell(line.team or ""),
                period_from,
                period_to,
                line.received_recognition,
                line.received_adjustment,
                taxable,
                currency,
                point_value,
                money(taxable, tenant.point_value),
                line.redemptions,
                line.redeemed_points,
                line.refunded_points,
                line.other_debits,
            ]
        )
        if written % CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if rest := buffer.getvalue():
        yield rest


def _text_cell(expression: str) -> str:
    """`cell` of a text column, in SQL: a leading formula character gets a quote before it, and
    NULL or empty text is an empty cell (COPY would quote an empty string; Python's writer does not).
    One parameter: the formula characters."""
    quoted = f"CASE WHEN left({expression}, 1) = ANY(%s) THEN '''' || {expression} ELSE {expression} END"
    return f"NULLIF({quoted}, '')"


# In the order of COLUMNS. Numbers are written as PostgreSQL prints them, which is how Python
# writes them: integers, and the value rounded half away from zero to the cent (as `money`).
_CSV_COLUMNS = ", ".join(
    [
        "u.id",
        _text_cell("u.email"),
        _text_cell("u.full_name"),
        _text_cell("t.name"),
        "%s",
        "%s",
        "s.received_recognition",
        "s.received_adjustment",
        "s.received_recognition + s.received_adjustment",
        "%s",
        "%s",
        "round((s.received_recognition + s.received_adjustment) * %s::numeric, 2)",
        "s.redemptions",
        "s.redeemed_points",
        "s.refunded_points",
        "s.other_debits",
    ]
)


def _copied_lines(scope: Scope, period: Period) -> Iterator[bytes]:
    tenant = scope.tenant
    formula = list(FORMULA_PREFIXES)
    point_value = str(tenant.point_value)
    select_params = [
        formula,
        formula,
        formula,
        cell(period.date_from),
        cell(period.date_to),
        cell(tenant.currency),
        point_value,
        point_value,
    ]
    sql, params = _payroll_sql(scope, period, _CSV_COLUMNS, select_params)
    yield from copy_out(sql, params)


def payroll_filename(scope: Scope, period: Period) -> str:
    return f"payroll-{scope.tenant.slug}-{period.date_from:%Y%m%d}-{period.date_to:%Y%m%d}.csv"
