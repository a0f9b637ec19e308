"""Console pages beyond the model lists: allocate, claw back, ledger health, liability.

Allocate and claw back call the same services as the API. Each form carries a
one-time token (`secrets.token_urlsafe`) used as the idempotency key of
`points.idempotency.run_idempotent`, so a double submit moves points once and
the second submit shows the first one's result.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.contrib import messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from perksu import formatting
from perksu.admin_site import console
from perksu.errors import DomainError, IdempotencyConflictError, IdempotencyReuseError, readable_detail
from tenants.models import Tenant, User

from .forms_admin import AllocateForm, ClawbackForm, RollForwardForm
from .idempotency import fingerprint, run_idempotent
from .reconcile import reconcile
from .selectors import liabilities, pool_stats, roll_forward
from .services import AllocationResult, tenant_allocate, tenant_clawback


def new_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class PoolMovement:
    """What differs between the allocate page and the claw-back page."""

    scope: str
    title: str
    verb: str
    form_class: type
    template: str
    perform: Callable[[User, Tenant, dict], AllocationResult]


def _allocate(actor: User, tenant: Tenant, data: dict) -> AllocationResult:
    return tenant_allocate(
        actor=actor, tenant_id=tenant.pk, amount=data["amount"], reference_note=data["reference_note"]
    )


def _clawback(actor: User, tenant: Tenant, data: dict) -> AllocationResult:
    return tenant_clawback(actor=actor, tenant_id=tenant.pk, amount=data["amount"], reason=data["reason"])


ALLOCATE = PoolMovement(
    scope="admin:allocate",
    title="Allocate points",
    verb="Allocated",
    form_class=AllocateForm,
    template="admin/perksu/tenant_pool_form.html",
    perform=_allocate,
)
CLAWBACK = PoolMovement(
    scope="admin:clawback",
    title="Claw back points",
    verb="Clawed back",
    form_class=ClawbackForm,
    template="admin/perksu/tenant_pool_form.html",
    perform=_clawback,
)


def _result_body(result: AllocationResult) -> dict:
    return {
        "tenant_id": str(result.tenant_id),
        "amount": result.amount,
        "balance_after": result.balance_after,
        "currency": result.currency,
        "allocation_log_id": str(result.allocation_log.pk),
        "platform_log_id": str(result.billing_log.pk),
    }


def _success_message(movement: PoolMovement, tenant: Tenant, body: dict, *, replayed: bool) -> str:
    label = tenant.currency_label.lower()
    n = lambda value: formatting.format_number(value, locale=tenant.locale)  # noqa: E731
    text = (
        f"{movement.verb} {n(body['amount'])} {label} "
        f"{'to' if movement is ALLOCATE else 'from'} {tenant.name}. "
        f"New pool balance: {n(body['balance_after'])} {label}."
    )
    if replayed:
        text += " (This form had already been submitted: the points moved once.)"
    return text


def tenant_pool_view(model_admin, request, object_id: str, movement: PoolMovement):
    """GET: the form with a fresh token. POST: run the movement once for that token."""
    tenant = model_admin.get_object(request, unquote(object_id))
    if tenant is None:
        raise Http404("Tenant not found.")
    if not model_admin.has_change_permission(request, tenant):
        raise PermissionDenied
    change_url = reverse("admin:tenants_tenant_change", args=[tenant.pk], current_app=model_admin.admin_site.name)

    confirm_all = None
    if request.method == "POST":
        form = movement.form_class(request.POST)
        token = request.POST.get("token", "").strip()
        wants_all = movement is CLAWBACK and form.is_valid() and form.cleaned_data["amount"] is None
        if wants_all and form.cleaned_data.get("confirm_all") is not None:
            # Exactly the amount that was confirmed: if the pool moved since, the claw-back is refused, not resized.
            form.cleaned_data["amount"] = form.cleaned_data["confirm_all"]
            wants_all = False
        if wants_all:
            tenant.refresh_from_db(fields=["points_allocation_balance"])
            # An empty amount takes the whole pool: name the figure and ask first (an empty pool is refused below).
            wants_all = tenant.points_allocation_balance > 0
        if not token:
            form.add_error(None, "This form has expired. Check the figures and submit it again.")
        elif wants_all:
            confirm_all = tenant.points_allocation_balance  # nothing has moved
        elif form.is_valid():
            payload = {"tenant_id": str(tenant.pk), **form.fingerprint_payload()}
            try:
                outcome = run_idempotent(
                    user=request.user,
                    scope=movement.scope,
                    key=token,
                    request_fingerprint=fingerprint(payload),
                    operation=lambda: (200, _result_body(movement.perform(request.user, tenant, form.cleaned_data))),
                )
            except IdempotencyReuseError:
                form.add_error(None, "This form was already submitted with other values. Check the pool balance.")
            except IdempotencyConflictError:
                form.add_error(None, "This form is being processed. Wait a moment and check the pool balance.")
            except DomainError as exc:
                field = exc.extra.get("field")
                with formatting.override(tenant):
                    form.add_error(field if field in form.fields else None, exc.readable_message())
            else:
                if outcome.status == 200:
                    messages.success(
                        request, _success_message(movement, tenant, outcome.body, replayed=outcome.replayed)
                    )
                    return HttpResponseRedirect(change_url)
                # The replay of a refusal: the same error as the first submit.
                with formatting.override(tenant):
                    form.add_error(None, readable_detail(outcome.body) or "This operation was refused.")
        tenant.refresh_from_db(fields=["points_allocation_balance"])
    else:
        form = movement.form_class()

    stats = pool_stats(tenant)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": f"{movement.title}: {tenant.name}",
        "subtitle": None,
        "opts": model_admin.opts,
        "original": tenant,
        "tenant": tenant,
        "stats": stats,
        "form": form,
        "token": new_token(),
        "movement": movement,
        "is_clawback": movement is CLAWBACK,
        "change_url": change_url,
        "has_view_permission": True,
        "confirm_all": confirm_all,
    }
    with formatting.override(tenant):
        # Rendered now, while the tenant's locale is in force (a TemplateResponse would render later).
        return TemplateResponse(request, movement.template, context).render()


def ledger_health(request):
    """Runs the reconcile checks of SPEC §5 and shows each tenant OK or its drifts."""
    reports = reconcile(tenant_slug=request.GET.get("tenant") or None)
    context = {
        **console.each_context(request),
        "title": "Ledger health",
        "reports": reports,
        "drifting": sum(1 for r in reports if not r.ok),
    }
    return TemplateResponse(request, "admin/perksu/ledger_health.html", context)


def liability(request):
    """Outstanding points and their value per tenant; the roll-forward for a chosen date range."""
    rows = liabilities()
    totals: dict[str, Decimal] = {}
    for row in rows:
        totals[row.currency] = totals.get(row.currency, Decimal("0.00")) + row.value

    form = RollForwardForm(request.GET or None, initial=RollForwardForm.initial_dates())
    roll = []
    if form.is_bound and form.is_valid():
        chosen = form.cleaned_data["tenant"]
        by_id = {row.tenant_id: row for row in rows}
        for row in rows if chosen is None else [by_id[chosen.pk]]:
            movement = roll_forward(
                row.tenant_id, date_from=form.cleaned_data["date_from"], date_to=form.cleaned_data["date_to"]
            )
            roll.append((row, movement))
    context = {
        **console.each_context(request),
        "title": "Liability",
        "rows": rows,
        "totals": sorted(totals.items()),
        "form": form,
        "roll": roll,
    }
    return TemplateResponse(request, "admin/perksu/liability.html", context)
