"""Shared OpenAPI pieces: the error shapes of SPEC §6, documented once."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. insufficient_balance.")
    available = serializers.IntegerField(required=False)
    required = serializers.IntegerField(required=False)


class FieldErrorsSerializer(serializers.Serializer):
    """DRF's field map: `{"<field>": ["message", ...]}`."""

    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)


ERROR_RESPONSES = {
    400: OpenApiResponse(
        response=ErrorSerializer,
        description="A business rule refused the request (`{detail, code, …}`) or the input is malformed "
        '(DRF\'s field map, e.g. `{"amount": ["…"]}`).',
    ),
    401: OpenApiResponse(response=ErrorSerializer, description="No or bad credentials."),
    403: OpenApiResponse(response=ErrorSerializer, description="Your role may not do this (`permission_denied`)."),
    404: OpenApiResponse(response=ErrorSerializer, description="Unknown id, or an id of another tenant."),
}
MONEY_ERROR_RESPONSES = {
    **ERROR_RESPONSES,
    409: OpenApiResponse(response=ErrorSerializer, description="`idempotency_key_in_progress`."),
    422: OpenApiResponse(response=ErrorSerializer, description="`idempotency_key_reused` with another body."),
}


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "perksu.api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "`Authorization: Bearer <token>` from POST /api/v1/auth/token/ (`Token <token>` works too).",
        }
