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

import contextvars

from django.contrib import auth
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.middleware import MessageMiddleware as DjangoMessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

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


# The signed-in user's tenant, kept in the session beside Django's user id (written at login). Django gives
# an authentication backend's `get_user` the id alone; while the session's user is read, this names the
# tenant too, so the read is `WHERE tenant_id = … AND id = …` and on a cluster goes to that tenant's shard
# instead of every shard of `users` (docs/SCALING.md). A session from before it was kept reads by id alone.
SESSION_TENANT_KEY = "_perksu_tenant_id"
session_tenant: contextvars.ContextVar[str | None] = contextvars.ContextVar("perksu_session_tenant", default=None)


def remember_session_tenant(sender, request, user, **kwargs) -> None:
    """`user_logged_in` receiver: keep the user's tenant in the session Django just signed them into."""
    session = getattr(request, "session", None)
    if session is not None and getattr(user, "tenant_id", None) is not None:
        session[SESSION_TENANT_KEY] = str(user.tenant_id)


def session_user(request):
    """The session's user as `django.contrib.auth.get_user` reads it (backend, session hash and all), with the
    session's tenant handed to the backend; cached on the request as Django's middleware does."""
    if not hasattr(request, "_cached_user"):
        reset = session_tenant.set(request.session.get(SESSION_TENANT_KEY))
        try:
            request._cached_user = auth.get_user(request)
        finally:
            session_tenant.reset(reset)
    return request._cached_user


class AuthenticationMiddleware(_SkippedOnTokenApi, DjangoAuthenticationMiddleware):
    def __call__(self, request):
        if token_api_request(request):
            # Never the session's user: DRF replaces this with the token's user, or refuses.
            request.user = AnonymousUser()
            request.auser = _anonymous
            return self.get_response(request)
        return super().__call__(request)

    def process_request(self, request):
        super().process_request(request)
        request.user = SimpleLazyObject(lambda: session_user(request))


class MessageMiddleware(_SkippedOnTokenApi, DjangoMessageMiddleware):
    pass
