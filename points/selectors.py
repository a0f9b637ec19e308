"""Reads of the company books shared by the API, the pages and the console."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from perksu.formatting import format_number
from tenants.models import Tenant
from wallets.models import Wallet, WalletLedger

from .models import AllocationLog, LeadBudget


@dataclass(frozen=True)
class PoolStats:
    """The Company Distribution Pool card (SPEC §6 tenant-allocation-stats)."""

    tenant_id: UUID
    tenant_name: str
    points_allocation_balance: int
    currency: str
    currency_label: str
    status: str
    balance_status: str
    message: str
    low_balance_threshold: int
    delegated_outstanding: int
    wallets_outstanding: int


def pool_balance_status(balance: int, threshold: int) -> str:
    """`empty` at 0, `low` below the tenant's threshold, else `ready`."""
    if balance <= 0:
        return "empty"
    if balance < threshold:
        return "low"
    return "ready"


def pool_message(balance: int, threshold: int, label: str) -> str:
    status = pool_balance_status(balance, threshold)
    if status == "empty":
        return f"No {label.lower()} in the company pool. Contact the platform team to allocate {label.lower()}."
    if status == "low":
        return (
            f"Low balance: only {format_number(balance)} {label.lower()} left in the company pool "
            f"(below {format_number(threshold)}). Contact the platform team to top up."
        )
    return f"Ready to distribute. You have {format_number(balance)} {label.lower()} available."


def pool_stats(tenant: Tenant | UUID) -> PoolStats:
    tenant = Tenant.objects.get(pk=getattr(tenant, "pk", tenant))
    delegated = LeadBudget.objects.filter(tenant=tenant).aggregate(s=Coalesce(Sum("balance"), 0))["s"]
    wallets = Wallet.objects.filter(tenant=tenant).aggregate(s=Coalesce(Sum("balance"), 0))["s"]
    balance, threshold = tenant.points_allocation_balance, tenant.low_balance_threshold
    return PoolStats(
        tenant_id=tenant.pk,
        tenant_name=tenant.name,
        points_allocation_balance=balance,
        currency=tenant.currency,
        currency_label=tenant.currency_label,
        status=tenant.status,
        balance_status=pool_balance_status(balance, threshold),
        message=pool_message(balance, threshold, tenant.currency_label),
        low_balance_threshold=threshold,
        delegated_outstanding=delegated,
        wallets_outstanding=wallets,
    )


@dataclass(frozen=True)
class Liability:
    """Points a tenant holds outstanding, and what they are worth."""

    tenant_id: UUID
    tenant_name: str
    tenant_slug: str
    currency: str
    point_value: Decimal
    pool: int
    lead_budgets: int
    wallets: int

    @property
    def outstanding(self) -> int:
        return self.pool + self.lead_budgets + self.wallets

    @property
    def value(self) -> Decimal:
        return (self.point_value * self.outstanding).quantize(Decimal("0.01"))


def liabilities(tenant_id: UUID | None = None) -> list[Liability]:
    """Outstanding points per tenant: three grouped aggregates, whatever the number of tenants."""
    tenants = Tenant.objects.order_by("name")
    budgets = LeadBudget.objects.values("tenant_id").annotate(s=Sum("balance"))
    wallets = Wallet.objects.values("tenant_id").annotate(s=Sum("balance"))
    if tenant_id is not None:
        tenants = tenants.filter(pk=tenant_id)
        budgets = budgets.filter(tenant_id=tenant_id)
        wallets = wallets.filter(tenant_id=tenant_id)
    budget_by = {row["tenant_id"]: row["s"] for row in budgets}
    wallet_by = {row["tenant_id"]: row["s"] for row in wallets}
    return [
        Liability(
            tenant_id=t.pk,
            tenant_name=t.name,
            tenant_slug=t.slug,
            currency=t.currency,
            point_value=t.point_value,
            pool=t.points_allocation_balance,
            lead_budgets=budget_by.get(t.pk) or 0,
            wallets=wallet_by.get(t.pk) or 0,
        )
        for t in tenants
    ]


@dataclass(frozen=True)
class RollForward:
    """How a tenant's outstanding points moved over [date_from, date_to] (whole days, inclusive).

    closing = opening + allocated − clawed_back − redeemed + refunded. Awards,
    delegations and recalls move points between pool, budgets and wallets and
    so do not change the outstanding total.
    """

    tenant_id: UUID
    date_from: dt.date
    date_to: dt.date
    opening: int
    allocated: int
    clawed_back: int
    redeemed: int
    refunded: int
    closing: int


FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(9998, 12, 31)
"""The days a roll-forward may name. The period ends at midnight after `date_to` in the
local time zone, which past `LAST_DAY` would overflow Python's dates (year 9999)."""


def day_out_of_range(day: dt.date) -> str | None:
    """Why `day` cannot bound a roll-forward, or None."""
    if FIRST_DAY <= day <= LAST_DAY:
        return None
    return f"Choose a date from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}."


def roll_forwards(tenant_ids: list[UUID], *, date_from: dt.date, date_to: dt.date) -> dict[UUID, RollForward]:
    """The roll-forward of many tenants over [date_from, date_to], in two grouped aggregates
    (not two per tenant). Tenants without movements get zeros. Both days within
    [FIRST_DAY, LAST_DAY] (callers validate; `day_out_of_range`)."""
    start = timezone.make_aware(dt.datetime.combine(date_from, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min))

    def grouped(qs, **kinds: Q) -> dict[UUID, dict[str, int]]:
        sums = {}
        for name, condition in kinds.items():
            sums[f"{name}_before"] = Coalesce(Sum("amount", filter=condition & Q(created_at__lt=start)), 0)
            sums[name] = Coalesce(Sum("amount", filter=condition & Q(created_at__gte=start, created_at__lt=end)), 0)
        rows = qs.filter(tenant_id__in=tenant_ids).values("tenant_id").annotate(**sums).order_by()
        return {row["tenant_id"]: row for row in rows}

    alloc = grouped(
        AllocationLog.objects,
        allocated=Q(kind=AllocationLog.Kind.ALLOCATION),
        clawed_back=Q(kind=AllocationLog.Kind.CLAWBACK),
    )
    spent = grouped(
        WalletLedger.objects.filter(source__in=[WalletLedger.Source.REDEMPTION, WalletLedger.Source.REFUND]),
        redeemed=Q(source=WalletLedger.Source.REDEMPTION),
        refunded=Q(source=WalletLedger.Source.REFUND),
    )
    result = {}
    for tenant_id in tenant_ids:
        a = alloc.get(tenant_id, {})
        s = spent.get(tenant_id, {})

        def get(d, key):
            return d.get(key, 0)

        opening = (
            get(a, "allocated_before")
            - get(a, "clawed_back_before")
            - get(s, "redeemed_before")
            + get(s, "refunded_before")
        )
        allocated, clawed_back = get(a, "allocated"), get(a, "clawed_back")
        redeemed, refunded = get(s, "redeemed"), get(s, "refunded")
        result[tenant_id] = RollForward(
            tenant_id=tenant_id,
            date_from=date_from,
            date_to=date_to,
            opening=opening,
            allocated=allocated,
            clawed_back=clawed_back,
            redeemed=redeemed,
            refunded=refunded,
            closing=opening + allocated - clawed_back - redeemed + refunded,
        )
    return result


def roll_forward(tenant_id: UUID, *, date_from: dt.date, date_to: dt.date) -> RollForward:
    return roll_forwards([tenant_id], date_from=date_from, date_to=date_to)[tenant_id]
