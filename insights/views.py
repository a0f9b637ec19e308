"""`/manage/insights/` (SPEC §13): the figures as SVG charts and tables, each table's CSV,
and the payroll export. Managers and leads; platform admins use the console's page."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from perksu import formatting
from perksu.errors import DomainError, NotFoundError, PermissionDeniedError
from perksu.pages import manager_or_lead_required, manager_required
from perksu.replica import replica_reads

from .api import csv_response
from .charts import Datum, bar_chart, column_chart
from .csvexport import TABLES, table_csv, table_filename
from .forms import InsightsFilterForm, query_from_get
from .payroll import payroll_csv, payroll_filename
from .periods import Period, period_for
from .scope import Scope, resolve_scope
from .selectors import Insights, insights


def page_scope_and_period(request: HttpRequest, *, tenant_id=None) -> tuple[Scope, Period, list[str]]:
    """The scope and period the page's query names; a bad date is reported and the default used."""
    errors: list[str] = []
    try:
        scope = resolve_scope(request.user, tenant_id=tenant_id, team_id=request.GET.get("team") or None)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    except PermissionDeniedError as exc:
        raise PermissionDenied(exc.message) from exc
    except DomainError as exc:
        raise BadRequest(exc.message) from exc
    form = InsightsFilterForm(query_from_get(request.GET))
    form.fields.pop("team", None)
    date_from = date_to = None
    if form.is_valid():
        date_from, date_to = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    else:
        errors.extend(str(e) for field_errors in form.errors.values() for e in field_errors)
    try:
        period = period_for(scope.tenant.timezone, date_from, date_to)
    except DomainError as exc:
        errors.append(exc.message)
        period = period_for(scope.tenant.timezone)
    return scope, period, errors


def charts(data: Insights, unit: str) -> dict:
    result = {
        "weeks_recognitions": column_chart(
            "chart-weeks",
            "Recognitions received per week",
            [Datum(b.label, b.recognitions) for b in data.by_week],
            unit="recognitions",
        ),
        "weeks_points": column_chart(
            "chart-weeks-points",
            f"{unit} received per week",
            [Datum(b.label, b.points) for b in data.by_week],
            unit=unit.lower(),
        ),
        "values": bar_chart(
            "chart-values",
            "Recognitions per company value",
            [Datum(b.label, b.recognitions) for b in data.by_value],
            unit="recognitions",
        ),
        "redemptions": bar_chart(
            "chart-redemptions",
            "Redemptions per reward",
            [Datum(r.name, r.redemptions) for r in data.redemptions],
            unit="redemptions",
        ),
    }
    if data.by_team is not None:
        result["teams"] = bar_chart(
            "chart-teams",
            "Recognitions per team",
            [Datum(b.label, b.recognitions) for b in data.by_team],
            unit="recognitions",
        )
    return result


def render_insights(
    request: HttpRequest,
    scope: Scope,
    period: Period,
    errors: list[str],
    *,
    template: str,
    export_url: Callable[[str, dict], str],
    payroll_url: str | None,
    teams: list[tuple[str, str]] | None = None,
    extra: dict | None = None,
) -> HttpResponse:
    for error in errors:
        messages.error(request, error)
    data = insights(scope, period)
    query = {"from": period.date_from.isoformat(), "to": period.date_to.isoformat()}
    if scope.team_id:
        query["team"] = str(scope.team_id)
    form = InsightsFilterForm(
        initial={"date_from": period.date_from, "date_to": period.date_to, "team": scope.team_id or ""},
        teams=teams,
    )
    exports = {
        slug.replace("-", "_"): export_url(slug, query)
        for slug, table in TABLES.items()
        if (not table.needs_leaderboard or scope.tenant.leaderboard_enabled)
        and (not table.needs_pool or scope.sees_pool)
    }
    context = {
        "data": data,
        "scope": scope,
        "tenant": scope.tenant,
        "period": period,
        "form": form,
        "charts": charts(data, scope.tenant.currency_label),
        "exports": exports,
        "payroll_url": payroll_url,
        "payroll_query": query,
        **(extra or {}),
    }
    # Numbers, dates and times read in the tenant's locale and timezone, like its periods
    # (the console shows any tenant, so the tenant is named rather than taken from the request).
    with formatting.override(scope.tenant), timezone.override(period.tz):
        return render(request, template, context)


def _page_export_url(slug: str, query: dict) -> str:
    return f"{reverse('insights:export', args=[slug])}?{urlencode(query)}"


@manager_or_lead_required
@replica_reads()
def insights_page(request: HttpRequest) -> HttpResponse:
    scope, period, errors = page_scope_and_period(request)
    return render_insights(
        request,
        scope,
        period,
        errors,
        template="insights/insights.html",
        export_url=_page_export_url,
        payroll_url=reverse("insights:payroll") if request.user.is_manager else None,
        teams=team_choices(scope) if request.user.is_manager else None,
    )


def team_choices(scope: Scope) -> list[tuple[str, str]] | None:
    """The teams a manager may narrow the page to; `None` while the tenant has no teams."""
    if scope.teams is None or not scope.teams.names:
        return None
    return [("", "The whole company"), *scope.teams.choices()]


@manager_or_lead_required
def export(request: HttpRequest, table: str) -> HttpResponse:
    chosen = TABLES.get(table)
    if chosen is None:
        raise Http404("Unknown table.")
    scope, period, errors = page_scope_and_period(request)
    if errors:
        return HttpResponseBadRequest(" ".join(errors), content_type="text/plain; charset=utf-8")
    if chosen.needs_leaderboard and not scope.tenant.leaderboard_enabled:
        raise Http404("The leaderboard is switched off.")
    if chosen.needs_pool and not scope.sees_pool:
        raise PermissionDenied("Your role does not see the company pool.")
    return csv_response(table_csv(chosen, scope, period), table_filename(chosen, scope, period))


@manager_required
def payroll(request: HttpRequest) -> HttpResponse:
    scope, period, errors = page_scope_and_period(request)
    if errors:
        return HttpResponseBadRequest(" ".join(errors), content_type="text/plain; charset=utf-8")
    return csv_response(payroll_csv(scope, period), payroll_filename(scope, period))
