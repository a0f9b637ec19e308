"""Shared OpenAPI pieces: the error shapes of SPEC §6, documented once."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
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


# --- Responses every operation can give, documented once (a drf-spectacular postprocessing hook) ---------------------

_ERROR_REF = {"$ref": "#/components/schemas/Error"}
_FIELD_ERRORS = {
    "type": "object",
    "description": 'DRF\'s field map: `{"<field>": ["message", ...]}` (nested for list items).',
    "additionalProperties": {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}]},
}
_STANDARD = {
    "400": "Malformed input (DRF's field map) or a business rule (`{detail, code, …}`).",
    "401": "No or bad credentials.",
    "403": "Your role may not do this (`permission_denied`).",
    "404": "Unknown id, another tenant's id, or a page past the end.",
    "429": "Too many requests (`throttled`, with `retry_after` and a `Retry-After` header).",
}
_METHODS = {"get", "put", "patch", "post", "delete"}


def document_error_responses(result, generator, request, public):
    """Document the error answers DRF can give on every operation, in the one shape of SPEC §6.

    - 400 is `Error` or the field map (`FieldErrors`), or the body the view itself declared for 400;
    - 401/403 on every authenticated operation, 404 everywhere (unknown ids, pages past the end);
    - 400 wherever there is a query, path or body input; 429 on the money endpoints
      (those taking an `Idempotency-Key`) and the token endpoint (wrong-password lockout).
    """
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    if "Error" not in schemas:
        return result
    schemas.setdefault("FieldErrors", _FIELD_ERRORS)
    bad_request = {"anyOf": [_ERROR_REF, {"$ref": "#/components/schemas/FieldErrors"}]}
    default_security = result.get("security")
    for path, methods in result.get("paths", {}).items():
        for method, operation in methods.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            parameters = [p.get("name") for p in operation.get("parameters", [])]
            secured = bool(operation.get("security", default_security))
            wanted = {"404"}
            if parameters or "requestBody" in operation:
                wanted.add("400")
            if secured:
                wanted |= {"401", "403"}
            if "Idempotency-Key" in parameters or path.endswith("/auth/token/"):
                wanted |= {"400", "429"}
            for status in sorted(wanted):
                responses.setdefault(
                    status,
                    {"description": _STANDARD[status], "content": {"application/json": {"schema": _ERROR_REF}}},
                )
            if "400" in responses:
                content = responses["400"].setdefault("content", {})
                declared = content.get("application/json", {}).get("schema")
                # A view's own 400 body (e.g. the CSV import's per-row report) stays one of the choices.
                own = [] if declared in (None, _ERROR_REF, bad_request) else [declared]
                content["application/json"] = {"schema": {"anyOf": [*bad_request["anyOf"], *own]}}
    return result


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Optional, 1–255 characters. Repeating the same key with the same body replays the stored response "
    "(header `Idempotent-Replayed: true`) and moves nothing twice; another body → 422; while the first request "
    "is still running → 409.",
)


class OneObjectSchema(AutoSchema):
    """For a ViewSet whose list route answers one object (a report, a page with its cursor), not a list."""

    def _is_list_view(self, serializer=None) -> bool:
        return False
