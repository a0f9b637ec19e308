"""The console's company books: allocation and billing logs, delegations, lead budgets.

All read-only: logs are append-only, and balances move only through the services.
"""

from __future__ import annotations

from django.contrib import admin

from perksu.admin_base import LedgerAdmin
from perksu.admin_site import console

from .models import AllocationLog, DelegationLog, LeadBudget, PlatformBillingLog


@admin.register(AllocationLog, site=console)
class AllocationLogAdmin(LedgerAdmin):
    list_display = ("created_at", "tenant", "kind", "amount", "balance_after", "reference_note", "actor")
    list_filter = ("kind", "tenant")
    # The actor is platform staff, in the platform's tenant: read apart by id, not joined (docs/SCALING.md).
    list_select_related = ("tenant",)
    search_fields = ("reference_note", "tenant__name", "tenant__slug")
    people_apart = ("actor",)
    people_search_fields = ("actor__email",)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("actor")

    csv_columns = [
        ("id", "id"),
        ("created_at", "created_at"),
        ("tenant", "tenant.slug"),
        ("kind", "kind"),
        ("amount", "amount"),
        ("pool_balance_after", "balance_after"),
        ("reference_note", "reference_note"),
        ("actor", "actor.email"),
    ]


@admin.register(PlatformBillingLog, site=console)
class PlatformBillingLogAdmin(LedgerAdmin):
    list_display = ("created_at", "tenant", "transaction_type", "amount", "currency", "reference_note", "admin")
    list_filter = ("transaction_type", "currency", "tenant")
    list_select_related = ("tenant",)  # the admin is read apart by id, as an allocation's actor

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("admin")

    search_fields = ("reference_note", "tenant__name", "tenant__slug")
    people_apart = ("admin",)
    people_search_fields = ("admin__email",)
    csv_columns = [
        ("id", "id"),
        ("created_at", "created_at"),
        ("tenant", "tenant.slug"),
        ("transaction_type", "transaction_type"),
        ("amount", "amount"),
        ("currency", "currency"),
        ("reference_note", "reference_note"),
        ("admin", "admin.email"),
        ("allocation_log_id", "allocation_log_id"),
    ]


@admin.register(DelegationLog, site=console)
class DelegationLogAdmin(LedgerAdmin):
    list_display = (
        "created_at",
        "tenant",
        "kind",
        "lead",
        "amount",
        "pool_balance_after",
        "lead_balance_after",
        "note",
        "actor",
    )
    list_filter = ("kind", "tenant")
    list_select_related = ("tenant", "lead", "actor")
    search_fields = ("note", "lead__email", "lead__full_name", "tenant__name", "tenant__slug")
    csv_columns = [
        ("id", "id"),
        ("created_at", "created_at"),
        ("tenant", "tenant.slug"),
        ("kind", "kind"),
        ("lead", "lead.email"),
        ("amount", "amount"),
        ("pool_balance_after", "pool_balance_after"),
        ("lead_balance_after", "lead_balance_after"),
        ("note", "note"),
        ("actor", "actor.email"),
    ]


@admin.register(LeadBudget, site=console)
class LeadBudgetAdmin(LedgerAdmin):
    """A lead's budget moves only by delegation, recall and lead-funded awards."""

    date_hierarchy = None
    list_display = ("lead", "tenant", "balance", "created_at")
    list_filter = ("tenant",)
    list_select_related = ("tenant", "lead")
    ordering = ("lead__full_name", "lead__email")
    search_fields = ("lead__email", "lead__full_name", "tenant__name", "tenant__slug")
    csv_columns = [
        ("id", "id"),
        ("tenant", "tenant.slug"),
        ("lead", "lead.email"),
        ("lead_name", "lead.full_name"),
        ("balance", "balance"),
    ]
