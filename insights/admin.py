"""The console's insights page: any tenant's insights, its CSV tables and its payroll export.

Registered on the console from here (`console.register_page`); served behind the
console's login and platform-admin check. The figures are the same selectors as
the page and the API, for the tenant the platform admin picks.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.response import TemplateResponse
from django.urls import reverse

from perksu.admin_site import console
from tenants.models import Tenant

from .api import csv_response
from .csvexport import TABLES, table_csv, table_filename
from .payroll import payroll_csv, payroll_filename
from .views import page_scope_and_period, render_insights


def _tenant_id(request: HttpRequest) -> str | None:
    return request.GET.get("tenant_id") or None


def insights_view(request: HttpRequest) -> HttpResponse:
    tenants = list(Tenant.objects.order_by("name").values_list("pk", "name"))
    context = {
        **console.each_context(request),
        "title": "Insights",
        "tenants": tenants,
        "chosen_tenant": _tenant_id(request),
    }
    if not _tenant_id(request):
        return TemplateResponse(request, "admin/insights/insights.html", context)
    scope, period, errors = page_scope_and_period(request, tenant_id=_tenant_id(request))
    tenant_query = {"tenant_id": str(scope.tenant_id)}

    def export_url(slug: str, query: dict) -> str:
        return f"{reverse('admin:insights_export', args=[slug])}?{urlencode({**tenant_query, **query})}"

    teams = [("", "The whole company"), *scope.teams.choices()] if scope.teams and scope.teams.names else None
    return render_insights(
        request,
        scope,
        period,
        errors,
        template="admin/insights/insights.html",
        export_url=export_url,
        payroll_url=reverse("admin:insights_payroll"),
        teams=teams,
        extra={**context, "title": f"Insights: {scope.tenant.name}", "chosen_tenant": str(scope.tenant_id)},
    )


def export_view(request: HttpRequest, table: str) -> HttpResponse:
    chosen = TABLES.get(table)
    if chosen is None:
        raise Http404("Unknown table.")
    scope, period, errors = page_scope_and_period(request, tenant_id=_tenant_id(request))
    if errors:
        return HttpResponseBadRequest(" ".join(errors), content_type="text/plain; charset=utf-8")
    if chosen.needs_leaderboard and not scope.tenant.leaderboard_enabled:
        raise Http404("The leaderboard is switched off for this tenant.")
    return csv_response(table_csv(chosen, scope, period), table_filename(chosen, scope, period))


def payroll_view(request: HttpRequest) -> HttpResponse:
    scope, period, errors = page_scope_and_period(request, tenant_id=_tenant_id(request))
    if errors:
        return HttpResponseBadRequest(" ".join(errors), content_type="text/plain; charset=utf-8")
    return csv_response(payroll_csv(scope, period), payroll_filename(scope, period))


console.register_page("insights/", insights_view, name="insights")
console.register_page("insights/export/<slug:table>.csv", export_view, name="insights_export")
console.register_page("insights/payroll.csv", payroll_view, name="insights_payroll")
