"""/manage/settings/: the programme settings (SPEC §9) and the company values (§10), for managers.

Writes go through `tenants.services.tenant_settings_update` (every change logged) and
`recognition.engagement.value_create` / `value_update`; a refusal is a message and
changes nothing.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from perksu.errors import DomainError
from perksu.pages import manager_required
from tenants.models import LOCALES, SettingsChangeLog, Tenant
from tenants.services import SETTINGS_FIELDS, tenant_settings_update

from . import engagement
from .models import CompanyValue


class SettingsForm(forms.ModelForm):
    """The programme settings, validated by the model's own validators."""

    locale = forms.ChoiceField(choices=sorted(LOCALES.items()))

    class Meta:
        model = Tenant
        fields = SETTINGS_FIELDS
        help_texts = {
            "timezone": "IANA name, e.g. Asia/Kolkata. Dates and allowance periods follow it.",
            "allowance_employee": "Points each employee may give colleagues per period (0: none).",
            "allowance_lead": "Per lead and period, on top of the lead budget.",
            "allowance_manager": "Per manager and period (managers award from the pool anyway).",
            "require_value": "A recognition with points must name at least one company value.",
        }


class ValueForm(forms.Form):
    name = forms.CharField(max_length=80)
    hashtag = forms.CharField(max_length=41, help_text="Without spaces, e.g. ownership.")
    description = forms.CharField(max_length=500, required=False)
    position = forms.IntegerField(min_value=0, max_value=10_000, required=False)
    is_active = forms.BooleanField(required=False, initial=True, label="Active")


@manager_required
def programme_settings(request: HttpRequest) -> HttpResponse:
    tenant = Tenant.objects.get(pk=request.user.tenant_id)
    status = 200
    if request.method == "POST":
        form = SettingsForm(request.POST, instance=Tenant.objects.get(pk=tenant.pk))
        if form.is_valid():
            changes = {name: form.cleaned_data[name] for name in SETTINGS_FIELDS}
            try:
                logs = tenant_settings_update(actor=request.user, tenant=tenant, changes=changes)
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, f"Settings saved ({len(logs)} changed)." if logs else "Nothing changed.")
                return redirect("recognition:settings")
        else:
            messages.error(request, "The settings were not saved: please correct the fields marked below.")
        status = 400
    else:
        form = SettingsForm(instance=tenant)
    context = {
        "form": form,
        "values": CompanyValue.objects.filter(tenant_id=tenant.pk).order_by("position", "name"),
        "value_form": ValueForm(),
        "changes": SettingsChangeLog.objects.filter(tenant_id=tenant.pk).select_related("actor")[:20],
    }
    return render(request, "recognition/settings.html", context, status=status)


@manager_required
@require_POST
def value_save(request: HttpRequest, value_id=None) -> HttpResponse:
    form = ValueForm(request.POST)
    if not form.is_valid():
        field, errors = next(iter(form.errors.items()))
        messages.error(request, f"{field}: {errors[0]}")
        return redirect("recognition:settings")
    data = {k: v for k, v in form.cleaned_data.items() if v is not None}
    try:
        if value_id is None:
            data.pop("is_active", None)
            value = engagement.value_create(actor=request.user, **data)
            messages.success(request, f"Value {value.name} added.")
        else:
            value = engagement.value_update(actor=request.user, value_id=value_id, **data)
            messages.success(request, f"Value {value.name} saved.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("recognition:settings")
