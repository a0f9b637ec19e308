"""Events (the outbox), in-app notifications, e-mail preferences and deliveries, scheduled runs."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tenants.fields import TenantForeignKey, TenantRow


class Event(TenantRow, models.Model):
    """One business event, written in the same transaction as the change it reports.

    `dispatched_at` is set when the dispatcher has enqueued the event's consumer
    jobs (in the same transaction as those jobs); until then the row is pending.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False)
    name = models.CharField(max_length=64)
    payload = models.JSONField(default=dict)
    actor_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "events"
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["tenant", "created_at", "id"], name="events_tenant_created_idx"),
            models.Index(fields=["created_at"], name="events_pending_idx", condition=Q(dispatched_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.id}"


class Notification(TenantRow, models.Model):
    """An in-app notice for one member, made from one event (at most one per member, event and kind)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False)
    user = TenantForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False)
    event = TenantForeignKey(Event, on_delete=models.PROTECT, related_name="+", null=True, blank=True)
    kind = models.CharField(max_length=64)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "notifications"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "user", "-created_at", "-id"], name="notifications_list_idx"),
            models.Index(fields=["tenant", "user"], name="notifications_unread_idx", condition=Q(read_at__isnull=True)),
        ]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user", "event", "kind"], name="notification_once_per_event"),
        ]

    def __str__(self) -> str:
        return self.title


class EmailCategory(models.TextChoices):
    RECOGNITION = "recognition", "You were recognised"
    COMMENT = "comment", "A comment on your recognition"
    VOUCHER = "voucher", "Your voucher"
    ALLOWANCE_REMINDER = "allowance_reminder", "Allowance reminder"
    MANAGER_DIGEST = "manager_digest", "Weekly manager digest"
    POOL_LOW_BALANCE = "pool_low_balance", "Pool low balance"
    BOOKS_DRIFT = "books_drift", "Books drift (platform admins)"
    WEBHOOK_DISABLED = "webhook_disabled", "Webhook endpoint disabled"


class EmailOptOut(TenantRow, models.Model):
    """A member switched an e-mail category off (the absence of a row means on).

    One row per (tenant, user, category) (SPEC §14). A platform admin's rows carry the
    platform's own tenant (`tenants.models.PLATFORM_TENANT_ID`), where staff's user rows sit.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False)
    user = TenantForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=32, choices=EmailCategory.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "email_opt_outs"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user", "category"], name="email_opt_out_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.category}"


class EmailDelivery(TenantRow, models.Model):
    """One e-mail to one person, keyed so that a job run twice sends it once.

    `key` is globally unique by construction (it names an event id, or a tenant,
    person and period); the unique constraint still leads with the tenant (SPEC §14).
    E-mails to platform admins carry the platform's own tenant, the tenant of their user row.
    """

    class Status(models.TextChoices):
        PENDING = "PENDING", "Pending"
        SENT = "SENT", "Sent"
        SKIPPED = "SKIPPED", "Switched off by the member"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False)
    user = TenantForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    category = models.CharField(max_length=32, choices=EmailCategory.choices)
    key = models.CharField(max_length=200)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    subject = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "email_deliveries"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "created_at"], name="email_deliveries_tenant_idx")]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "key"], name="email_delivery_once"),
        ]

    def __str__(self) -> str:
        return self.subject or self.key


class ScheduledRun(TenantRow, models.Model):
    """A scheduled job claimed for one tenant and one period: the key of `run_schedule`'s idempotence.

    `scope` names the tenant (or `platform`) and the period (a date or week), so
    running the scheduler again in the same period finds the row and does nothing. The
    unique constraint leads with the tenant (SPEC §14); platform-wide jobs carry the
    platform's own tenant (`tenants.models.PLATFORM_TENANT_ID`).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.PROTECT, related_name="+", db_index=False)
    job = models.CharField(max_length=64)
    scope = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "scheduled_runs"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "job", "scope"], name="scheduled_run_once"),
        ]

    def __str__(self) -> str:
        return f"{self.job} {self.scope}"
