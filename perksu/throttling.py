"""Throttling: wrong passwords and money POSTs.

Wrong passwords. A counter per (email, client IP) lives in the cache. After
`LOGIN_FAILURE_LIMIT` failures within `LOGIN_FAILURE_WINDOW` seconds (counted
from the first failure), further attempts for that email from that IP are
refused *without checking the password* until the window ends. A success
clears the counter. The other IPs of the same user are not affected, so an
attacker cannot lock the real user out from elsewhere.

The count is atomic under concurrency: each attempt takes its number with
`cache.add`/`cache.incr` (one atomic operation in Redis, a locked one in
LocMemCache) *before* its password is checked, and only attempts numbered up to
the limit are checked. Thirty wrong passwords sent at once therefore get five
password checks, not as many as read the counter before any of them was counted.

- `ThrottledModelBackend` (the only entry of `AUTHENTICATION_BACKENDS`) does the
  counting and the refusing, so every login path — the token endpoint, the
  login page, the admin — is covered even if a view forgets to ask.
- Views ask `login_retry_after(request, email)` before authenticating to answer
  properly: the API raises `LoginThrottled` (429 `{"detail", "code": "throttled",
  "retry_after"}` with `Retry-After`), the login page shows `login_throttled_message()`
  as a form error (`ThrottledAuthenticationForm` does that for Django's `LoginView`).

Money POSTs. `MoneyRateThrottle` is a per-user DRF throttle (scope "money",
rate `MONEY_POST_RATE`, default 1200/min) for the endpoints that move points;
safe methods are never counted. Put it in a view's `throttle_classes`, or — as
the API does — mark the view or `@action` with `throttle_scope="money"`:
`MoneyScopeThrottle` (in `DEFAULT_THROTTLE_CLASSES`) then counts it, on the
same counter per user.

The counters live in the `default` cache: per process with LocMemCache, across
processes and hosts only with a shared cache (`CACHE_URL=redis://…`).
"""

from __future__ import annotations

import hashlib
import math
import time

from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from rest_framework.exceptions import Throttled
from rest_framework.throttling import UserRateThrottle

DEFAULT_LOGIN_FAILURE_LIMIT = 5
DEFAULT_LOGIN_FAILURE_WINDOW = 300
DEFAULT_MONEY_POST_RATE = "1200/min"

_PREFIX = "perksu:login-failures:"


def _limit() -> int:
    return int(getattr(settings, "LOGIN_FAILURE_LIMIT", DEFAULT_LOGIN_FAILURE_LIMIT))


def _window() -> int:
    return int(getattr(settings, "LOGIN_FAILURE_WINDOW", DEFAULT_LOGIN_FAILURE_WINDOW))


def client_ip(request: HttpRequest | None) -> str:
    """The client's address: `REMOTE_ADDR`, or — behind a proxy that sets it —
    the last entry of the header named by `CLIENT_IP_HEADER` (the address the
    proxy itself saw; earlier entries are whatever the client claimed)."""
    if request is None:
        return "unknown"
    header = getattr(settings, "CLIENT_IP_HEADER", "")
    if header:
        forwarded = request.META.get(header, "")
        last = forwarded.split(",")[-1].strip()
        if last:
            return last
    return request.META.get("REMOTE_ADDR") or "unknown"


def _keys(email: str, ip: str) -> tuple[str, str]:
    # Hashed: cache keys must be short and safe whatever the email holds.
    digest = hashlib.sha256(f"{email.strip().lower()}|{ip}".encode()).hexdigest()
    return f"{_PREFIX}{digest}:count", f"{_PREFIX}{digest}:until"


def login_retry_after(request: HttpRequest | None, email: str | None) -> int | None:
    """Seconds until `email` may try again from this client, or None if it may now."""
    if not email:
        return None
    count_key, until_key = _keys(email, client_ip(request))
    values = cache.get_many([count_key, until_key])
    if values.get(count_key, 0) < _limit():
        return None
    until = values.get(until_key)
    if until is None:
        return None
    return max(1, math.ceil(until - time.time()))


def login_attempt(request: HttpRequest | None, email: str | None) -> int:
    """Count one sign-in attempt for (email, client IP) before its password is checked;
    return its number in this window. A success clears the count (`login_succeeded`), so
    what is left counts the wrong passwords, and the attempts still being checked."""
    if not email:
        return 0
    count_key, until_key = _keys(email, client_ip(request))
    window = _window()
    # The window starts at the first failure and is not extended by later ones.
    cache.add(until_key, time.time() + window, timeout=window)
    if cache.add(count_key, 1, timeout=window):
        return 1
    try:
        return cache.incr(count_key)
    except ValueError:  # expired between add() and incr()
        cache.add(count_key, 1, timeout=window)
        return 1


def login_succeeded(request: HttpRequest | None, email: str | None) -> None:
    """Forget the failures of (email, client IP)."""
    if email:
        cache.delete_many(list(_keys(email, client_ip(request))))


def login_throttled_message(retry_after: int) -> str:
    minutes = max(1, math.ceil(retry_after / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many failed sign-in attempts. Try again in {minutes} {unit}."


class LoginThrottled(Throttled):
    """429 for the API: `{"detail", "code": "throttled", "retry_after"}` and `Retry-After`."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(wait=retry_after, detail=login_throttled_message(retry_after))


def check_login_allowed(request: HttpRequest | None, email: str | None) -> None:
    """For API views: raise `LoginThrottled` (429) if this email is locked out from this client."""
    retry_after = login_retry_after(request, email)
    if retry_after is not None:
        raise LoginThrottled(retry_after)


class ThrottledModelBackend(ModelBackend):
    """`ModelBackend` that refuses a locked-out (email, IP) before checking the password,
    counts wrong passwords, and clears the count on success."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        email = username if username is not None else kwargs.get(self._username_field())
        retry_after = login_retry_after(request, email)
        if retry_after is not None:
            if request is not None:
                request.login_retry_after = retry_after
            # PermissionDenied stops django.contrib.auth.authenticate() at once: no other backend runs.
            raise PermissionDenied(login_throttled_message(retry_after))
        if email and password is not None and login_attempt(request, email) > _limit():
            # Another attempt took the last number in the meantime: refused like a locked one.
            retry_after = login_retry_after(request, email) or 1
            if request is not None:
                request.login_retry_after = retry_after
            raise PermissionDenied(login_throttled_message(retry_after))
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None:
            login_succeeded(request, email)
        return user

    def get_user(self, user_id):
        """The signed-in user with their tenant in the same query: nearly every page reads the tenant (its
        name, its locale and time zone for formatting), so this saves a query on each of them."""
        from django.contrib.auth import get_user_model

        from perksu.middleware import session_tenant

        model = get_user_model()
        users = model._default_manager.select_related("tenant")
        tenant_id = session_tenant.get()
        try:
            if tenant_id is not None:
                # The session's tenant (perksu.middleware): the read names it, as every read of a tenant's rows.
                users = users.filter(tenant_id=tenant_id)
            user = users.get(pk=user_id)
        except (model.DoesNotExist, ValidationError):
            return None
        return user if self.user_can_authenticate(user) else None

    @staticmethod
    def _username_field() -> str:
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD


class ThrottledAuthenticationForm(auth_forms.AuthenticationForm):
    """Django's login form, with the lockout shown as a form error instead of "wrong password"."""

    def clean(self):
        retry_after = login_retry_after(self.request, self.data.get("username"))
        if retry_after is not None:
            raise ValidationError(login_throttled_message(retry_after), code="throttled")
        try:
            return super().clean()
        except ValidationError:
            # Refused by the backend because concurrent attempts used up the limit.
            retry_after = getattr(self.request, "login_retry_after", None)
            if retry_after is not None:
                raise ValidationError(login_throttled_message(retry_after), code="throttled") from None
            raise


class MoneyRateThrottle(UserRateThrottle):
    """Per-user limit on POSTs that move points (rate `MONEY_POST_RATE`, default 1200/min).

    429 body via the API's exception handler: `{"detail", "code": "throttled", "retry_after"}`.
    """

    scope = "money"

    def get_rate(self) -> str:
        # Read at request time (not import time) so the environment and tests can set it.
        return getattr(settings, "MONEY_POST_RATE", DEFAULT_MONEY_POST_RATE)

    def allow_request(self, request, view) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return super().allow_request(request, view)


class MoneyScopeThrottle(MoneyRateThrottle):
    """The same limit and counter, installed in `DEFAULT_THROTTLE_CLASSES`: it counts only
    the views (or `@action`s) that declare `throttle_scope = "money"`, so a money endpoint
    is limited by saying what it is, and every other endpoint is left alone."""

    def allow_request(self, request, view) -> bool:
        if getattr(view, "throttle_scope", None) != self.scope:
            return True
        return super().allow_request(request, view)
