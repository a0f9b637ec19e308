"""Sessions, the session's user and messages, left out of token-authenticated API requests.

A request under /api/ that carries `Authorization: Bearer …` (or `Token …`) is authenticated by
its token and nothing else: DRF's `BearerTokenAuthentication` comes first, and with that header it
either names the user or refuses with 401 — the session is never consulted. So for such a request
the session cookie is not read, no session is loaded or saved, no session user is put on the
request (`request.user` is anonymous until DRF sets the token's user) and no message storage is
opened. This is CPU the API's hottest path (the HTTP award) used to spend on machinery it never
read (docs/PERFORMANCE.md, "The app tier").

Every other request — pages, the console, the admin, and API calls authenticated by the session
(the browsable API) — goes through Django's middleware exactly as before. Django's CSRF middleware
runs for every request, unchanged (on the API's views, which are CSRF-exempt for DRF to enforce
CSRF itself when the session authenticates, it only reads the cookie); so do the security headers,
the edge checks (perksu/edge.py), the replica pin and the formatting middleware.
"""

from __future__ import annotations

from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.middleware import MessageMiddleware as DjangoMessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.http import HttpRequest

from perksu.api.authentication import KEYWORDS, authorization_header

API_PREFIX = "/api/"
_MEMO = "_perksu_token_api"


def token_api_request(request: HttpRequest) -> bool:
    """Whether the request is under /api/ with a Bearer/Token `Authorization` header (the keyword as
    `BearerTokenAuthentication` reads it); memoised on the request."""
    memo = request.__dict__.get(_MEMO)
    if memo is None:
        memo = False
        if request.path_info.startswith(API_PREFIX):
            parts = authorization_header(request).split()
            memo = bool(parts) and parts[0].lower() in KEYWORDS
        request.__dict__[_MEMO] = memo
    return memo


class _SkippedOnTokenApi:
    """Mixin: the middleware passes token API requests straight through."""

    async_capable = False  # under ASGI Django adapts it; the project serves WSGI (gunicorn)

    def __call__(self, request):
        if token_api_request(request):
            return self.get_response(request)
        return super().__call__(request)


class SessionMiddleware(_SkippedOnTokenApi, DjangoSessionMiddleware):
    pass


async def _anonymous():
    return AnonymousUser()


class AuthenticationMiddleware(_SkippedOnTokenApi, DjangoAuthenticationMiddleware):
    def __call__(self, request):
        if token_api_request(request):
            # Never the session's user: DRF replaces this with the token's user, or refuses.
            request.user = AnonymousUser()
            request.auser = _anonymous
            return self.get_response(request)
        return super().__call__(request)


class MessageMiddleware(_SkippedOnTokenApi, DjangoMessageMiddleware):
    pass
