"""Programme settings over HTTP (SPEC §9): `GET/PATCH /api/v1/tenant/settings/` for managers.

The values are validated here (integers ≥ 0, a real IANA time zone, a known locale), so
a bad one is DRF's field map naming the field (400); `tenants.services.tenant_settings_update`
writes the changed columns and one SettingsChangeLog per change, in one transaction.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from perksu.api.fields import StrictInput
from perksu.api.permissions import IsManager
from perksu.api.schema import ERROR_RESPONSES

from .models import MAX_AMOUNT, Tenant, validate_locale, validate_timezone
from .services import SETTINGS_FIELDS, tenant_settings_update


def _count(**kwargs) -> serializers.IntegerField:
    return serializers.IntegerField(min_value=0, max_value=MAX_AMOUNT, **kwargs)


class SettingsSerializer(StrictInput):
    timezone = serializers.CharField(max_length=64, validators=[validate_timezone], help_text="IANA name.")
    locale = serializers.CharField(max_length=16, validators=[validate_locale], help_text="e.g. en, en-IN.")
    allowance_period = serializers.ChoiceField(choices=Tenant.AllowancePeriod.choices)
    allowance_employee = _count(help_text="Points an employee may give per period (0: none).")
    allowance_lead = _count()
    allowance_manager = _count()
    require_value = serializers.BooleanField()
    low_balance_threshold = _count()
    max_award_points = serializers.IntegerField(min_value=1, max_value=MAX_AMOUNT, allow_null=True)
    leaver_policy = serializers.ChoiceField(choices=Tenant.LeaverPolicy.choices)
    leaver_forfeit_days = serializers.IntegerField(min_value=0, max_value=3650)
    leaderboard_enabled = serializers.BooleanField()


class TenantSettingsView(APIView):
    permission_classes = [IsManager]

    def _body(self, tenant: Tenant) -> dict:
        return {"tenant_id": str(tenant.pk), **{name: getattr(tenant, name) for name in SETTINGS_FIELDS}}

    @extend_schema(summary="Your company's programme settings", responses={200: SettingsSerializer, **ERROR_RESPONSES})
    def get(self, request):
        return Response(self._body(Tenant.objects.get(pk=request.user.tenant_id)))

    @extend_schema(
        summary="Change programme settings (each change is logged)",
        request=SettingsSerializer(partial=True),
        responses={200: SettingsSerializer, **ERROR_RESPONSES},
    )
    def patch(self, request):
        serializer = SettingsSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        tenant = Tenant.objects.get(pk=request.user.tenant_id)
        tenant_settings_update(actor=request.user, tenant=tenant, changes=dict(serializer.validated_data))
        return Response(self._body(Tenant.objects.get(pk=tenant.pk)))


urlpatterns = [path("tenant/settings/", TenantSettingsView.as_view(), name="tenant-settings")]
