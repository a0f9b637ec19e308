"""The one scheduler: `manage.py run_schedule`, run by one cron line every 10 minutes.

    */10 * * * *  cd /srv/perksu && .venv/bin/python manage.py run_schedule

Each run looks at the clock of every tenant and enqueues the jobs that are due
and not yet enqueued for their period; the claim is a `ScheduledRun` row under a
unique (job, scope) key, written in the same transaction as the job's enqueue.
So running it late, twice, or from two machines at once enqueues each job once,
and a missed run is caught up by the next. (The job library has no periodic
tasks; `manage.py worker --schedule-every N` calls the same function, which
`devserver` uses so development needs no cron.)

| job | when (tenant's time zone) | scope |
|---|---|---|
| allowance reminders | from 3 days before the allowance period ends | tenant, period |
| weekly manager digest | Monday from 08:00 | tenant, ISO week |
| nightly reconcile (`books.drift`) | from 02:00 | tenant, date |
| insights rollups of yesterday (insights.rollups) | from 00:30 | tenant, date |
| leaver forfeits | daily (UTC) | date |
| purge of expired idempotency records | hourly (UTC) | hour |
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.utils import timezone

from tenants.models import Tenant, platform_tenant

from . import scheduled
from .models import ScheduledRun

REMINDER_DAYS = 3
DIGEST_HOUR = 8
RECONCILE_HOUR = 2
ROLLUP_AFTER = dt.time(0, 30)


def claim(job: str, scope: str, enqueue: Callable[[], object], *, tenant_id: uuid.UUID) -> bool:
    """Enqueue once per (tenant, job, scope): False if it was already claimed. A platform-wide job
    is claimed in the platform's own tenant (`tenants.models.PLATFORM_TENANT_ID`)."""
    try:
        with transaction.atomic():
            ScheduledRun.objects.create(job=job, scope=scope, tenant_id=tenant_id)
            enqueue()
    except IntegrityError:
        return False
    return True


def _has_allowances(tenant: Tenant) -> bool:
    return any((tenant.allowance_employee, tenant.allowance_lead, tenant.allowance_manager))


def run_schedule(*, now: dt.datetime | None = None) -> list[str]:
    """One tick of the scheduler; returns the (job, scope) names it enqueued."""
    from recognition.allowances import period_bounds

    now = now or timezone.now()
    enqueued: list[str] = []

    def take(job: str, scope: str, enqueue: Callable[[], object], tenant_id: uuid.UUID) -> None:
        if claim(job, scope, enqueue, tenant_id=tenant_id):
            enqueued.append(f"{job} {scope}")

    for tenant in Tenant.objects.filter(status=Tenant.Status.ACTIVE).order_by("pk"):
        local = now.astimezone(ZoneInfo(tenant.timezone))
        tid = str(tenant.pk)
        if _has_allowances(tenant):
            start, end = period_bounds(tenant, now)
            if local.date() >= end - dt.timedelta(days=REMINDER_DAYS):
                take(
                    "allowance_reminder",
                    f"{tid}:{start.isoformat()}",
                    lambda t=tid, s=start: scheduled.send_allowance_reminders.enqueue(
                        tenant_id=t, period_start=s.isoformat()
                    ),
                    tenant.pk,
                )
        if local.weekday() == 0 and local.hour >= DIGEST_HOUR:
            year, week, _ = local.isocalendar()
            label = f"{year}-W{week:02d}"
            take(
                "manager_digest",
                f"{tid}:{label}",
                lambda t=tid, w=label: scheduled.send_manager_digests.enqueue(tenant_id=t, week=w),
                tenant.pk,
            )
        if local.time() >= ROLLUP_AFTER:
            take(
                "insights_rollups",
                f"{tid}:{local.date().isoformat()}",
                lambda t=tid: scheduled.refresh_insights_rollups.enqueue(tenant_id=t),
                tenant.pk,
            )
        if local.hour >= RECONCILE_HOUR:
            take(
                "reconcile",
                f"{tid}:{local.date().isoformat()}",
                lambda s=tenant.slug: scheduled.reconcile_tenant.enqueue(tenant_slug=s),
                tenant.pk,
            )
    # The platform's row, not just its id: a claim whose tenant row were missing would fail its
    # foreign key at commit, which `claim` would read as "already claimed" and never run the job.
    platform = platform_tenant().pk
    take("forfeit_leavers", now.date().isoformat(), lambda: scheduled.forfeit_leavers.enqueue(), platform)
    take(
        "purge_idempotency",
        now.strftime("%Y-%m-%dT%H"),
        lambda: scheduled.purge_idempotency_records.enqueue(),
        platform,
    )
    return enqueued
