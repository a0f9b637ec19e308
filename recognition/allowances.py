"""Giving allowances (SPEC §10): periods in the tenant's time zone, usage rows, boosts.

An allowance is a right to draw on the tenant pool, not a balance: nothing moves
when it is granted or when it lapses. A gift raises the giver's `AllowanceUsage.given`
with one conditional UPDATE (`allowance_take`), after the wallets and lead budgets
and before the tenant row (SPEC §10 lock order).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum
from django.utils import timezone

from perksu.errors import DomainError, NotFoundError, get_or_not_found
from points.amounts import require_amount
from points.audit import log_movement
from points.services import require_manager
from tenants.models import Role, Tenant, User

from .models import AllowanceBoost, AllowanceUsage, Recognition

Period = Tenant.AllowancePeriod


@dataclass(frozen=True)
class AllowanceStatus:
    user_id: UUID
    period_start: dt.date
    period_end: dt.date
    """The first day after the period."""
    limit: int
    given: int
    resets_at: dt.datetime
    """Local midnight of `period_end`, as an aware datetime."""

    @property
    def remaining(self) -> int:
        return max(self.limit - self.given, 0)


def period_bounds(tenant: Tenant, at: dt.datetime | None = None) -> tuple[dt.date, dt.date]:
    """The allowance period holding `at` (default now) in the tenant's time zone: [start, end).

    WEEK starts on Monday, MONTH on the 1st, QUARTER on 1 January, April, July, October.
    The one-statement gift computes the same start in SQL (`date_trunc` in the tenant's zone).
    """
    local = (at or timezone.now()).astimezone(ZoneInfo(tenant.timezone)).date()
    if tenant.allowance_period == Period.WEEK:
        start = local - dt.timedelta(days=local.weekday())
        return start, start + dt.timedelta(days=7)
    months = 3 if tenant.allowance_period == Period.QUARTER else 1
    first_month = (local.month - 1) // months * months + 1
    start = local.replace(month=first_month, day=1)
    year, month = divmod(first_month - 1 + months, 12)
    return start, dt.date(local.year + year, month + 1, 1)


def local_midnight(tenant: Tenant, day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=ZoneInfo(tenant.timezone))


def role_allowance(tenant: Tenant, role: str) -> int:
    """The per-period allowance a member of `role` starts each period with (0: none)."""
    return {
        Role.EMPLOYEE: tenant.allowance_employee,
        Role.TENANT_LEAD: tenant.allowance_lead,
        Role.TENANT_MANAGER: tenant.allowance_manager,
    }.get(role, 0)


def allowance_status(*, tenant: Tenant, user: User, at: dt.datetime | None = None) -> AllowanceStatus:
    """The member's allowance this period: the usage row if there is one, else what it would start with."""
    start, end = period_bounds(tenant, at)
    usage = AllowanceUsage.objects.filter(tenant_id=tenant.pk, user_id=user.pk, period_start=start).first()
    if usage is not None:
        limit, given = usage.limit, usage.given
    else:
        limit, given = role_allowance(tenant, user.role) if user.is_active else 0, 0
    return AllowanceStatus(user.pk, start, end, limit, given, local_midnight(tenant, end))


def usage_row(*, tenant: Tenant, user_id: UUID, role: str, start: dt.date, end: dt.date) -> AllowanceUsage:
    """The member's usage row of the period, created with the role's allowance if missing.

    Safe under concurrency: two first gifts racing create one row (the unique
    constraint decides; the loser reads the winner's row). Takes no lock.
    """
    usage = AllowanceUsage.objects.filter(tenant_id=tenant.pk, user_id=user_id, period_start=start).first()
    if usage is not None:
        return usage
    try:
        with transaction.atomic():
            return AllowanceUsage.objects.create(
                tenant_id=tenant.pk,
                user_id=user_id,
                period_start=start,
                period_end=end,
                limit=role_allowance(tenant, role),
                given=0,
            )
    except IntegrityError:
        return AllowanceUsage.objects.get(tenant_id=tenant.pk, user_id=user_id, period_start=start)


def allowance_exceeded(*, remaining: int, required: int) -> DomainError:
    return DomainError(
        f"This is more than your allowance has left. Remaining: {remaining}, Required: {required}.",
        code="allowance_exceeded",
        remaining=remaining,
        required=required,
    )


_USAGE = AllowanceUsage._meta.db_table
TAKE_SQL = (
    f"UPDATE {_USAGE} SET given = given + %(total)s WHERE tenant_id = %(tenant)s AND user_id = %(giver)s "
    f'AND period_start = %(period)s AND given + %(total)s <= "limit"'
)
"""The conditional allowance debit, for a statement that adds its own conditions and RETURNING."""


def allowance_take(*, tenant_id: UUID, user_id: UUID, period_start: dt.date, amount: int) -> int:
    """Raise the member's `given` by `amount` if the limit allows; return `given` after.

    One conditional UPDATE, which locks the usage row until the caller's
    transaction ends: call it after wallets and lead budgets, before the tenant row.
    Refuses with `allowance_exceeded` (and the figures) otherwise.
    """
    prep = AllowanceUsage._meta.pk.get_db_prep_value
    params = {
        "total": amount,
        "tenant": prep(tenant_id, connection),
        "giver": prep(user_id, connection),
        "period": AllowanceUsage._meta.get_field("period_start").get_db_prep_value(period_start, connection),
    }
    with connection.cursor() as cursor:
        cursor.execute(TAKE_SQL + " RETURNING given", params)
        row = cursor.fetchone()
    if row is not None:
        return row[0]
    usage = AllowanceUsage.objects.filter(tenant_id=tenant_id, user_id=user_id, period_start=period_start).first()
    remaining = 0 if usage is None else usage.remaining
    raise allowance_exceeded(remaining=remaining, required=amount)


def allowance_boost(*, actor: User, user_id: UUID | str, amount: int, reason: str) -> AllowanceBoost:
    """Raise a member's allowance for the current period by `amount` (managers; logged).

    Creates the period's usage row if missing, then raises its limit with one
    UPDATE (the row's lock is the only one taken) and records an AllowanceBoost.
    """
    require_manager(actor)
    amount = require_amount(amount)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("A reason is required.", code="required", field="reason")
    if len(reason) > 500:
        raise DomainError("The reason is longer than 500 characters.", code="too_long", field="reason")
    member = get_or_not_found(User.objects.filter(tenant_id=actor.tenant_id), "User not found.", pk=user_id)
    if not member.is_active:
        raise DomainError(f"{member.full_name or member.email} is deactivated.", code="inactive_user")
    tenant = Tenant.objects.get(pk=actor.tenant_id)
    start, end = period_bounds(tenant)
    usage = usage_row(tenant=tenant, user_id=member.pk, role=member.role, start=start, end=end)
    with transaction.atomic():
        AllowanceUsage.objects.filter(tenant_id=tenant.pk, pk=usage.pk).update(limit=F("limit") + amount)
        usage.refresh_from_db(fields=["limit", "given"])
        boost = AllowanceBoost.objects.create(
            tenant_id=tenant.pk,
            user=member,
            period_start=start,
            amount=amount,
            limit_after=usage.limit,
            reason=reason,
            actor=actor,
        )
        log_movement(
            "allowance_boost",
            tenant_id=tenant.pk,
            actor_id=actor.pk,
            amount=amount,
            user=member.pk,
            period_start=start,
            limit_after=usage.limit,
        )
    return boost


def member_for_status(*, actor: User, user_id: UUID | str) -> User:
    try:
        return User.objects.get(tenant_id=actor.tenant_id, pk=user_id)
    except (User.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFoundError("User not found.") from exc


def given_by_usage(tenant_id: UUID) -> dict[tuple[UUID, dt.date], int]:
    """Σ allowance-funded points per (giver, period) of a tenant: what `given` must equal (invariant 7)."""
    rows = (
        Recognition.objects.filter(tenant_id=tenant_id, funding_source=Recognition.FundingSource.ALLOWANCE)
        .values("giver_id", "allowance_period")
        .annotate(total=Sum("points"))
    )
    return {(r["giver_id"], r["allowance_period"]): r["total"] for r in rows}
