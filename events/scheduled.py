"""The scheduled jobs (SPEC §12): each a `@job`, enqueued by `events.schedule.run_schedule` once per period.

Each is safe to run twice: e-mails are keyed by person and period, the forfeit
and the purge are idempotent, and a drift found twice is reported twice (it is
still there).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Count, Sum
from django.urls import reverse
from django.utils import timezone

from tenants.models import Role, Tenant, User

from . import event_types, payloads
from .emails import formatting_for, send_email
from .jobs import job
from .models import EmailCategory
from .services import record_event


def _number(value: int) -> str:
    from perksu.formatting import format_number

    return format_number(value)


def _date(value: dt.date) -> str:
    from perksu.formatting import format_date

    return format_date(value)


@job(max_attempts=5, backoff_seconds=60)
def send_allowance_reminders(tenant_id: str, period_start: str) -> int:
    """ "N points left to give, resets on …" to every active member with N > 0; returns how many were e-mailed."""
    from recognition.allowances import period_bounds, role_allowance
    from recognition.models import AllowanceUsage

    tenant = Tenant.objects.get(pk=tenant_id)
    start = dt.date.fromisoformat(period_start)
    current_start, end = period_bounds(tenant)
    if current_start != start:
        return 0  # the period ended before the job ran: nothing left to remind of
    usage = {
        row["user_id"]: row["limit"] - row["given"]
        for row in AllowanceUsage.objects.filter(tenant=tenant, period_start=start).values("user_id", "limit", "given")
    }
    sent = 0
    members = User.objects.filter(tenant=tenant, is_active=True).exclude(role=Role.PLATFORM_ADMIN).order_by("pk")
    with formatting_for(tenant):
        for user in members:
            remaining = usage.get(user.pk, role_allowance(tenant, user.role))
            if remaining <= 0:
                continue
            send_email(
                user=user,
                tenant=tenant,
                category=EmailCategory.ALLOWANCE_REMINDER,
                key=f"allowance:{tenant.pk}:{start.isoformat()}:{user.pk}",
                subject=f"{_number(remaining)} points left to give, resets on {_date(end)}",
                template="allowance_reminder",
                context={
                    "remaining_text": _number(remaining),
                    "resets_text": _date(end),
                    "link": reverse("recognition:recognize"),
                },
            )
            sent += 1
    return sent


@job(max_attempts=5, backoff_seconds=60)
def send_manager_digests(tenant_id: str, week: str) -> int:
    """The weekly digest for every manager of the tenant: the last seven days in figures."""
    from recognition.models import Recognition

    tenant = Tenant.objects.get(pk=tenant_id)
    since = timezone.now() - dt.timedelta(days=7)
    recent = Recognition.objects.filter(tenant=tenant, created_at__gte=since)
    figures = recent.aggregate(recognitions=Count("group_id", distinct=True), points=Sum("points"))
    top = list(
        recent.values("receiver__full_name").annotate(points=Sum("points"), n=Count("id")).order_by("-points")[:5]
    )
    givers = recent.values("giver_id").distinct().count()
    active = User.objects.filter(tenant=tenant, is_active=True).count()
    sent = 0
    with formatting_for(tenant):
        context = {
            "recognitions_text": _number(figures["recognitions"] or 0),
            "points_text": _number(figures["points"] or 0),
            "givers_text": _number(givers),
            "members_text": _number(active),
            "pool_text": _number(tenant.points_allocation_balance),
            "top": [{"name": t["receiver__full_name"], "points_text": _number(t["points"] or 0)} for t in top],
            "link": reverse("points:manage"),
        }
        for manager in User.objects.filter(tenant=tenant, role=Role.TENANT_MANAGER, is_active=True).order_by("pk"):
            send_email(
                user=manager,
                tenant=tenant,
                category=EmailCategory.MANAGER_DIGEST,
                key=f"digest:{tenant.pk}:{week}:{manager.pk}",
                subject=f"Your week at {tenant.name}: {context['recognitions_text']} recognitions",
                template="manager_digest",
                context=context,
            )
            sent += 1
    return sent


@job(max_attempts=3, backoff_seconds=300)
def reconcile_tenant(tenant_slug: str) -> bool:
    """The nightly reconcile of one tenant; on drift records `books.drift` (platform admins are e-mailed)."""
    from points.reconcile import reconcile

    [report] = reconcile(tenant_slug=tenant_slug) or [None]
    if report is None or report.ok:
        return True
    with transaction.atomic():
        record_event(tenant_id=report.tenant_id, name=event_types.BOOKS_DRIFT, payload=payloads.books_drift(report))
    return False


@job(max_attempts=3, backoff_seconds=300)
def refresh_insights_rollups(tenant_id: str) -> bool:
    """Yesterday's insights rollups of one tenant (rebuilt), the last closed month's payroll rollup
    and the members' last recognition received (insights.rollups)."""
    from insights.rollups import refresh

    refresh(Tenant.objects.get(pk=tenant_id))
    return True


@job(max_attempts=3, backoff_seconds=300)
def forfeit_leavers() -> int:
    """The leavers' forfeits due today (people.leavers; idempotent: an emptied wallet is not forfeited again)."""
    from people.leavers import forfeit_leavers as forfeit

    count, _points = forfeit()
    return count


@job(max_attempts=3, backoff_seconds=300)
def purge_idempotency_records() -> int:
    """Delete idempotency records past their retention (points.idempotency)."""
    from points.idempotency import purge_expired

    return purge_expired()
