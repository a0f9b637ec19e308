"""django-filter FilterSet of the recognition feed.

Dates are whole days, inclusive, in the server's time zone:
`created_at_after=YYYY-MM-DD`, `created_at_before=YYYY-MM-DD`.
"""

from __future__ import annotations

import django_filters
from django.db.models import Q

from .models import Recognition


class RecognitionFilter(django_filters.FilterSet):
    giver_id = django_filters.UUIDFilter(field_name="giver_id", help_text="Given by this user.")
    receiver_id = django_filters.UUIDFilter(field_name="receiver_id", help_text="Received by this user.")
    user_id = django_filters.UUIDFilter(method="filter_user", help_text="Given or received by this user.")
    funding_source = django_filters.ChoiceFilter(choices=Recognition.FundingSource.choices)
    group_id = django_filters.UUIDFilter(
        field_name="group_id", help_text="The rows of one multi-recipient recognition."
    )
    created_at = django_filters.DateFromToRangeFilter(
        help_text="Inclusive date range: `created_at_after=YYYY-MM-DD`, `created_at_before=YYYY-MM-DD`."
    )

    class Meta:
        model = Recognition
        fields = ["giver_id", "receiver_id", "user_id", "funding_source", "group_id", "created_at"]

    def filter_user(self, queryset, name, value):
        return queryset.filter(Q(giver_id=value) | Q(receiver_id=value))
