"""Platform rows — a platform admin's e-mail opt-outs and e-mails, the platform's own scheduled jobs —
carry the platform's own tenant, not NULL (docs/SCALING.md: Citus refuses a NULL distribution
column), and their unique keys, which start with the tenant, still make each happen once."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from events.emails import send_email
from events.models import EmailCategory, EmailDelivery, EmailOptOut, ScheduledRun
from events.schedule import claim, run_schedule
from events.selectors import email_preferences
from events.services import email_opt_out, email_preferences_set
from identity.models import ApiToken
from tenants.models import PLATFORM_TENANT_ID, Tenant

pytestmark = pytest.mark.django_db
DRIFT = EmailCategory.BOOKS_DRIFT


def drift_email(user, key="drift:1"):
    return send_email(
        user=user,
        category=DRIFT,
        key=key,
        subject="Books drift in triton-energy",
        template="books_drift",
        context={"slug": "triton-energy", "drifts": [], "link": "/admin/ledger-health/"},
    )


def test_a_platform_admins_opt_out_carries_the_platform_tenant_and_is_kept_once(platform_admin):
    email_opt_out(user=platform_admin, category=DRIFT)
    email_opt_out(user=platform_admin, category=DRIFT)  # the unsubscribe link followed twice
    [row] = EmailOptOut.objects.filter(user=platform_admin)
    assert (row.tenant_id, row.category) == (PLATFORM_TENANT_ID, DRIFT)
    assert row.tenant.pk == PLATFORM_TENANT_ID  # the related lookup reaches the hidden tenant row
    assert email_preferences(platform_admin) == [(DRIFT.value, DRIFT.label, False)]
    with pytest.raises(IntegrityError), transaction.atomic():
        EmailOptOut.objects.create(tenant_id=PLATFORM_TENANT_ID, user=platform_admin, category=DRIFT)
    assert email_preferences_set(user=platform_admin, enabled={DRIFT: True}) == set()
    assert not EmailOptOut.objects.exists()


def test_an_email_to_a_platform_admin_carries_the_platform_tenant_and_is_sent_once_per_key(platform_admin):
    mail.outbox.clear()
    first = drift_email(platform_admin)
    again = drift_email(platform_admin)  # the job run twice
    assert [m.to for m in mail.outbox] == [[platform_admin.email]]
    assert again.pk == first.pk
    [row] = EmailDelivery.objects.all()
    assert (row.tenant_id, row.status) == (PLATFORM_TENANT_ID, EmailDelivery.Status.SENT)
    with pytest.raises(IntegrityError), transaction.atomic():
        EmailDelivery.objects.create(tenant_id=PLATFORM_TENANT_ID, user=platform_admin, category=DRIFT, key="drift:1")
    # Switched off: the next key is recorded as skipped, in the platform tenant, and not sent.
    email_opt_out(user=platform_admin, category=DRIFT)
    assert drift_email(platform_admin, key="drift:2").status == EmailDelivery.Status.SKIPPED
    assert len(mail.outbox) == 1
    assert set(EmailDelivery.objects.values_list("tenant_id", flat=True)) == {PLATFORM_TENANT_ID}


def test_platform_jobs_are_claimed_once_in_the_platform_tenant(tenant):
    now = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    run_schedule(now=now)
    platform_runs = ScheduledRun.objects.filter(job__in=["forfeit_leavers", "purge_idempotency"])
    assert sorted(platform_runs.values_list("job", "tenant_id")) == [
        ("forfeit_leavers", PLATFORM_TENANT_ID),
        ("purge_idempotency", PLATFORM_TENANT_ID),
    ]
    assert set(ScheduledRun.objects.exclude(pk__in=platform_runs).values_list("tenant_id", flat=True)) == {tenant.pk}
    enqueue = mock.Mock()
    assert claim("forfeit_leavers", "2026-03-02", enqueue, tenant_id=PLATFORM_TENANT_ID) is False
    enqueue.assert_not_called()
    assert ScheduledRun.objects.filter(job="forfeit_leavers").count() == 1
    # The platform's row stays out of every list of customers, the scheduler's included.
    assert list(Tenant.objects.values_list("pk", flat=True)) == [tenant.pk]


def test_a_platform_job_is_claimed_even_after_the_platform_row_was_flushed(tenant):
    """Tests that flush the database take the platform's row with them; the scheduler puts it back
    rather than fail the claim's foreign key, which `claim` would read as "already claimed"."""
    Tenant.with_platform.filter(pk=PLATFORM_TENANT_ID).delete()
    run_schedule(now=dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))
    assert ScheduledRun.objects.get(job="forfeit_leavers").tenant_id == PLATFORM_TENANT_ID
    assert Tenant.with_platform.filter(pk=PLATFORM_TENANT_ID).exists()


OLD = [("events", "0003_tenant_in_unique_keys"), ("identity", "0003_scim_external_id")]


@pytest.mark.django_db(transaction=True)
def test_the_migrations_move_rows_without_a_tenant_into_their_users_or_the_platforms(platform_admin, employee):
    executor = MigrationExecutor(connection)
    try:
        executor.migrate(OLD)
        old = MigrationExecutor(connection).loader.project_state(OLD).apps
        OptOut, Delivery = old.get_model("events", "EmailOptOut"), old.get_model("events", "EmailDelivery")
        Run, Token = old.get_model("events", "ScheduledRun"), old.get_model("identity", "ApiToken")
        admin = platform_admin.pk
        OptOut.objects.create(tenant_id=None, user_id=admin, category="books_drift")
        OptOut.objects.create(tenant_id=PLATFORM_TENANT_ID, user_id=admin, category="books_drift")  # the same, twice
        OptOut.objects.create(tenant_id=None, user_id=admin, category="webhook_disabled")
        Delivery.objects.create(tenant_id=None, user_id=admin, category="books_drift", key="e1:a", status="SENT")
        Delivery.objects.create(tenant_id=None, user_id=employee.pk, category="recognition", key="e2:b")
        Run.objects.create(tenant_id=None, job="forfeit_leavers", scope="2026-03-02")
        Run.objects.create(tenant_id=employee.tenant_id, job="reconcile", scope="x:2026-03-02")
        expires = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
        Token.objects.create(tenant_id=None, user_id=admin, prefix="p", key_hash="a" * 64, expires_at=expires)
        Token.objects.create(
            tenant_id=employee.tenant_id, user_id=employee.pk, prefix="q", key_hash="b" * 64, expires_at=expires
        )
    finally:
        call_command("migrate", verbosity=0)
    platform, customer = PLATFORM_TENANT_ID, employee.tenant_id
    assert sorted(EmailOptOut.objects.values_list("category", "tenant_id")) == [
        ("books_drift", platform),
        ("webhook_disabled", platform),
    ]
    assert sorted(EmailDelivery.objects.values_list("key", "tenant_id", "status")) == [
        ("e1:a", platform, "SENT"),
        ("e2:b", customer, "PENDING"),  # a member's row without a tenant takes the member's
    ]
    assert sorted(ScheduledRun.objects.values_list("job", "tenant_id")) == [
        ("forfeit_leavers", platform),
        ("reconcile", customer),
    ]
    assert sorted(ApiToken.objects.values_list("prefix", "tenant_id")) == [("p", platform), ("q", customer)]


def test_the_console_shows_an_email_to_a_platform_admin_with_its_tenant(client, platform_admin):
    delivery = drift_email(platform_admin)
    client.force_login(platform_admin)
    listed = client.get("/admin/events/emaildelivery/")
    assert listed.status_code == 200 and "Books drift in triton-energy" in listed.content.decode()
    detail = client.get(f"/admin/events/emaildelivery/{delivery.pk}/change/")
    assert detail.status_code == 200
    assert "Perksu platform staff" in detail.content.decode()  # the hidden tenant row, by its name
