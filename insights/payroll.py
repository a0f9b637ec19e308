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
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from uuid import UUID

from django.db import connection
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce

from people.models import Profile, Team
from tenants.models import User
from wallets.models import Wallet, WalletLedger

from .csvexport import Echo, cell
from .periods import Period
from .scope import Scope

CHUNK = 2000
Entry = WalletLedger.EntryType
LedgerSource = WalletLedger.Source

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


def payroll_lines(scope: Scope, period: Period) -> Iterator[PayrollLine]:
    """One line per member with a movement in the period, by name then id; one statement.

    The period's ledger rows are summed per wallet first (an index-only scan of the covering
    index, no join per row), then the at most one-per-member sums are joined to the member,
    profile and team; the rows are fetched through a server-side cursor in chunks.
    """
    credit, debit = Q(entry_type=Entry.CREDIT), Q(entry_type=Entry.DEBIT)
    known_debits = Q(source__in=[LedgerSource.REDEMPTION])
    qs = WalletLedger.objects.filter(tenant_id=scope.tenant_id, created_at__gte=period.start, created_at__lt=period.end)
    if not scope.is_whole_tenant:
        qs = qs.filter(wallet_id__in=Wallet.objects.filter(user_id__in=scope.member_ids()).values("pk"))
    sums = (
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
    inner, params = sums.query.sql_with_params()
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
    """The header, then one CSV line per member, produced as the rows arrive."""
    writer = csv.writer(Echo())
    tenant = scope.tenant
    yield writer.writerow([header for _, header in COLUMNS])
    for line in payroll_lines(scope, period):
        values = {
            "member_id": line.member_id,
            "email": line.email,
            "full_name": line.full_name,
            "team": line.team or "",
            "period_from": period.date_from,
            "period_to": period.date_to,
            "received_recognition": line.received_recognition,
            "received_adjustment": line.received_adjustment,
            "taxable_points": line.taxable_points,
            "currency": tenant.currency,
            "point_value": tenant.point_value,
            "taxable_value": money(line.taxable_points, tenant.point_value),
            "redemptions": line.redemptions,
            "redeemed_points": line.redeemed_points,
            "refunded_points": line.refunded_points,
            "other_debits": line.other_debits,
        }
        yield writer.writerow([cell(values[key]) for key, _ in COLUMNS])


def payroll_filename(scope: Scope, period: Period) -> str:
    return f"payroll-{scope.tenant.slug}-{period.date_from:%Y%m%d}-{period.date_to:%Y%m%d}.csv"
