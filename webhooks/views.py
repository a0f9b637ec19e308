"""/manage/integrations/: a manager's webhook endpoints, their deliveries and attempts."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.db.models import Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_POST

from perksu.errors import DomainError, NotFoundError
from perksu.pages import manager_required

from . import services
from .forms import EndpointForm
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

SECRET_SESSION_KEY = "webhooks.new_secret"  # noqa: S105 - a session key name
DELIVERIES_PER_PAGE = 25


@manager_required
def integrations(request: HttpRequest) -> HttpResponse:
    form = EndpointForm()
    if request.method == "POST":
        form = EndpointForm(request.POST)
        if form.is_valid():
            try:
                created = services.endpoint_create(actor=request.user, **form.cleaned_data)
            except DomainError as exc:
                form.add_error(exc.extra.get("field") if exc.extra.get("field") in form.fields else None, exc.message)
            else:
                # Shown once, on the next page only, then gone from the session.
                request.session[SECRET_SESSION_KEY] = {"id": str(created.endpoint.pk), "secret": created.secret}
                messages.success(request, f"Webhook added: {created.endpoint.url}")
                return redirect("webhooks:integrations")
    new_secret = request.session.pop(SECRET_SESSION_KEY, None)
    endpoints = WebhookEndpoint.objects.filter(tenant_id=request.user.tenant_id).order_by("-created_at", "-id")
    return render(
        request,
        "webhooks/integrations.html",
        {"form": form, "endpoints": endpoints, "new_secret": new_secret},
        status=400 if form.is_bound else 200,
    )


@require_POST
@manager_required
def endpoint_action(request: HttpRequest, endpoint_id: str, action: str) -> HttpResponse:
    try:
        if action == "delete":
            services.endpoint_delete(actor=request.user, endpoint_id=endpoint_id)
            messages.success(request, "Webhook deleted.")
        elif action in ("enable", "disable"):
            endpoint = services.endpoint_update(
                actor=request.user, endpoint_id=endpoint_id, is_active=action == "enable"
            )
            messages.success(request, f"Webhook {'enabled' if endpoint.is_active else 'disabled'}: {endpoint.url}")
        elif action == "rotate":
            created = services.endpoint_rotate_secret(actor=request.user, endpoint_id=endpoint_id)
            request.session[SECRET_SESSION_KEY] = {"id": str(created.endpoint.pk), "secret": created.secret}
            messages.success(request, "A new signing secret was issued; the old one no longer signs.")
        else:
            raise DomainError("Unknown action.", code="invalid")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("webhooks:integrations")


@manager_required
def endpoint_deliveries(request: HttpRequest, endpoint_id: str) -> HttpResponse:
    """The endpoint's deliveries, newest first, 25 at a time by keyset (`?before=<created_at>|<id>`)."""
    try:
        endpoint = services.endpoint_get(actor=request.user, endpoint_id=endpoint_id)
    except NotFoundError as exc:
        raise Http404(exc.message) from exc
    deliveries = WebhookDelivery.objects.filter(tenant_id=request.user.tenant_id, endpoint=endpoint).order_by(
        "-created_at", "-id"
    )
    at, _, last_id = request.GET.get("before", "").partition("|")
    moment = parse_datetime(at) if at else None
    try:
        last_id = uuid.UUID(last_id)
    except ValueError:
        moment = None
    if moment is not None:
        deliveries = deliveries.filter(Q(created_at__lt=moment) | Q(created_at=moment, id__lt=last_id))
    page = list(
        deliveries.prefetch_related(Prefetch("attempts", queryset=WebhookAttempt.objects.order_by("number")))[
            : DELIVERIES_PER_PAGE + 1
        ]
    )
    older = None
    if len(page) > DELIVERIES_PER_PAGE:
        page = page[:DELIVERIES_PER_PAGE]
        older = f"{page[-1].created_at.isoformat()}|{page[-1].id}"
    return render(request, "webhooks/deliveries.html", {"endpoint": endpoint, "deliveries": page, "older": older})


@require_POST
@manager_required
def redeliver(request: HttpRequest, delivery_id: str) -> HttpResponse:
    try:
        delivery = services.delivery_redeliver(actor=request.user, delivery_id=delivery_id)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("webhooks:integrations")
    messages.success(request, "Queued for redelivery: it is sent within a few seconds.")
    return redirect("webhooks:deliveries", endpoint_id=delivery.endpoint_id)
