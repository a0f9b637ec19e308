"""The console's people part: teams, profiles, and the CSV import for any tenant.

Writes go through `people.services` and `people.imports`; the import page is registered
on the console from here (`console.register_page`), behind its platform-admin check.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from perksu.admin_base import PlatformAdminMixin, ServiceErrorsMixin
from perksu.admin_site import console
from perksu.errors import DomainError
from tenants.models import Tenant

from . import services
from .imports import members_import
from .models import ForfeitLog, Profile, Team


@admin.register(Team, site=console)
class TeamAdmin(ServiceErrorsMixin, PlatformAdminMixin, admin.ModelAdmin):
    list_display = ("name", "tenant", "parent", "created_at")
    list_filter = ("tenant",)
    list_select_related = ("tenant", "parent")
    search_fields = ("name", "tenant__name")
    fields = ("tenant", "name", "parent")

    def get_readonly_fields(self, request, obj=None):
        return ("tenant",) if obj else ()

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.team_update(team=Team.objects.get(pk=obj.pk), name=data["name"], parent=data.get("parent"))
        else:
            created = services.team_create(tenant=data["tenant"], name=data["name"], parent=data.get("parent"))
            obj.pk, obj._state.adding = created.pk, False


class ProfileForm(forms.ModelForm):
    class Meta:
        model = Profile
        fields = ("title", "team", "manager", "hire_date", "birthday_month", "birthday_day", "birthday_consent")


@admin.register(Profile, site=console)
class ProfileAdmin(ServiceErrorsMixin, PlatformAdminMixin, admin.ModelAdmin):
    """Profiles are created with their member; edited here through `profile_update` (same checks
    as the pages: team and manager of the member's tenant, no reporting loops)."""

    form = ProfileForm
    list_display = ("user", "tenant", "title", "team", "manager", "hire_date", "deactivated_at")
    list_filter = ("tenant",)
    list_select_related = ("user", "tenant", "team", "manager")
    search_fields = ("user__email", "user__full_name", "title")
    raw_id_fields = ("manager", "team")

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        month, day = data.get("birthday_month"), data.get("birthday_day")
        if (month is None) != (day is None):
            raise DomainError("Give both the month and the day of the birthday, or neither.")
        services.profile_update(
            user=obj.user,
            actor=request.user,
            title=data.get("title", ""),
            team=data.get("team"),
            manager=data.get("manager"),
            hire_date=data.get("hire_date"),
            birthday=(month, day) if month else None,
            birthday_consent=data.get("birthday_consent", False),
        )


@admin.register(ForfeitLog, site=console)
class ForfeitLogAdmin(PlatformAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "tenant", "user", "amount", "pool_balance_after", "deactivated_at")
    list_filter = ("tenant",)
    list_select_related = ("tenant", "user")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ConsoleImportForm(forms.Form):
    tenant = forms.ModelChoiceField(queryset=Tenant.objects.order_by("name"))
    file = forms.FileField(label="CSV file")
    apply = forms.BooleanField(label="Apply (unticked: a dry run)", required=False)
    deactivate_missing = forms.BooleanField(label="Deactivate members missing from the file", required=False)


def import_view(request: HttpRequest) -> HttpResponse:
    form = ConsoleImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        result = members_import(
            tenant=form.cleaned_data["tenant"],
            actor=None,
            data=form.cleaned_data["file"].read(),
            dry_run=not form.cleaned_data["apply"],
            deactivate_missing=form.cleaned_data["deactivate_missing"],
        )
    context = {
        **console.each_context(request),
        "title": "Import members (CSV)",
        "form": form,
        "result": result,
        "shown_rows": result.rows[:500] if result else [],
    }
    return TemplateResponse(request, "admin/people/import.html", context)


console.register_page("people/import/", import_view, name="people_import")
