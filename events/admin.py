"""The console's view of events and jobs: the outbox, e-mail deliveries, and the job queue.

Failed jobs are listed with their traceback (Task results, filter "Failed") and
a platform admin runs them again with the action "Run again" — as a first
attempt, so the job gets its full series of retries; the failed row stays.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django_tasks_db.admin import DBTaskResultAdmin
from django_tasks_db.models import DBTaskResult

from perksu.admin_base import PlatformAdminMixin
from perksu.admin_site import console

from .jobs import run_again
from .models import EmailDelivery, Event


class ReadOnlyAdmin(PlatformAdminMixin, admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Event, site=console)
class EventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "name", "tenant", "dispatched_at")
    list_filter = ("name", "tenant")
    list_select_related = ("tenant",)
    readonly_fields = ("id", "tenant", "name", "payload", "actor_id", "created_at", "dispatched_at")
    ordering = ("-created_at",)


@admin.register(EmailDelivery, site=console)
class EmailDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "category", "user", "status", "subject", "sent_at")
    list_filter = ("status", "category")
    search_fields = ("user__email", "subject")
    list_select_related = ("user",)
    readonly_fields = ("id", "tenant", "user", "category", "key", "status", "subject", "created_at", "sent_at")


@admin.register(DBTaskResult, site=console)
class JobAdmin(PlatformAdminMixin, DBTaskResultAdmin):
    list_display = ("enqueued_at", "task_name", "status", "attempt", "run_after", "started_at", "finished_at")
    actions = ["run_again_action"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="attempt")
    def attempt(self, obj: DBTaskResult) -> int:
        return (obj.args_kwargs or {}).get("kwargs", {}).get("attempt", 1)

    @admin.action(description="Run again (failed jobs)")
    def run_again_action(self, request, queryset) -> None:
        count = 0
        for result in queryset.filter(status="FAILED"):
            run_again(result)
            count += 1
        messages.success(request, f"{count} failed job(s) queued to run again.")
