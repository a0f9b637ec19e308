"""The console's recognitions: read-only, like every log."""

from __future__ import annotations

from django.contrib import admin

from perksu.admin_base import LedgerAdmin
from perksu.admin_site import console

from .models import Recognition


@admin.register(Recognition, site=console)
class RecognitionAdmin(LedgerAdmin):
    list_display = ("created_at", "tenant", "giver", "receiver", "points", "funding_source", "short_message")
    list_filter = ("funding_source", "tenant")
    list_select_related = ("tenant", "giver", "receiver")
    search_fields = ("message", "giver__email", "giver__full_name", "receiver__email", "receiver__full_name")
    csv_columns = [
        ("id", "id"),
        ("created_at", "created_at"),
        ("tenant", "tenant.slug"),
        ("giver", "giver.email"),
        ("receiver", "receiver.email"),
        ("points", "points"),
        ("funding_source", "funding_source"),
        ("group_id", "group_id"),
        ("message", "message"),
    ]

    @admin.display(description="Message")
    def short_message(self, obj: Recognition) -> str:
        return obj.message if len(obj.message) <= 80 else obj.message[:79] + "…"
