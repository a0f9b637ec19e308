"""Webhook endpoints of a tenant, the deliveries of events to them, and every attempt.

A delivery is one event for one endpoint: its body is rendered once (in the
endpoint's format) and signed afresh on every attempt, so a receiver sees the
same `webhook-id` and the same bytes however often it is retried. Every row
carries `tenant_id`, first in every unique constraint and tenant lookup (SPEC §14).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tenants.fields import TenantForeignKey, TenantRow
from tenants.models import Tenant


class WebhookEndpoint(TenantRow, models.Model):
    class Format(models.TextChoices):
        JSON = "json", "JSON (the event)"
        SLACK = "slack", "Slack incoming webhook"
        TEAMS = "teams", "Microsoft Teams incoming webhook"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="webhook_endpoints", db_index=False)
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, help_text='Event types delivered to this endpoint; ["*"] is every event.')
    format = models.CharField(max_length=8, choices=Format.choices, default=Format.JSON)
    # The signing secret (`whsec_` + base64). It signs every delivery, so it is kept as is; it is shown once.
    secret = models.CharField(max_length=100, editable=False)
    is_active = models.BooleanField(default=True)
    consecutive_failures = models.IntegerField(default=0)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    created_by = TenantForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "webhook_endpoints"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at", "-id"], name="webhook_endpoint_tenant_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(format__in=["json", "slack", "teams"]), name="webhook_format_valid"),
            models.CheckConstraint(condition=Q(consecutive_failures__gte=0), name="webhook_failures_non_negative"),
        ]

    def __str__(self) -> str:
        return self.url

    def wants(self, event_type: str) -> bool:
        return "*" in self.events or event_type in self.events


class WebhookDelivery(TenantRow, models.Model):
    """One event for one endpoint: pending until an attempt succeeds or its retry window closes."""

    class Status(models.TextChoices):
        PENDING = "PENDING", "Pending"
        SUCCEEDED = "SUCCEEDED", "Delivered"
        FAILED = "FAILED", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    endpoint = TenantForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    event_id = models.UUIDField(help_text="The event this delivers; one delivery per endpoint and event.")
    event_type = models.CharField(max_length=64)
    body = models.TextField(help_text="The exact bytes sent (UTF-8), signed on every attempt.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempt_count = models.IntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    retry_until = models.DateTimeField(help_text="No automatic attempt is made after this moment.")
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.IntegerField(null=True, blank=True)
    redeliver_requested = models.BooleanField(default=False, help_text="A manager asked for this delivery again.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        db_table = "webhook_deliveries"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "endpoint", "-created_at", "-id"], name="webhook_delivery_endpoint_idx"),
            # The worker's scan across tenants: only pending rows, by due time.
            models.Index(fields=["next_attempt_at"], name="webhook_delivery_due_idx", condition=Q(status="PENDING")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "endpoint", "event_id"], name="webhook_delivery_once_per_event"),
            models.CheckConstraint(
                condition=Q(status__in=["PENDING", "SUCCEEDED", "FAILED"]), name="webhook_delivery_status_valid"
            ),
            models.CheckConstraint(condition=Q(attempt_count__gte=0), name="webhook_delivery_attempts_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id} ({self.status})"


class WebhookAttempt(TenantRow, models.Model):
    """One HTTP call of a delivery: what came back and how long it took. Append-only."""

    class Trigger(models.TextChoices):
        AUTOMATIC = "AUTOMATIC", "Automatic"
        MANUAL = "MANUAL", "Redelivered by hand"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    delivery = TenantForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts", db_index=False)
    endpoint = TenantForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="+", db_index=False)
    number = models.IntegerField(help_text="1 for the first attempt of the delivery, then 2, 3 …")
    trigger = models.CharField(max_length=10, choices=Trigger.choices, default=Trigger.AUTOMATIC)
    succeeded = models.BooleanField()
    status_code = models.IntegerField(null=True, blank=True, help_text="Empty when no HTTP answer came back.")
    latency_ms = models.IntegerField()
    error = models.CharField(max_length=300, blank=True)
    response_excerpt = models.TextField(blank=True, help_text="The first 1,000 characters of the answer.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        db_table = "webhook_attempts"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "endpoint", "-created_at", "-id"], name="webhook_attempt_endpoint_idx")
        ]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "delivery", "number"], name="webhook_attempt_number_unique"),
            models.CheckConstraint(condition=Q(latency_ms__gte=0), name="webhook_attempt_latency_non_negative"),
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}: {self.status_code or self.error}"
