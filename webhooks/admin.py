"""The console's webhooks: every tenant's endpoints and deliveries, read-only, with redelivery by hand."""

from __future__ import annotations

from django.contrib import admin

from perksu.admin_base import PlatformAdminMixin, run_for_each
from perksu.admin_site import console

from . import services
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


class ReadOnly(PlatformAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookEndpoint, site=console)
class WebhookEndpointAdmin(ReadOnly):
    list_display = ("url", "tenant", "format", "is_active", "consecutive_failures", "created_at")
    list_filter = ("format", "is_active", "tenant")
    list_select_related = ("tenant",)
    search_fields = ("url", "description")
    exclude = ("secret",)


class AttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ("number", "created_at", "trigger", "succeeded", "status_code", "latency_ms", "error", "response_excerpt")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("number",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookDelivery, site=console)
class WebhookDeliveryAdmin(ReadOnly):
    list_display = ("created_at", "tenant", "endpoint", "event_type", "status", "attempt_count", "next_attempt_at")
    list_filter = ("status", "event_type", "tenant")
    list_select_related = ("tenant", "endpoint")
    search_fields = ("id", "event_id", "endpoint__url")
    inlines = [AttemptInline]
    actions = ["redeliver"]

    @admin.action(description="Redeliver the selected deliveries now")
    def redeliver(self, request, queryset):
        run_for_each(
            request,
            queryset,
            lambda d: services.delivery_redeliver(actor=request.user, delivery_id=d.pk),
            done="Queued for redelivery",
        )
