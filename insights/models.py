"""Rollups of closed days and months, so a period's figures read a few thousand rows, not a million.

They are derived data, never the books: each is rebuilt from the source rows by
`insights.rollups` (one tenant and a range of days, or one month, in one
transaction, delete + insert), for a *closed* day or month only — one that has
ended in the tenant's timezone — and checked by `reconcile` against a rebuild.

- `RollupDay` marks a closed local day as built, with the fingerprint of the team
  assignments it was built with (`teams_key`): a member changing team changes the
  fingerprint, and a day built with another one is rebuilt before it is read.
- `TeamDay`: recognitions and points received per (day, receiver's team, funding source).
- `ValueDay`: the same per (day, receiver's team, company value) — a recognition naming
  two values counts under each.
- `PayrollMonth` marks a closed local month as built; `PayrollWalletMonth` holds the
  payroll export's sums of the ledger per (month, wallet).

Every primary key starts with the tenant (SPEC §14, so the tables distribute by tenant): the
natural key where there is one — (tenant, day), (tenant, month), (tenant, month, wallet),
(tenant, member) — and (tenant, id) with an id from the application where there is none.
No table draws from a sequence.

Team, value and wallet are plain ids, not foreign keys: a rollup row must never
block or cascade a change to what it summarises (reconcile finds a row that no
longer matches its sources).
"""

from __future__ import annotations

import uuid

from django.db import models

from tenants.models import Tenant


class RollupDay(models.Model):
    pk = models.CompositePrimaryKey("tenant", "day")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    teams_key = models.CharField(max_length=64)
    built_at = models.DateTimeField()

    class Meta:
        db_table = "insights_rollup_days"

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.day}"


class TeamDay(models.Model):
    pk = models.CompositePrimaryKey("tenant", "id")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    id = models.UUIDField(default=uuid.uuid4, editable=False)
    day = models.DateField()
    team_id = models.UUIDField(null=True)
    funding_source = models.CharField(max_length=16)
    recognitions = models.BigIntegerField()
    points = models.BigIntegerField()

    class Meta:
        db_table = "insights_team_days"
        indexes = [models.Index(fields=["tenant", "day"], name="insights_team_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.team_id} {self.funding_source}: {self.recognitions}"


class ValueDay(models.Model):
    pk = models.CompositePrimaryKey("tenant", "id")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    id = models.UUIDField(default=uuid.uuid4, editable=False)
    day = models.DateField()
    team_id = models.UUIDField(null=True)
    value_id = models.UUIDField()
    recognitions = models.BigIntegerField()
    points = models.BigIntegerField()

    class Meta:
        db_table = "insights_value_days"
        indexes = [models.Index(fields=["tenant", "day"], name="insights_value_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} {self.team_id} {self.value_id}: {self.recognitions}"


class PayrollMonth(models.Model):
    pk = models.CompositePrimaryKey("tenant", "month")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    month = models.DateField()
    """The first day of the month, in the tenant's calendar."""
    built_at = models.DateTimeField()

    class Meta:
        db_table = "insights_payroll_months"

    def __str__(self) -> str:
        return f"{self.tenant_id} {self.month:%Y-%m}"


class PayrollWalletMonth(models.Model):
    pk = models.CompositePrimaryKey("tenant", "month", "wallet_id")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    month = models.DateField()
    wallet_id = models.UUIDField()
    received_recognition = models.BigIntegerField()
    received_adjustment = models.BigIntegerField()
    redemptions = models.BigIntegerField()
    redeemed_points = models.BigIntegerField()
    refunded_points = models.BigIntegerField()
    other_debits = models.BigIntegerField()

    class Meta:
        db_table = "insights_payroll_wallet_months"

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.wallet_id}"


class MemberRollup(models.Model):
    """How far `MemberLast` is built: every recognition of the tenant's closed days up to `through`."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="+", primary_key=True)
    through = models.DateField()

    class Meta:
        db_table = "insights_member_rollups"

    def __str__(self) -> str:
        return f"{self.tenant_id} through {self.through}"


class MemberLast(models.Model):
    """A member's newest recognition received up to the end of `MemberRollup.through`."""

    pk = models.CompositePrimaryKey("tenant", "user_id")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", db_index=False)
    user_id = models.UUIDField()
    last_received_at = models.DateTimeField()

    class Meta:
        db_table = "insights_member_last"

    def __str__(self) -> str:
        return f"{self.user_id}: {self.last_received_at}"
