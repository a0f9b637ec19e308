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

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import HttpRequest
from django.shortcuts import render

from perksu.errors import DomainError, IdempotencyConflictError, IdempotencyReuseError, readable_detail
from points.idempotency import fingerprint, run_idempotent
from tenants.models import User

TOKEN_FIELD = "form_token"  # noqa: S105 - a form field name, not a secret
# Never part of a form's fingerprint: they change on every render.
UNFINGERPRINTED = {"csrfmiddlewaretoken", TOKEN_FIELD}
REPLAYED = "This form was already submitted; nothing was done twice."
REUSED = "This form was already submitted with other values, so nothing more was done. Fill it in again to send it."
IN_PROGRESS = "This form is already being processed; nothing was done twice. Reload the page in a moment."


def is_tenant_member(user: User) -> bool:
    return user.is_authenticated and user.is_active and user.member_tenant_id is not None


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


def require_POST_page(view):
    """Like Django's `require_POST`, but a GET (a bookmarked or reloaded form address) gets a page that says
    what happened and where to go, with its 405 status and `Allow: POST`."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if request.method != "POST":
            response = render(request, "405.html", status=405)
            response["Allow"] = "POST"
            return response
        return view(request, *args, **kwargs)

    return wrapped


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
    form: forms.Form | None = None,
    field_for: Callable[[str, str | None], str | None] | None = None,
) -> dict[str, Any] | None:
    """Run a money form's service once per form token and report it as a message.

    `operation` calls the service and returns a body with at least `message`.
    Returns the body on success (first run or replay), `None` on a refusal;
    either way the user sees a message. A replay of a refusal shows the same
    refusal again. `reveal` puts a secret the stored body leaves out (a voucher
    code) back into a successful body, as `perksu.api.viewsets.money_response` does.

    With `form`, a refusal is also put on the form, next to the field it concerns (`field_for(code, field)`
    names it; None: the whole form), so the page can render the form again with everything the user typed.
    """

    def refuse(text: str, code: str = "", field: str | None = None) -> None:
        messages.error(request, text)
        if form is not None:
            target = field_for(code, field) if field_for else field
            form.add_error(target if target in form.fields else None, text)

    key = request.POST.get(TOKEN_FIELD, "").strip()
    if not key:
        refuse("This form has expired. Please check it and send it again.")
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
        refuse(REUSED)
        return None
    except IdempotencyConflictError:
        messages.warning(request, IN_PROGRESS)
        return None
    except DomainError as exc:
        refuse(exc.readable_message(), exc.code, exc.field)
        return None
    body = outcome.body or {}
    if outcome.status >= 400:
        refuse(readable_detail(body) or "This request was refused.", body.get("code", ""), body.get("field"))
        return None
    if reveal is not None:
        body = reveal(body)
    if outcome.replayed:
        messages.info(request, REPLAYED)
    messages.success(request, body.get("message", "Done."))
    return body


def renew_token(form: forms.Form) -> forms.Form:
    """Give a bound form sent back with an error a fresh one-time token: the old one already answered."""
    data = form.data.copy()
    data[form.add_prefix(TOKEN_FIELD)] = form_token()
    form.data = data
    return form


def paginate(request: HttpRequest, items, *, per_page: int = 20) -> Page:
    """The requested page of `items`; a bad or out-of-range `page` gives the nearest page."""
    return Paginator(items, per_page).get_page(request.GET.get("page"))


def query_without_page(request: HttpRequest) -> str:
    """The current query string minus `page`, so pagination links keep the filters."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()
