"""The console's recognitions, company values and comments: read-only lists (values are managed by the
tenant's managers, comments hidden by them; the console shows what they did)."""

from __future__ import annotations

from django.contrib import admin

from perksu.admin_base import LedgerAdmin
from perksu.admin_site import console

from .models import Comment, CompanyValue, Recognition


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


@admin.register(CompanyValue, site=console)
class CompanyValueAdmin(LedgerAdmin):
    list_display = ("tenant", "position", "name", "hashtag_text", "is_active", "description", "created_at")
    list_display_links = ("name",)
    list_filter = ("is_active", "tenant")
    list_select_related = ("tenant",)
    search_fields = ("name", "hashtag", "description", "tenant__slug")
    ordering = ("tenant__name", "position", "name")
    csv_columns = [
        ("id", "id"),
        ("tenant", "tenant.slug"),
        ("position", "position"),
        ("name", "name"),
        ("hashtag", "hashtag"),
        ("is_active", "is_active"),
        ("description", "description"),
        ("created_at", "created_at"),
    ]

    @admin.display(description="Hashtag", ordering="hashtag")
    def hashtag_text(self, obj: CompanyValue) -> str:
        return f"#{obj.hashtag}"


@admin.register(Comment, site=console)
class CommentAdmin(LedgerAdmin):
    list_display = ("created_at", "tenant", "author", "short_text", "is_hidden", "hidden_by", "group_id")
    list_filter = ("is_hidden", "tenant")
    list_select_related = ("tenant", "author", "hidden_by")
    search_fields = ("text", "author__email", "author__full_name", "group_id")
    ordering = ("-created_at", "-id")
    csv_columns = [
        ("id", "id"),
        ("created_at", "created_at"),
        ("tenant", "tenant.slug"),
        ("author", "author.email"),
        ("group_id", "group_id"),
        ("is_hidden", "is_hidden"),
        ("hidden_by", "hidden_by.email"),
        ("text", "text"),
    ]

    @admin.display(description="Comment")
    def short_text(self, obj: Comment) -> str:
        return obj.text if len(obj.text) <= 80 else obj.text[:79] + "…"
