"""Requests refused at the edge, before any view, form or query sees them.

- A body larger than `DATA_UPLOAD_MAX_MEMORY_SIZE` (by its Content-Length) answers
  413 without being read. Multipart bodies are left to Django, whose limit counts
  only their non-file fields.
- A NUL character in the path, the query string or a form field answers 400 (404
  for a page's path): PostgreSQL refuses NUL in text, so letting one through turns a
  search box into a 500. No field of the product ever holds a NUL.
- JSON bodies (`JSONParser`, every API endpoint): nested deeper than
  `MAX_JSON_DEPTH`, or with a NUL in any key or string, answer 400 `parse_error`;
  Python's decoder would otherwise raise RecursionError on `[` × 100,000.

Under /api/ every refusal is the JSON error shape of SPEC §6; pages and the console
get the HTML 400 or 404 page.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import parsers
from rest_framework.exceptions import ParseError

API_PREFIX = "/api/"
MAX_JSON_DEPTH = 32
"""Deeper than any request the API takes (three levels at most), far below Python's recursion limit."""

NUL = "\x00"
NUL_MESSAGE = "The request contains a NUL character (\\u0000), which no field accepts."
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def too_large_body() -> dict:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return {
        "detail": f"The request body is larger than {limit} bytes.",
        "code": "request_too_large",
        "maximum": limit,
    }


def _declared_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _has_nul(request: HttpRequest) -> bool:
    if NUL in request.path or NUL in request.META.get("QUERY_STRING", ""):
        return True
    if any(NUL in key or any(NUL in v for v in values) for key, values in request.GET.lists()):
        return True
    if request.method == "POST" and request.content_type in FORM_TYPES:
        return any(NUL in key or any(NUL in v for v in values) for key, values in request.POST.lists())
    return False


class EdgeMiddleware:
    """Refuse oversized bodies and NUL characters before the view (see the module docstring).

    Sits after AuthenticationMiddleware (whose user is lazy, so nothing is looked up
    yet) so a refused page still renders with the signed-in user's navigation, and
    before every view, including the console's.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        is_api = request.path.startswith(API_PREFIX)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and request.content_type != "multipart/form-data" and _declared_length(request) > limit:
            return JsonResponse(too_large_body(), status=413)
        if _has_nul(request):
            if is_api:
                return JsonResponse({"detail": NUL_MESSAGE, "code": "parse_error"}, status=400)
            # The error pages are rendered here rather than raised, so no traceback is logged.
            if NUL in request.path:
                return defaults.page_not_found(request, Http404("No such page."))
            return defaults.bad_request(request, BadRequest(NUL_MESSAGE))
        return self.get_response(request)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing deep nesting and NUL characters as `parse_error` (400)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.") from exc
        _check_json(data)
        return data


def _check_json(data) -> None:
    """Walk the decoded document without recursion; refuse depth over MAX_JSON_DEPTH and any NUL."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if NUL in value:
                raise ParseError(f"JSON parse error - {NUL_MESSAGE}")
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_JSON_DEPTH:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        if isinstance(value, dict):
            pending.extend((key, depth + 1) for key in value)
            pending.extend((item, depth + 1) for item in value.values())
        else:
            pending.extend((item, depth + 1) for item in value)
