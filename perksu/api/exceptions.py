"""One error shape for every API response (SPEC §6).

- 400 malformed input: DRF's field map, e.g. `{"amount": ["..."]}`;
- 400/403/404/409/422 a business rule: `{"detail", "code", **figures}` from `DomainError`;
- 413 a body over DATA_UPLOAD_MAX_MEMORY_SIZE (`request_too_large`, perksu/edge.py);
- 401 no or bad credentials, 403 wrong role (`permission_denied`), 404 unknown id,
  429 throttled, 503 database unavailable, 500 anything else — never HTML, never a trace.
"""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db import DatabaseError, OperationalError
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from perksu.edge import too_large_body
from perksu.errors import DomainError

logger = logging.getLogger("perksu.api")

CODES = {
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.ParseError: "parse_error",
    exceptions.Throttled: "throttled",
}


def exception_handler(exc: Exception, context: dict) -> Response:
    set_rollback()
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):  # a body without Content-Length, found too large while read
        return Response(too_large_body(), status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)
    if isinstance(exc, TooManyFieldsSent):
        exc = exceptions.ParseError(str(exc))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, exceptions.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, exceptions.APIException):
        body = {"detail": _text(exc.detail), "code": _code(exc)}
        headers = {}
        if isinstance(exc, exceptions.Throttled) and exc.wait is not None:
            body["retry_after"] = int(exc.wait) + 1
            headers["Retry-After"] = str(body["retry_after"])
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        return Response(body, status=exc.status_code, headers=headers)
    if isinstance(exc, OperationalError):
        logger.exception("Database unavailable during %s", context.get("view").__class__.__name__)
        return Response(
            {
                "detail": "The database is unavailable or busy. Nothing was changed; retry shortly.",
                "code": "service_unavailable",
            },
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "1"},
        )
    logger.exception("Unhandled error in the API", exc_info=exc)
    code = "database_error" if isinstance(exc, DatabaseError) else "server_error"
    return Response(
        {"detail": "Internal server error. Nothing was changed.", "code": code},
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )


def _code(exc: exceptions.APIException) -> str:
    for cls, code in CODES.items():
        if isinstance(exc, cls):
            return code
    return exc.default_code


def _text(detail) -> str:
    if isinstance(detail, list | tuple):
        return " ".join(str(d) for d in detail)
    if isinstance(detail, dict):
        return " ".join(f"{k}: {_text(v)}" for k, v in detail.items())
    return str(detail)


@csrf_exempt  # a POST to an unknown path is a JSON 404 too, not Django's HTML CSRF page
def api_not_found(request, *args, **kwargs) -> JsonResponse:
    """Unknown paths under /api/ answer JSON, not the HTML 404 page."""
    return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
