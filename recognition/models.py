"""Recognitions: who thanked whom, with how many points, paid from where."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from tenants.models import Tenant


class Recognition(models.Model):
    """One row per recipient; the rows of one multi-recipient recognition share `group_id`.

    Append-only (a PostgreSQL trigger refuses UPDATE and DELETE).
    """

    class FundingSource(models.TextChoices):
        POOL = "POOL", "Company pool"
        LEAD_BUDGET = "LEAD_BUDGET", "Lead budget"
        NONE = "NONE", "None (kudos)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Looked up through the composite indexes (tenant, …) and (giver, funding_source) below.
    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="recognitions", db_index=False)
    giver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="recognitions_given", db_index=False
    )
    receiver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="recognitions_received"
    )
    points = models.BigIntegerField(default=0)
    message = models.TextField(max_length=2000)
    funding_source = models.CharField(max_length=16, choices=FundingSource.choices)
    group_id = models.UUIDField(default=uuid.uuid4, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "recognitions"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "-created_at"], name="recognition_tenant_created_idx"),
            models.Index(fields=["tenant", "funding_source"], name="recognition_tenant_source_idx"),
            models.Index(fields=["giver", "funding_source"], name="recognition_giver_source_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(points__gte=0), name="recognition_points_non_negative"),
            models.CheckConstraint(condition=~Q(giver=models.F("receiver")), name="recognition_not_self"),
            # Kudos move nothing; points always name who paid.
            models.CheckConstraint(
                condition=(Q(points=0) & Q(funding_source="NONE"))
                | (Q(points__gt=0) & Q(funding_source__in=["POOL", "LEAD_BUDGET"])),
                name="recognition_funding_matches_points",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.giver_id} → {self.receiver_id}: {self.points}"
