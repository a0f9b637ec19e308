"""What every server-rendered page shares: role checks, one-time form tokens,
and turning a service's outcome into a Django message.

A money form carries a one-time token (a hidden `form_token` field from
`form_token()`); its POST runs the service through `points.idempotency`, keyed
by that token, so a double click or a resubmitted page replays the first
outcome (the same message) instead of moving points twice.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import HttpRequest

from perksu.errors import DomainError, IdempotencyConflictError, IdempotencyReuseError
from points.idempotency import fingerprint, run_idempotent
from tenants.models import User

TOKEN_FIELD = "form_token"  # noqa: S105 - a form field name, not a secret
# Never part of a form's fingerprint: they change on every render.
UNFINGERPRINTED = {"csrfmiddlewaretoken", TOKEN_FIELD}
REPLAYED = "This form was already submitted; nothing was done twice."
REUSED = "This form was already submitted with other values, so nothing more was done. Fill it in again to send it."
IN_PROGRESS = "This form is already being processed; nothing was done twice. Reload the page in a moment."


def is_tenant_member(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.tenant_id is not None


def is_manager_or_lead(user: User) -> bool:
    return is_tenant_member(user) and (user.is_manager or user.is_lead)


def is_manager(user: User) -> bool:
    return is_tenant_member(user) and user.is_manager


def role_required(check: Callable[[User], bool]):
    """Log in first (redirect to the login page); then 403 unless `check(user)` holds."""

    def decorator(view):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs):
            if not check(request.user):
                raise PermissionDenied("This page is not available for your role.")
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorator


member_required = role_required(is_tenant_member)
manager_or_lead_required = role_required(is_manager_or_lead)
manager_required = role_required(is_manager)


def form_token() -> str:
    """A fresh one-time token for one rendering of a form."""
    return secrets.token_urlsafe(24)


def form_fingerprint(request: HttpRequest) -> str:
    data = {key: sorted(values) for key, values in request.POST.lists() if key not in UNFINGERPRINTED}
    return fingerprint(data)


def run_form(
    request: HttpRequest,
    *,
    scope: str,
    operation: Callable[[], dict[str, Any]],
    reveal: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> dict[str, Any] | None:
    """Run a money form's service once per form token and report it as a message.

    `operation` calls the service and returns a body with at least `message`.
    Returns the body on success (first run or replay), `None` on a refusal;
    either way the user sees a message. A replay of a refusal shows the same
    refusal again. `reveal` puts a secret the stored body leaves out (a voucher
    code) back into a successful body, as `perksu.api.viewsets.money_response` does.
    """
    key = request.POST.get(TOKEN_FIELD, "").strip()
    if not key:
        messages.error(request, "This form has expired. Please fill it in again.")
        return None

    def run() -> tuple[int, dict[str, Any]]:
        return 200, operation()

    try:
        outcome = run_idempotent(
            user=request.user,
            scope=f"page:{scope}",
            key=key,
            request_fingerprint=form_fingerprint(request),
            operation=run,
        )
    except IdempotencyReuseError:
        messages.error(request, REUSED)
        return None
    except IdempotencyConflictError:
        messages.warning(request, IN_PROGRESS)
        return None
    except DomainError as exc:
        messages.error(request, exc.message)
        return None
    body = outcome.body or {}
    if outcome.status >= 400:
        messages.error(request, body.get("detail", "This request was refused."))
        return None
    if reveal is not None:
        body = reveal(body)
    if outcome.replayed:
        messages.info(request, REPLAYED)
    messages.success(request, body.get("message", "Done."))
    return body


def paginate(request: HttpRequest, items, *, per_page: int = 20) -> Page:
    """The requested page of `items`; a bad or out-of-range `page` gives the nearest page."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def query_without_page(request: HttpRequest) -> str:
    """The current query string minus `page`, so pagination links keep the filters."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
