"""The company side of the books: platform allocations, lead budgets, their logs.

Logs are append-only (SPEC §3): nothing updates or deletes them; on PostgreSQL a
trigger (migration 0002) refuses UPDATE and DELETE.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tenants.fields import TenantForeignKey, TenantRow
from tenants.models import Tenant


class AllocationLog(TenantRow, models.Model):
    """Every platform → tenant pool movement."""

    class Kind(models.TextChoices):
        ALLOCATION = "ALLOCATION", "Allocation"
        CLAWBACK = "CLAWBACK", "Clawback"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="allocation_logs")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount = models.BigIntegerField()
    balance_after = models.BigIntegerField(help_text="The tenant pool after this movement.")
    reference_note = models.CharField(max_length=500, blank=True)
    # A platform admin, whose row is not in this tenant: no constraint through (tenant_id, actor_id).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "allocation_logs"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="alloc_tenant_created_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="allocation_amount_positive"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="allocation_balance_after_non_negative"),
            models.CheckConstraint(condition=Q(kind__in=["ALLOCATION", "CLAWBACK"]), name="allocation_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} → {self.tenant_id}"


class PlatformBillingLog(TenantRow, models.Model):
    """The platform's billing view of the same movements as `AllocationLog`."""

    class TransactionType(models.TextChoices):
        CREDIT_INJECTION = "CREDIT_INJECTION", "Credit injection"
        CLAWBACK = "CLAWBACK", "Clawback"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="billing_logs")
    # One per allocation log: the unique (tenant, allocation_log) below (SPEC §14).
    allocation_log = TenantForeignKey(AllocationLog, on_delete=models.PROTECT, related_name="+")
    transaction_type = models.CharField(max_length=20, choices=TransactionType.choices)
    amount = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reference_note = models.CharField(max_length=500, blank=True)
    # A platform admin, whose row is not in this tenant: no constraint through (tenant_id, admin_id).
    admin = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "platform_billing_logs"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="billing_tenant_created_idx")]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "allocation_log"], name="billing_log_one_per_allocation"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="billing_amount_positive"),
            models.CheckConstraint(
                condition=Q(transaction_type__in=["CREDIT_INJECTION", "CLAWBACK"]), name="billing_type_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_transaction_type_display()} {self.amount} {self.currency}"


class LeadBudget(TenantRow, models.Model):
    """Points a manager delegated to one lead, spendable only by that lead."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="lead_budgets")
    # One per lead: the unique (tenant, lead) below (SPEC §14), which also serves the tenant's lookups.
    lead = TenantForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    balance = models.BigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        db_table = "lead_budgets"
        # No default ordering: it would join users into every query, and a
        # select_for_update() through that join would lock the lead's user row too.
        constraints = [
            models.UniqueConstraint(fields=["tenant", "lead"], name="lead_budget_one_per_lead"),
            models.CheckConstraint(condition=Q(balance__gte=0), name="lead_budget_non_negative"),
        ]

    def __str__(self) -> str:
        return f"Budget of {self.lead_id}: {self.balance}"


class DelegationLog(TenantRow, models.Model):
    """Every pool ↔ lead budget movement."""

    class Kind(models.TextChoices):
        DELEGATION = "DELEGATION", "Delegation"
        RECALL = "RECALL", "Recall"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="delegation_logs")
    lead = TenantForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="delegations")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    amount = models.BigIntegerField()
    pool_balance_after = models.BigIntegerField()
    lead_balance_after = models.BigIntegerField()
    note = models.CharField(max_length=500, blank=True)
    actor = TenantForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        db_table = "delegation_logs"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="delegation_tenant_created_idx"),
            models.Index(fields=["lead", "-created_at"], name="delegation_lead_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="delegation_amount_positive"),
            models.CheckConstraint(condition=Q(kind__in=["DELEGATION", "RECALL"]), name="delegation_kind_valid"),
            models.CheckConstraint(
                condition=Q(pool_balance_after__gte=0) & Q(lead_balance_after__gte=0),
                name="delegation_balances_after_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} ↔ {self.lead_id}"


class KeyedOutcome(models.Model):
    """The outcome of one keyed request, so a retry replays it instead of repeating it.

    See `points.idempotency`. Not a ledger: records are updated (in progress →
    done) and purged after their retention period.
    """

    class State(models.TextChoices):
        IN_PROGRESS = "IN_PROGRESS", "In progress"
        DONE = "DONE", "Done"

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=100, help_text="The endpoint or form the key was sent to.")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the request body.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now)
    backend_pid = models.IntegerField(
        null=True, blank=True, help_text="PostgreSQL: the process id of the database connection holding the claim."
    )
    backend_started_at = models.DateTimeField(
        null=True, blank=True, help_text="PostgreSQL: when that connection started (a process id can be reused)."
    )

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.scope} {self.key} ({self.state})"


class IdempotencyRecord(TenantRow, KeyedOutcome):
    """A tenant member's keyed request, kept with their tenant's rows (SPEC §14): the claim is a
    statement on one tenant, and a key is unique per (tenant, user, scope).

    Platform staff belong to no tenant and their keys span tenants (the same key for an
    allocation to another tenant is a reuse, 422), so their records are kept apart, in
    `PlatformIdempotencyRecord`. `points.idempotency` picks the table by the user.
    """

    # No index of its own: the unique (tenant, user, scope, key) below starts with it.
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    # The member, in this tenant: joins to users match the tenant too (staff's records have none).
    user = TenantForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        db_table = "idempotency_records"
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "user", "scope", "key"], name="idempotency_one_per_tenant_user_scope_key"
            ),
        ]


class PlatformIdempotencyRecord(KeyedOutcome):
    """A platform admin's keyed request (allocations and claw-backs, API and console).

    Kept apart from the tenants' records because staff belong to no tenant and one admin's
    key is unique across every tenant they act on. A small, rarely written table that stays
    on the coordinator when the tenants' tables are distributed (docs/SCALING.md).
    """

    class Meta:
        db_table = "platform_idempotency_records"
        constraints = [
            models.UniqueConstraint(
                fields=["user", "scope", "key"], name="platform_idempotency_one_per_user_scope_key"
            ),
        ]
