"""The payroll export (SPEC §13): per member and period, the points received by source,
their value in the tenant's currency, and the redemptions — as CSV, streamed.

It reads the wallet ledger, the books themselves, so it agrees with every balance
and with `reconcile`: one grouped statement over the period's ledger rows (the
covering index `ledger_insights_idx` (tenant, created_at) INCLUDE (wallet, source,
entry type, amount) answers it without the table's heap), read through a
server-side cursor in chunks, so memory stays flat and the first line leaves
before the last member is summed. Members with no movement in the period are left
out; a zero line is nothing payroll has to report.

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
from tenants.models import User
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


def payroll_lines(scope: Scope, period: Period, *, now: dt.datetime | None = None) -> Iterator[PayrollLine]:
    """One line per member with a movement in the period, by name then id; two statements.

    The whole closed months of the period come from the month rollup (`PayrollWalletMonth`,
    built from the ledger first if missing: the first statement reads which are built), the
    rest of the period from the ledger rows summed per wallet (an index-only scan of the
    covering index); the at most one-per-member sums are joined to the member, profile and
    team, and fetched through a server-side cursor in chunks.
    """
    tz = period.tz
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
        wallets = Wallet.objects.filter(user_id__in=scope.member_ids()).values("pk")
        qs = qs.filter(wallet_id__in=wallets)
        rolled = rolled.filter(wallet_id__in=wallets)
    live_sql, live_params = rollups.ledger_sums(qs).query.sql_with_params()
    # The month rows as they are: the outer GROUP BY sums a wallet's months and its live edges at once.
    rolled_sql, rolled_params = rolled.values("wallet_id", *rollups.PAYROLL_FIELDS).order_by().query.sql_with_params()
    columns = ", ".join(rollups.PAYROLL_FIELDS)
    # Whole numbers (PostgreSQL's SUM of bigint is numeric: a Decimal per cell, slower to write).
    sums = ", ".join(f"CAST(SUM(a.{f}) AS BIGINT) AS {f}" for f in rollups.PAYROLL_FIELDS)
    inner = f"""
        SELECT a.wallet_id, {sums} FROM (
            SELECT l.wallet_id, {columns} FROM ({live_sql}) l
            UNION ALL
            SELECT m.wallet_id, {columns} FROM ({rolled_sql}) m
        ) a GROUP BY a.wallet_id
    """
    params = [*live_params, *rolled_params]
    sql = f"""
        SELECT u.id, u.email, u.full_name, t.name, s.received_recognition, s.received_adjustment,
            s.redemptions, s.redeemed_points, s.refunded_points, s.other_debits
        FROM ({inner}) s
        JOIN {Wallet._meta.db_table} w ON w.id = s.wallet_id
        JOIN {User._meta.db_table} u ON u.id = w.user_id
        LEFT JOIN {Profile._meta.db_table} p ON p.user_id = u.id
        LEFT JOIN {Team._meta.db_table} t ON t.id = p.team_id
        ORDER BY u.full_name, u.id
    """
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


def payroll_csv(scope: Scope, period: Period) -> Iterator[str]:
    """The header, then the CSV lines of the members, produced as the rows arrive (a chunk of
    lines at a time: one write per line would cost more than the line)."""
    tenant = scope.tenant
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([header for _, header in COLUMNS])
    yield buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
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


def payroll_filename(scope: Scope, period: Period) -> str:
    return f"payroll-{scope.tenant.slug}-{period.date_from:%Y%m%d}-{period.date_to:%Y%m%d}.csv"
