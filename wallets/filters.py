"""django-filter FilterSets of the wallet ledger, the reward catalog and redemptions.

Dates are whole days, inclusive, in the server's time zone:
`created_at_after=YYYY-MM-DD`, `created_at_before=YYYY-MM-DD`.
"""

from __future__ import annotations

import django_filters
from django.db.models import Q

from .models import Redemption, Reward, WalletLedger

DATE_RANGE_HELP = "Inclusive date range: `created_at_after=YYYY-MM-DD`, `created_at_before=YYYY-MM-DD`."


class LedgerFilter(django_filters.FilterSet):
    source = django_filters.ChoiceFilter(choices=WalletLedger.Source.choices)
    entry_type = django_filters.ChoiceFilter(choices=WalletLedger.EntryType.choices)
    type = django_filters.ChoiceFilter(
        field_name="entry_type", choices=WalletLedger.EntryType.choices, help_text="Same as `entry_type`."
    )
    created_at = django_filters.DateFromToRangeFilter(help_text=DATE_RANGE_HELP)

    class Meta:
        model = WalletLedger
        fields = ["source", "entry_type", "type", "created_at"]


class RewardFilter(django_filters.FilterSet):
    is_active = django_filters.BooleanFilter(help_text="Managers: only (in)active rewards. Members see active ones.")
    points_cost_max = django_filters.NumberFilter(field_name="points_cost", lookup_expr="lte")
    in_stock = django_filters.BooleanFilter(method="filter_in_stock", help_text="Only rewards with stock left.")

    class Meta:
        model = Reward
        fields = ["is_active", "points_cost_max", "in_stock"]

    def filter_in_stock(self, queryset, name, value):
        in_stock = Q(stock__isnull=True) | Q(stock__gt=0)
        return queryset.filter(in_stock) if value else queryset.exclude(in_stock)


class RedemptionFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Redemption.Status.choices)
    reward_id = django_filters.UUIDFilter(field_name="reward_id")
    user_id = django_filters.UUIDFilter(field_name="user_id", help_text="Managers: one member's redemptions.")
    created_at = django_filters.DateFromToRangeFilter(help_text=DATE_RANGE_HELP)

    class Meta:
        model = Redemption
        fields = ["status", "reward_id", "user_id", "created_at"]
