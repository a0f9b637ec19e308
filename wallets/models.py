"""Employees' own points: wallets, their ledger, the reward catalog, redemptions."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tenants.fields import TenantForeignKey, TenantRow
from tenants.models import Tenant


class Wallet(TenantRow, models.Model):
    """One per tenant member. `balance = lifetime_earned − lifetime_spent`.

    `last_entry_no` numbers the wallet's ledger lines (1, 2, 3, …) like a bank
    statement: it is bumped under the wallet's row lock, and the ledger's unique
    (wallet, entry_no) makes any write that skipped the lock fail loudly
    instead of losing an update.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="wallets")
    # One per member, by the (tenant, user) unique below. A ForeignKey rather than a
    # OneToOneField, whose unique on user alone Citus refuses (SPEC §14): `user.wallets.get()`;
    # `wallet__…` still reads from the user's side in queries.
    user = TenantForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="wallets", related_query_name="wallet"
    )
    balance = models.BigIntegerField(default=0, editable=False)
    lifetime_earned = models.BigIntegerField(default=0, editable=False)
    lifetime_spent = models.BigIntegerField(default=0, editable=False)
    last_entry_no = models.BigIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        db_table = "wallets"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="wallet_one_per_user"),
            models.CheckConstraint(condition=Q(balance__gte=0), name="wallet_balance_non_negative"),
            models.CheckConstraint(
                condition=Q(lifetime_earned__gte=0) & Q(lifetime_spent__gte=0) & Q(last_entry_no__gte=0),
                name="wallet_counters_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"Wallet of {self.user_id}: {self.balance}"


class WalletLedger(TenantRow, models.Model):
    """Every wallet movement, append-only."""

    class EntryType(models.TextChoices):
        CREDIT = "CREDIT", "Credit"
        DEBIT = "DEBIT", "Debit"

    class Source(models.TextChoices):
        RECOGNITION = "RECOGNITION", "Recognition"
        REDEMPTION = "REDEMPTION", "Redemption"
        REFUND = "REFUND", "Refund"
        ADJUSTMENT = "ADJUSTMENT", "Adjustment"
        FORFEIT = "FORFEIT", "Forfeit (leaver's wallet returned to the pool)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Both looked up through composite indexes below (tenant, -created_at) and unique (wallet, entry_no).
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", db_index=False)
    wallet = TenantForeignKey(Wallet, on_delete=models.PROTECT, related_name="entries", db_index=False)
    entry_no = models.BigIntegerField(help_text="Position in the wallet's ledger, from 1.")
    entry_type = models.CharField(max_length=8, choices=EntryType.choices)
    source = models.CharField(max_length=16, choices=Source.choices)
    amount = models.BigIntegerField()
    balance_after = models.BigIntegerField()
    actor = TenantForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    recognition = TenantForeignKey(
        "recognition.Recognition", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    redemption = TenantForeignKey(
        "wallets.Redemption", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_entries"
    )
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "wallet_ledger"
        ordering = ["-created_at", "-entry_no"]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="ledger_tenant_created_idx"),
            # The console lists the whole ledger newest first (no tenant filter).
            models.Index(fields=["-created_at", "-entry_no"], name="ledger_created_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "wallet", "entry_no"], name="ledger_one_entry_per_position"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="ledger_amount_positive"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="ledger_balance_after_non_negative"),
            models.CheckConstraint(condition=Q(entry_no__gte=1), name="ledger_entry_no_positive"),
            # The entry type follows from the source, and the reference matches it.
            models.CheckConstraint(
                condition=(Q(source="RECOGNITION", entry_type="CREDIT", recognition__isnull=False))
                | Q(source="REDEMPTION", entry_type="DEBIT", redemption__isnull=False)
                | Q(source="REFUND", entry_type="CREDIT", redemption__isnull=False)
                | Q(source="ADJUSTMENT", entry_type__in=["CREDIT", "DEBIT"])
                | Q(source="FORFEIT", entry_type="DEBIT"),
                name="ledger_source_matches_type_and_reference",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.entry_type} {self.amount} ({self.source})"


class Reward(TenantRow, models.Model):
    """An item of a tenant's catalog."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="rewards")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    points_cost = models.BigIntegerField()
    stock = models.PositiveIntegerField(null=True, blank=True, help_text="Empty means unlimited.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        db_table = "rewards"
        ordering = ["points_cost", "name"]
        indexes = [models.Index(fields=["tenant", "is_active"], name="reward_tenant_active_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(points_cost__gt=0) & Q(points_cost__lte=1_000_000_000), name="reward_cost_in_range"
            ),
            models.CheckConstraint(condition=Q(stock__isnull=True) | Q(stock__gte=0), name="reward_stock_non_negative"),
        ]

    def __str__(self) -> str:
        return self.name


class Redemption(TenantRow, models.Model):
    """A reward bought with wallet points; refunded at most once."""

    class Status(models.TextChoices):
        ISSUED = "ISSUED", "Issued"
        REFUNDED = "REFUNDED", "Refunded"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="redemptions")
    user = TenantForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="redemptions")
    reward = TenantForeignKey(Reward, on_delete=models.PROTECT, related_name="redemptions")
    points_spent = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ISSUED)
    # Unique across tenants through `VoucherCode` (claimed by the same transaction), not here: a
    # unique index without tenant_id cannot be kept on a table distributed by tenant.
    voucher_code = models.CharField(max_length=32)
    created_at = models.DateTimeField(default=timezone.now)
    refunded_at = models.DateTimeField(null=True, blank=True)
    refunded_by = TenantForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        db_table = "redemptions"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="redemption_tenant_created_idx"),
            models.Index(fields=["user", "-created_at"], name="redemption_user_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(points_spent__gt=0), name="redemption_points_positive"),
            models.CheckConstraint(
                condition=Q(status="ISSUED", refunded_at__isnull=True)
                | Q(status="REFUNDED", refunded_at__isnull=False),
                name="redemption_status_matches_refund_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reward_id} for {self.user_id} ({self.status})"


class VoucherCode(models.Model):
    """Which redemption holds each voucher code: the one place a code is unique across tenants.

    `redemptions` is distributed by tenant on Citus (docs/SCALING.md), where a unique index must
    include the tenant, so this small table keeps the codes and is a reference table there (a copy on
    every node). It has no foreign keys: `tenant_id` and `redemption_id` are plain columns, written by
    `wallets.services.redemption_create` in the redemption's transaction and checked by reconcile.
    """

    code = models.CharField(max_length=32, primary_key=True)
    tenant_id = models.UUIDField()
    redemption_id = models.UUIDField(unique=True)

    class Meta:
        db_table = "voucher_codes"

    def __str__(self) -> str:
        return f"{self.code} → {self.redemption_id}"
