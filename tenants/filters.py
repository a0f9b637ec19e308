"""django-filter FilterSets of the tenant and user lists."""

from __future__ import annotations

import django_filters
from django.db.models import Q

from .models import Role, Tenant, User


class TenantFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Tenant.Status.choices)
    slug = django_filters.CharFilter(field_name="slug", lookup_expr="iexact")
    name = django_filters.CharFilter(field_name="name", lookup_expr="icontains", help_text="Part of the name.")

    class Meta:
        model = Tenant
        fields = ["status", "slug", "name"]


class UserFilter(django_filters.FilterSet):
    tenant_id = django_filters.UUIDFilter(field_name="tenant_id", help_text="Platform admins: only this tenant.")
    role = django_filters.ChoiceFilter(choices=Role.choices)
    is_active = django_filters.BooleanFilter()
    email = django_filters.CharFilter(field_name="email", lookup_expr="iexact")
    search = django_filters.CharFilter(method="filter_search", help_text="Part of the name or the email.")

    class Meta:
        model = User
        fields = ["tenant_id", "role", "is_active", "email", "search"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(full_name__icontains=value) | Q(email__icontains=value))
