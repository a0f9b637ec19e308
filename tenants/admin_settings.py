"""The console's programme settings page of a tenant (SPEC §9): what the tenant's managers edit on
/manage/settings/, edited by platform admins, with the same form, the same service and the same
SettingsChangeLog. A bad value is an error next to its field, and nothing changes."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from perksu import formatting
from perksu.errors import DomainError

from .forms import ProgrammeSettingsForm
from .models import SettingsChangeLog, Tenant
from .services import tenant_settings_update

RECENT_CHANGES = 30


def tenant_settings_view(model_admin, request, object_id: str):
    tenant = model_admin.get_object(request, unquote(object_id))
    if tenant is None:
        raise Http404("Tenant not found.")
    if not model_admin.has_change_permission(request, tenant):
        raise PermissionDenied
    site = model_admin.admin_site.name
    status = 200
    if request.method == "POST":
        form = ProgrammeSettingsForm(request.POST, instance=Tenant.objects.get(pk=tenant.pk))
        if form.is_valid():
            try:
                logs = tenant_settings_update(actor=request.user, tenant=tenant, changes=form.changes())
            except DomainError as exc:
                field = exc.extra.get("field")
                form.add_error(field if field in form.fields else None, exc.readable_message())
            else:
                changed = ", ".join(log.field for log in logs)
                messages.success(
                    request, f"Settings of {tenant.name} saved: {changed}." if logs else "Nothing changed."
                )
                return HttpResponseRedirect(request.path)
        status = 400
    else:
        form = ProgrammeSettingsForm(instance=tenant)
    change_url = reverse("admin:tenants_tenant_change", args=[tenant.pk], current_app=site)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"Programme settings: {tenant.name}",
        "subtitle": None,
        "opts": model_admin.opts,
        "original": tenant,
        "tenant": tenant,
        "form": form,
        "change_url": change_url,
        "changes": SettingsChangeLog.objects.filter(tenant_id=tenant.pk).prefetch_related("actor")[:RECENT_CHANGES],
        "changes_url": reverse("admin:tenants_settingschangelog_changelist", current_app=site)
        + f"?tenant__id__exact={tenant.pk}",
        "values_url": reverse("admin:recognition_companyvalue_changelist", current_app=site)
        + f"?tenant__id__exact={tenant.pk}",
        "comments_url": reverse("admin:recognition_comment_changelist", current_app=site)
        + f"?tenant__id__exact={tenant.pk}",
        "has_view_permission": True,
    }
    with formatting.override(tenant):
        return TemplateResponse(request, "admin/perksu/tenant_settings_form.html", context, status=status).render()
