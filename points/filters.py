"""django-filter FilterSets of the company-side lists.

Every log list filters by `tenant_id` (platform admins; a member's list is
already limited to its own tenant), by its kind, and by a date range:
`created_at_after=YYYY-MM-DD` and `created_at_before=YYYY-MM-DD`, both whole
days and inclusive, in the server's time zone.
"""

from __future__ import annotations

import django_filters

from .models import AllocationLog, DelegationLog, LeadBudget, PlatformBillingLog


class _LogFilter(django_filters.FilterSet):
    tenant_id = django_filters.UUIDFilter(field_name="tenant_id", help_text="Only this tenant's rows.")
    created_at = django_filters.DateFromToRangeFilter(
        help_text="Inclusive date range: `created_at_after=YYYY-MM-DD`, `created_at_before=YYYY-MM-DD`."
    )


class AllocationLogFilter(_LogFilter):
    kind = django_filters.ChoiceFilter(choices=AllocationLog.Kind.choices)

    class Meta:
        model = AllocationLog
        fields = ["tenant_id", "kind", "created_at"]


class BillingLogFilter(_LogFilter):
    transaction_type = django_filters.ChoiceFilter(choices=PlatformBillingLog.TransactionType.choices)

    class Meta:
        model = PlatformBillingLog
        fields = ["tenant_id", "transaction_type", "created_at"]


class DelegationLogFilter(_LogFilter):
    kind = django_filters.ChoiceFilter(choices=DelegationLog.Kind.choices)
    lead_id = django_filters.UUIDFilter(field_name="lead_id", help_text="Only this lead's movements.")

    class Meta:
        model = DelegationLog
        fields = ["tenant_id", "kind", "lead_id", "created_at"]


class LeadBudgetFilter(django_filters.FilterSet):
    lead_id = django_filters.UUIDFilter(field_name="lead_id")
    lead_active = django_filters.BooleanFilter(field_name="lead__is_active", help_text="Only (in)active leads.")

    class Meta:
        model = LeadBudget
        fields = ["lead_id", "lead_active"]
