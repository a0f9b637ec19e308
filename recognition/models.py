"""Recognitions: who thanked whom, with how many points, paid from where."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tenants.fields import TenantForeignKey, TenantRow
from tenants.models import Tenant


class Recognition(TenantRow, models.Model):
    """One row per recipient; the rows of one multi-recipient recognition share `group_id`.

    Append-only (a PostgreSQL trigger refuses UPDATE and DELETE).
    """

    class FundingSource(models.TextChoices):
        POOL = "POOL", "Company pool"
        LEAD_BUDGET = "LEAD_BUDGET", "Lead budget"
        ALLOWANCE = "ALLOWANCE", "Giver's allowance (company pool)"
        NONE = "NONE", "None (kudos)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Looked up through the composite indexes (tenant, …) and (giver, funding_source) below.
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="recognitions", db_index=False)
    # Empty only for an automated award (birthday, anniversary, new hire): the company gives it.
    giver = TenantForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="recognitions_given",
        db_index=False,
    )
    receiver = TenantForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="recognitions_received"
    )
    points = models.BigIntegerField(default=0)
    message = models.TextField(max_length=2000)
    funding_source = models.CharField(max_length=16, choices=FundingSource.choices)
    group_id = models.UUIDField(default=uuid.uuid4, db_index=True)
    # An add-on (SPEC §10) is a recognition of its own whose parent is the original's group.
    parent_id = models.UUIDField(null=True, blank=True)
    # An allowance gift: the start of the giver's allowance period it was counted in
    # (the `period_start` of its AllowanceUsage row), so reconcile sums it exactly.
    allowance_period = models.DateField(null=True, blank=True)
    # db_default: the hand-written INSERTs of the award and the distribution (statements.py) leave it out.
    automated = models.BooleanField(
        default=False, db_default=False, help_text="Given by the company under an automation rule."
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "recognitions"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="recognition_tenant_created_idx"),
            models.Index(fields=["tenant", "funding_source"], name="recognition_tenant_source_idx"),
            models.Index(fields=["giver", "funding_source"], name="recognition_giver_source_idx"),
            models.Index(
                fields=["tenant", "parent_id"],
                name="recognition_tenant_parent_idx",
                condition=Q(parent_id__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(points__gte=0), name="recognition_points_non_negative"),
            models.CheckConstraint(condition=~Q(giver=models.F("receiver")), name="recognition_not_self"),
            # Kudos move nothing; points always name who paid.
            models.CheckConstraint(
                condition=(Q(points=0) & Q(funding_source="NONE"))
                | (Q(points__gt=0) & Q(funding_source__in=["POOL", "LEAD_BUDGET", "ALLOWANCE"])),
                name="recognition_funding_matches_points",
            ),
            # The company gives automated awards, from its pool; every other recognition names its giver.
            models.CheckConstraint(
                condition=Q(automated=False, giver__isnull=False)
                | Q(automated=True, giver__isnull=True, funding_source="POOL"),
                name="recognition_automated_from_pool",
            ),
            # An allowance gift always names its period; nothing else does.
            models.CheckConstraint(
                condition=Q(funding_source="ALLOWANCE", allowance_period__isnull=False)
                | (~Q(funding_source="ALLOWANCE") & Q(allowance_period__isnull=True)),
                name="recognition_allowance_period_matches_source",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.giver_id} → {self.receiver_id}: {self.points}"

    @property
    def giver_name(self) -> str:
        """Who gave it, as shown: the colleague, or the company for an automated award."""
        if self.giver_id is None:
            return self.tenant.name
        return self.giver.full_name or self.giver.email


class AllowanceUsage(TenantRow, models.Model):
    """How much of one member's allowance is given in one period (SPEC §10).

    Created on the member's first gift (or boost) of the period with the limit then in
    force: the role's allowance plus the period's boosts. `given` only rises, by one
    conditional UPDATE (`… WHERE given + n <= limit`), locked after lead budgets and
    before the tenant row. What is not given lapses: nothing moves, the pool keeps it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", db_index=False)
    user = TenantForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="allowance_usages")
    period_start = models.DateField()
    period_end = models.DateField(help_text="The first day after the period.")
    limit = models.BigIntegerField()
    given = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "allowance_usage"
        ordering = ["-period_start", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user", "period_start"], name="allowance_usage_one_per_period"),
            models.CheckConstraint(
                condition=Q(given__gte=0) & Q(given__lte=models.F("limit")), name="allowance_usage_within_limit"
            ),
            models.CheckConstraint(condition=Q(period_end__gt=models.F("period_start")), name="allowance_period_ends"),
        ]
        indexes = [models.Index(fields=["tenant", "period_start"], name="allowance_usage_tenant_period")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.period_start}: {self.given}/{self.limit}"

    @property
    def remaining(self) -> int:
        return self.limit - self.given


class AllowanceBoost(TenantRow, models.Model):
    """A manager raised a member's allowance for one period. Append-only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", db_index=False)
    user = TenantForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="allowance_boosts")
    period_start = models.DateField()
    amount = models.BigIntegerField()
    limit_after = models.BigIntegerField()
    reason = models.CharField(max_length=500)
    actor = TenantForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "allowance_boosts"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "user", "period_start"], name="allowance_boost_member_period")]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="allowance_boost_positive")]

    def __str__(self) -> str:
        return f"+{self.amount} for {self.user_id} ({self.period_start})"


class CompanyValue(TenantRow, models.Model):
    """One of the company's values, named by recognitions (SPEC §10)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", db_index=False)
    name = models.CharField(max_length=80)
    hashtag = models.CharField(max_length=40, help_text="Without the #; matched case-insensitively.")
    description = models.CharField(max_length=500, blank=True)
    is_active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "company_values"
        ordering = ["position", "name"]
        constraints = [
            models.UniqueConstraint("tenant", models.functions.Lower("hashtag"), name="company_value_hashtag_unique"),
            models.UniqueConstraint("tenant", models.functions.Lower("name"), name="company_value_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (#{self.hashtag})"


class RecognitionValue(TenantRow, models.Model):
    """A value named by a recognition group (0–3 per group)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", db_index=False)
    group_id = models.UUIDField()
    value = TenantForeignKey(CompanyValue, on_delete=models.PROTECT, related_name="recognitions")

    class Meta:
        db_table = "recognition_values"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "group_id", "value"], name="recognition_value_once"),
        ]

    def __str__(self) -> str:
        return f"{self.group_id}: {self.value_id}"


class Reaction(TenantRow, models.Model):
    """A member's emoji on a recognition group; toggled on and off."""

    class Emoji(models.TextChoices):
        CLAP = "👏", "👏"
        PARTY = "🎉", "🎉"
        HEART = "❤️", "❤️"
        RAISED_HANDS = "🙌", "🙌"
        BULB = "💡", "💡"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", db_index=False)
    group_id = models.UUIDField()
    user = TenantForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    emoji = models.CharField(max_length=8, choices=Emoji.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "recognition_reactions"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "group_id", "user", "emoji"], name="reaction_once"),
            models.CheckConstraint(condition=Q(emoji__in=["👏", "🎉", "❤️", "🙌", "💡"]), name="reaction_emoji_known"),
        ]

    def __str__(self) -> str:
        return f"{self.emoji} by {self.user_id}"


class Comment(TenantRow, models.Model):
    """A comment on a recognition group. Its author may delete it; a manager may hide it."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+", db_index=False)
    group_id = models.UUIDField()
    author = TenantForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(max_length=1000)
    is_hidden = models.BooleanField(default=False)
    hidden_by = TenantForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "recognition_comments"
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["tenant", "group_id", "created_at"], name="comment_tenant_group_created")]
        constraints = [
            models.CheckConstraint(condition=~Q(text=""), name="comment_text_not_empty"),
        ]

    def __str__(self) -> str:
        return self.text[:60]
