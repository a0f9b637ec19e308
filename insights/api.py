"""`GET /api/v1/insights/` (SPEC §13), its tables as CSV, and the payroll export.

Managers see their tenant (or `?team=` and the teams below it), leads their own
team, platform admins any tenant (`?tenant_id=`). The CSV answers stream.
"""

from __future__ import annotations

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import renderers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from perksu.api.fields import valid
from perksu.api.permissions import IsManagerOrLeadOrPlatform, IsManagerOrPlatform
from perksu.api.schema import ERROR_RESPONSES, OneObjectSchema
from perksu.errors import NotFoundError, PermissionDeniedError
from perksu.replica import replica_reads

from .csvexport import TABLES, table_csv, table_filename
from .payroll import payroll_csv, payroll_filename
from .periods import Period, period_for
from .presenters import insights_body
from .scope import Scope, resolve_scope
from .selectors import insights
from .serializers import InsightsOutput, InsightsQuery

QUERY_PARAMETERS = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day (inclusive, tenant's timezone)."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day (inclusive). Default: the last 30 days."),
    OpenApiParameter("team", OpenApiTypes.UUID, description="A team: its members and the teams below it."),
    OpenApiParameter("tenant_id", OpenApiTypes.UUID, description="Platform admins: the tenant (required)."),
]
CSV_RESPONSE = {200: OpenApiResponse(OpenApiTypes.STR, description="text/csv, streamed."), **ERROR_RESPONSES}


class CSVRenderer(renderers.BaseRenderer):
    """Lets a client ask for `Accept: text/csv`; the CSV itself is streamed by the view, and
    an error is still the JSON of SPEC §6."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return renderers.JSONRenderer().render(data)


def scope_and_period(request) -> tuple[Scope, Period]:
    query = valid(InsightsQuery, request.query_params)
    scope = resolve_scope(request.user, tenant_id=query.get("tenant_id"), team_id=query.get("team"))
    period = period_for(scope.tenant.timezone, query.get("from"), query.get("to"))
    return scope, period


def csv_response(lines, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


class InsightsViewSet(viewsets.ViewSet):
    permission_classes = [IsManagerOrLeadOrPlatform]
    schema = OneObjectSchema()  # GET /insights/ answers one object

    @extend_schema(
        operation_id="insights_retrieve",
        summary="Participation, recognitions by week, team and value, leaderboard, forgotten members, "
        "allowance use, pool burn and redemptions",
        parameters=QUERY_PARAMETERS,
        responses={200: InsightsOutput, **ERROR_RESPONSES},
    )
    @replica_reads()
    def list(self, request):
        scope, period = scope_and_period(request)
        response = Response(InsightsOutput(insights_body(insights(scope, period))).data)
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(
        operation_id="insights_export",
        summary="One insights table as CSV",
        description="Tables: " + ", ".join(f"`{slug}`" for slug in TABLES) + ".",
        parameters=QUERY_PARAMETERS,
        responses=CSV_RESPONSE,
    )
    @action(
        detail=False,
        methods=["get"],
        url_path=r"export/(?P<table>[a-z-]+)",
        renderer_classes=[renderers.JSONRenderer, CSVRenderer],
    )
    def export(self, request, table: str):
        chosen = TABLES.get(table)
        if chosen is None:
            raise NotFoundError("Unknown table.")
        scope, period = scope_and_period(request)
        if chosen.needs_leaderboard and not scope.tenant.leaderboard_enabled:
            raise NotFoundError("The leaderboard is switched off for this tenant.")
        if chosen.needs_pool and not scope.sees_pool:
            raise PermissionDeniedError("Your role does not see the company pool.")
        return csv_response(table_csv(chosen, scope, period), table_filename(chosen, scope, period))

    @extend_schema(
        operation_id="insights_payroll",
        summary="The payroll export: per member, points received by source, their value and redemptions (CSV)",
        parameters=QUERY_PARAMETERS,
        responses=CSV_RESPONSE,
    )
    @action(
        detail=False,
        methods=["get"],
        permission_classes=[IsManagerOrPlatform],
        renderer_classes=[renderers.JSONRenderer, CSVRenderer],
    )
    def payroll(self, request):
        scope, period = scope_and_period(request)
        return csv_response(payroll_csv(scope, period), payroll_filename(scope, period))


router = SimpleRouter()
router.trailing_slash = "/?"
router.register("insights", InsightsViewSet, basename="insights")

urlpatterns = router.urls
