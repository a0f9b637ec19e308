"""The scheduler: each job enqueued once per period in the tenant's clock, and what each job does."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from events import event_types
from events.models import Event, ScheduledRun
from events.schedule import run_schedule
from events.testing import run_jobs
from recognition.services import recognition_create
from wallets.models import Wallet

pytestmark = pytest.mark.django_db
UTC = dt.UTC


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def test_running_twice_enqueues_each_job_once(tenant):
    first = run_schedule(now=at(2026, 3, 2, 9, 0))  # a Monday, 09:00 UTC
    assert sorted(line.split()[0] for line in first) == [
        "forfeit_leavers",
        "insights_rollups",
        "manager_digest",
        "purge_idempotency",
        "reconcile",
    ]
    assert run_schedule(now=at(2026, 3, 2, 9, 10)) == []
    assert DBTaskResult.objects.count() == 5
    assert run_schedule(now=at(2026, 3, 2, 10, 0)) == ["purge_idempotency 2026-03-02T10"]


def test_times_follow_the_tenants_zone(tenant):
    tenant.timezone = "Asia/Kolkata"  # UTC+05:30
    tenant.save(update_fields=["timezone"])
    # Monday 01:00 UTC is 06:30 in Kolkata: reconcile (from 02:00) is due, the digest (from 08:00) is not.
    names = [line.split()[0] for line in run_schedule(now=at(2026, 3, 2, 1, 0))]
    assert "reconcile" in names and "manager_digest" not in names
    names = [line.split()[0] for line in run_schedule(now=at(2026, 3, 2, 2, 30))]  # 08:00 in Kolkata
    assert "manager_digest" in names


def test_allowance_reminder_three_days_before_the_period_ends_only_for_those_with_points_left(
    tenant, allocate, manager, employee, other_employee
):
    tenant.allowance_employee = 100
    tenant.save(update_fields=["allowance_employee"])
    allocate(tenant, 1_000)
    recognition_create(giver=other_employee, recipient_ids=[employee.pk], points=100, message="All of it")
    mail.outbox.clear()

    assert not [x for x in run_schedule(now=at(2026, 12, 28, 12)) if x.startswith("allowance")]  # 4 days left
    assert [x for x in run_schedule(now=at(2026, 12, 29, 12)) if x.startswith("allowance")]  # 3 days left
    run_jobs()
    reminders = [m for m in mail.outbox if m.extra_headers["X-Perksu-Category"] == "allowance_reminder"]
    # The employee has 100 left; the other gave all of theirs; the manager's allowance is 0.
    assert [m.to for m in reminders] == [[employee.email]]
    assert reminders[0].subject == "100 points left to give, resets on Jan 1, 2027"
    assert "They reset on Jan 1, 2027" in reminders[0].body
    assert not [x for x in run_schedule(now=at(2026, 12, 30, 12)) if x.startswith("allowance")]


def test_the_nightly_reconcile_raises_books_drift_and_tells_platform_admins(
    funded_tenant, manager, employee, platform_admin
):
    Wallet.objects.filter(user=employee).update(balance=999)  # drift, on purpose
    mail.outbox.clear()
    run_schedule(now=at(2026, 3, 3, 3, 0))
    run_jobs()
    event = Event.objects.get(name=event_types.BOOKS_DRIFT)
    assert event.tenant_id == funded_tenant.pk and event.payload["drifts"]
    [message] = [m for m in mail.outbox if m.to == [platform_admin.email]]
    assert message.subject == f"Books drift in {funded_tenant.slug}"


def test_clean_books_raise_nothing(funded_tenant, platform_admin):
    run_schedule(now=at(2026, 3, 3, 3, 0))
    run_jobs()
    assert not Event.objects.filter(name=event_types.BOOKS_DRIFT).exists()


def test_the_weekly_digest_reaches_managers(funded_tenant, manager, employee):
    from events.scheduled import send_manager_digests

    recognition_create(giver=manager, recipient_ids=[employee.pk], points=1_500, message="Great")
    mail.outbox.clear()
    assert send_manager_digests.call(tenant_id=str(funded_tenant.pk), week="2026-W10") == 1
    assert send_manager_digests.call(tenant_id=str(funded_tenant.pk), week="2026-W10") == 1  # the job again
    [digest] = [m for m in mail.outbox if m.extra_headers["X-Perksu-Category"] == "manager_digest"]  # sent once
    assert digest.to == [manager.email]
    assert "1 recognitions, 1,500 points given" in digest.body and employee.full_name in digest.body


def test_the_command_is_the_cron_entry(tenant):
    call_command("run_schedule")
    assert ScheduledRun.objects.filter(job="purge_idempotency").count() == 1
    call_command("run_schedule")
    assert ScheduledRun.objects.filter(job="purge_idempotency").count() == 1
