"""Automated awards over HTTP (managers): the three rules and the daily runs.

- `GET /api/v1/automation/rules/`: BIRTHDAY, ANNIVERSARY, NEW_HIRE (a kind never
  saved shows its defaults, switched off);
- `PATCH /api/v1/automation/rules/{kind}/`: `is_active`, `points`, `milestones`
  (`{"1": 100, "5": 1000}`), `days_after_hire`, `message_template` (placeholders
  `{name}`, `{first_name}`, `{years}`, `{company}`);
- `GET /api/v1/automation/runs/`: each day's run, newest first (keyset).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from perksu.api.fields import AmountField, StrictInput, valid
from perksu.api.permissions import IsManager
from perksu.api.schema import ERROR_RESPONSES
from perksu.api.viewsets import TenantScopedViewSet
from perksu.errors import NotFoundError
from webhooks.api import KeysetPagination

from . import services
from .models import AutomationRun, AwardRule


class RuleOutput(serializers.Serializer):
    kind = serializers.CharField()
    is_active = serializers.BooleanField()
    points = serializers.IntegerField(help_text="Birthday and new hire: points per award.")
    milestones = serializers.DictField(child=serializers.IntegerField(), help_text="Anniversary: years → points.")
    days_after_hire = serializers.IntegerField()
    message_template = serializers.CharField()
    updated_at = serializers.DateTimeField(allow_null=True)


class RuleInput(StrictInput):
    is_active = serializers.BooleanField(required=False)
    points = AmountField(required=False)
    milestones = serializers.DictField(child=AmountField(), required=False, allow_empty=False)
    days_after_hire = serializers.IntegerField(required=False, min_value=0, max_value=services.MAX_DAYS_AFTER_HIRE)
    message_template = serializers.CharField(required=False, max_length=500)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if not attrs:
            raise serializers.ValidationError({"non_field_errors": ["Send at least one field to change."]})
        return attrs


class RunOutput(serializers.Serializer):
    id = serializers.UUIDField()
    run_date = serializers.DateField()
    status = serializers.CharField()
    due = serializers.IntegerField()
    paid = serializers.IntegerField()
    points_required = serializers.IntegerField()
    points_paid = serializers.IntegerField()
    pool_available = serializers.IntegerField(allow_null=True)
    detail = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class AwardRuleViewSet(viewsets.ViewSet):
    permission_classes = [IsManager]
    lookup_field = "kind"
    lookup_value_regex = "[A-Za-z_]+"

    @extend_schema(
        summary="The automated award rules (manager)", responses={200: RuleOutput(many=True), **ERROR_RESPONSES}
    )
    def list(self, request):
        return Response(RuleOutput(services.rules_for(request.user.tenant_id), many=True).data)

    @extend_schema(
        summary="Change one rule: BIRTHDAY, ANNIVERSARY or NEW_HIRE",
        request=RuleInput,
        responses={200: RuleOutput, **ERROR_RESPONSES},
    )
    def partial_update(self, request, kind=None):
        kind = (kind or "").upper()
        if kind not in AwardRule.Kind.values:
            raise NotFoundError("Rule not found.")
        data = valid(RuleInput, request.data)
        rule = services.rule_update(actor=request.user, kind=kind, **data)
        return Response(RuleOutput(rule).data)


class AutomationRunViewSet(mixins.ListModelMixin, TenantScopedViewSet):
    queryset = AutomationRun.objects.all()
    serializer_class = RunOutput
    permission_classes = [IsManager]
    pagination_class = KeysetPagination
    filter_backends = []


router = SimpleRouter()
router.trailing_slash = "/?"
router.register("automation/rules", AwardRuleViewSet, basename="automation-rule")
router.register("automation/runs", AutomationRunViewSet, basename="automation-run")

urlpatterns = router.urls
