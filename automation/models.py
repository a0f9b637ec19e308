"""Automated awards (SPEC §12): a tenant's rules, the at-most-once key of every award, and each day's run."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tenants.fields import TenantForeignKey, TenantRow
from tenants.models import Tenant


class AwardRule(TenantRow, models.Model):
    """One rule per kind and tenant: who is celebrated, with how many points, in which words."""

    class Kind(models.TextChoices):
        BIRTHDAY = "BIRTHDAY", "Birthday"
        ANNIVERSARY = "ANNIVERSARY", "Work anniversary"
        NEW_HIRE = "NEW_HIRE", "New hire welcome"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    is_active = models.BooleanField(default=False)
    points = models.BigIntegerField(default=0, help_text="Birthday and new hire: points per award.")
    milestones = models.JSONField(
        default=dict, blank=True, help_text='Anniversary: years → points, e.g. {"1": 100, "5": 1000}.'
    )
    days_after_hire = models.IntegerField(default=0, help_text="New hire: the award is paid this many days after.")
    message_template = models.CharField(max_length=500)
    updated_by = TenantForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "automation_rules"
        ordering = ["kind"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "kind"], name="automation_rule_one_per_kind"),
            models.CheckConstraint(
                condition=Q(kind__in=["BIRTHDAY", "ANNIVERSARY", "NEW_HIRE"]), name="automation_rule_kind_valid"
            ),
            models.CheckConstraint(condition=Q(points__gte=0), name="automation_rule_points_non_negative"),
            models.CheckConstraint(condition=Q(days_after_hire__gte=0), name="automation_rule_days_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({'on' if self.is_active else 'off'})"


class AutomatedAward(TenantRow, models.Model):
    """The key that pays each (rule, member, date) at most once, however often or concurrently the run goes.

    Inserted in the same transaction as the award it stands for: a second run
    collides on the unique constraint (waiting for the first to commit or roll
    back) and pays nothing.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", db_index=False)
    rule = TenantForeignKey(AwardRule, on_delete=models.PROTECT, related_name="awards", db_index=False)
    user = TenantForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False)
    occasion_date = models.DateField(help_text="The day celebrated, in the tenant's time zone.")
    points = models.BigIntegerField()
    recognition_group_id = models.UUIDField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "automated_awards"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "rule", "user", "occasion_date"], name="automated_award_once_per_occasion"
            ),
            models.CheckConstraint(condition=Q(points__gt=0), name="automated_award_points_positive"),
        ]
        indexes = [models.Index(fields=["tenant", "-created_at", "-id"], name="automated_award_tenant_idx")]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.user_id} {self.occasion_date}"


class AutomationRun(TenantRow, models.Model):
    """A tenant's daily run: what was due, what was paid, and why it was skipped."""

    class Status(models.TextChoices):
        PAID = "PAID", "Paid"
        NOTHING_DUE = "NOTHING_DUE", "Nothing due"
        SKIPPED = "SKIPPED", "Skipped: the pool could not pay"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", db_index=False)
    run_date = models.DateField()
    status = models.CharField(max_length=12, choices=Status.choices)
    due = models.IntegerField(default=0)
    paid = models.IntegerField(default=0)
    points_required = models.BigIntegerField(default=0)
    points_paid = models.BigIntegerField(default=0)
    pool_available = models.BigIntegerField(null=True, blank=True)
    detail = models.CharField(max_length=500, blank=True)
    managers_notified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "automation_runs"
        ordering = ["-run_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "run_date"], name="automation_run_one_per_day"),
            models.CheckConstraint(
                condition=Q(status__in=["PAID", "NOTHING_DUE", "SKIPPED"]), name="automation_run_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.run_date} {self.status}"
