"""Teams and member profiles (SPEC §11), and the forfeit log of leavers' wallets.

The profile lives in its own table keyed by the user (`user_id` is its primary key),
so the hot `users` row the login, every permission check and every award lock read
stays narrow, and a page that shows names and photos reads both with one join
(`select_related("profile")`). It carries `tenant_id` like every tenant-owned row, and
its indexes start with it: the birthdays, anniversaries and new hires of a tenant,
the members of a team and the reports of a manager are each one index range.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tenants.fields import TenantForeignKey, TenantOneToOneField, TenantRow
from tenants.models import Tenant


class Team(TenantRow, models.Model):
    """A tenant's team, optionally inside a parent team (no cycles: checked by the service)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="teams", db_index=False)
    name = models.CharField(max_length=120)
    parent = TenantForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        db_table = "teams"
        ordering = ["name"]
        constraints = [
            # Also the index of a tenant's teams (tenant_id first).
            models.UniqueConstraint(fields=["tenant", "name"], name="team_name_unique_per_tenant"),
            models.CheckConstraint(condition=~Q(parent=models.F("id")), name="team_not_its_own_parent"),
        ]

    def __str__(self) -> str:
        return self.name


class Profile(TenantRow, models.Model):
    """What a tenant member is besides a login: title, team, manager, dates, photo.

    `birthday_month`/`birthday_day` (no year) are shown and celebrated only while
    `birthday_consent` is on. `avatar` and `avatar_small` are the 256 px and 64 px
    re-encoded images (metadata stripped), both empty when there is no photo.
    `deactivated_at` is when the member was last deactivated (null while active):
    the forfeit of a leaver's wallet counts its days from it.
    """

    user = TenantOneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="profile"
    )
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", db_index=False)
    title = models.CharField(max_length=120, blank=True)
    team = TenantForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False)
    manager = TenantForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
        db_index=False,
    )
    hire_date = models.DateField(null=True, blank=True)
    birthday_month = models.PositiveSmallIntegerField(null=True, blank=True)
    birthday_day = models.PositiveSmallIntegerField(null=True, blank=True)
    birthday_consent = models.BooleanField(default=False)
    avatar = models.FileField(max_length=255, blank=True, upload_to="avatars/")
    avatar_small = models.FileField(max_length=255, blank=True, upload_to="avatars/")
    deactivated_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "profiles"
        indexes = [
            models.Index(fields=["tenant", "team"], name="profile_tenant_team_idx"),
            models.Index(fields=["tenant", "manager"], name="profile_tenant_manager_idx"),
            models.Index(fields=["tenant", "hire_date"], name="profile_tenant_hire_idx"),
            models.Index(fields=["tenant", "birthday_month", "birthday_day"], name="profile_tenant_birthday_idx"),
            models.Index(
                fields=["tenant", "deactivated_at"],
                name="profile_tenant_deactivated_idx",
                condition=Q(deactivated_at__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(birthday_month__isnull=True) & Q(birthday_day__isnull=True))
                | (
                    # Spelled out: a CHECK on NULL passes, so one half alone must not.
                    Q(birthday_month__isnull=False)
                    & Q(birthday_day__isnull=False)
                    & Q(birthday_month__gte=1)
                    & Q(birthday_month__lte=12)
                    & Q(birthday_day__gte=1)
                    & Q(birthday_day__lte=31)
                ),
                name="profile_birthday_valid",
            ),
            models.CheckConstraint(condition=~Q(manager=models.F("user")), name="profile_not_own_manager"),
        ]

    def __str__(self) -> str:
        return f"Profile of {self.user_id}"

    @property
    def birthday_shown(self) -> tuple[int, int] | None:
        """(month, day) when the member consents to it being shown, else None."""
        if self.birthday_consent and self.birthday_month and self.birthday_day:
            return (self.birthday_month, self.birthday_day)
        return None


class ForfeitLog(TenantRow, models.Model):
    """A leaver's wallet returned to the pool (SPEC §11): the pool side of the wallet's
    DEBIT `FORFEIT` entry, written in the same transaction. Append-only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", db_index=False)
    user = TenantForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # One per ledger entry: the unique (tenant, ledger_entry) below (SPEC §14).
    ledger_entry = TenantForeignKey("wallets.WalletLedger", on_delete=models.PROTECT, related_name="+")
    amount = models.BigIntegerField()
    pool_balance_after = models.BigIntegerField()
    deactivated_at = models.DateTimeField(help_text="The deactivation this forfeit follows.")
    actor = TenantForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "forfeit_log"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="forfeit_tenant_created_idx")]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "ledger_entry"], name="forfeit_one_per_ledger_entry"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="forfeit_amount_positive"),
            models.CheckConstraint(condition=Q(pool_balance_after__gte=0), name="forfeit_pool_after_non_negative"),
        ]

    def __str__(self) -> str:
        return f"Forfeit {self.amount} of {self.user_id}"
