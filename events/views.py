"""Pages: the notices list (mark one or all read), e-mail preferences, and the one-click unsubscribe."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from perksu.errors import NotFoundError
from perksu.pages import member_required
from tenants.models import User

from . import selectors, services
from .emails import read_unsubscribe_token
from .models import EmailCategory


@member_required
def notification_list(request: HttpRequest) -> HttpResponse:
    items, next_cursor = selectors.notifications_page(request.user, before=request.GET.get("before"))
    return render(
        request,
        "events/notifications.html",
        {"items": items, "next_cursor": next_cursor, "unread": selectors.unread_count(request.user)},
    )


@member_required
@require_POST
def notification_read(request: HttpRequest, notification_id) -> HttpResponse:
    try:
        notification = services.notification_mark_read(user=request.user, notification_id=notification_id)
    except NotFoundError as exc:
        raise Http404("Notification not found.") from exc
    target = request.POST.get("next", "")
    if target == "open" and notification.url:
        return redirect(notification.url)
    return redirect("events:notifications")


@member_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    count = services.notification_mark_all_read(user=request.user)
    messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked read.")
    back = request.POST.get("next", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("events:notifications")


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    user = request.user
    categories = selectors.categories_for(user)
    if request.method == "POST":
        chosen = set(request.POST.getlist("on"))
        services.email_preferences_set(user=user, enabled={value: value in chosen for value, _ in categories})
        messages.success(request, "Your e-mail preferences are saved.")
        return redirect("events:preferences")
    return render(request, "events/preferences.html", {"preferences": selectors.email_preferences(user)})


@csrf_exempt  # the signed token is the credential; RFC 8058 mail clients POST without a session
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a confirmation (link scanners fetch links); POST switches the category off (RFC 8058 one-click)."""
    try:
        user_id, category = read_unsubscribe_token(token)
        user = User.objects.get(pk=user_id)
    except (signing.BadSignature, User.DoesNotExist, ValueError) as exc:
        raise Http404("This unsubscribe link is not valid.") from exc
    label = EmailCategory(category).label
    if request.method == "POST":
        services.email_opt_out(user=user, category=category)
        return render(request, "events/unsubscribed.html", {"label": label, "email": user.email, "done": True})
    return render(request, "events/unsubscribed.html", {"label": label, "email": user.email, "done": False})
