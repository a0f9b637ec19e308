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
from tenants.forms import ProgrammeSettingsForm
from tenants.models import SettingsChangeLog, Tenant
from tenants.services import tenant_settings_update

from . import engagement
from .models import CompanyValue


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
        form = ProgrammeSettingsForm(request.POST, instance=Tenant.objects.get(pk=tenant.pk))
        if form.is_valid():
            try:
                logs = tenant_settings_update(actor=request.user, tenant=tenant, changes=form.changes())
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, f"Settings saved ({len(logs)} changed)." if logs else "Nothing changed.")
                return redirect("recognition:settings")
        else:
            messages.error(request, "The settings were not saved: please correct the fields marked below.")
        status = 400
    else:
        form = ProgrammeSettingsForm(instance=tenant)
    context = {
        "form": form,
        "values": CompanyValue.objects.filter(tenant_id=tenant.pk).order_by("position", "name"),
        "value_form": ValueForm(),
        "changes": SettingsChangeLog.objects.filter(tenant_id=tenant.pk).prefetch_related("actor")[:20],
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
