"""/recognize/ (awards and kudos) and /feed/ (the tenant's recognitions)."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from perksu.errors import DomainError
from perksu.formatting import format_number
from perksu.pages import (
    form_token,
    is_manager_or_lead,
    manager_required,
    member_required,
    renew_token,
    run_form,
)
from perksu.replica import replica_reads
from tenants.models import User

from . import engagement
from .forms import RecognitionForm, award_sources
from .models import Reaction, Recognition
from .selectors import FeedFilters, active_values, feed_page
from .services import recognition_add_on, recognition_create

# Where a recognition form may send the user back to (never a URL from the request).
RETURN_TO = {"manage": "points:manage", "recognize": "recognition:recognize"}
REFUSED = "The recognition was not sent: please correct the field marked below."

# The field a service refusal concerns, by its code (the rest concern the whole form).
FIELD_OF_CODE = {
    "insufficient_balance": "points",
    "over_award_cap": "points",
    "no_lead_budget": "points",
    "allowance_exceeded": "points",
    "value_required": "values",
    "too_many_values": "values",
    "invalid_funding_source": "points",
    "no_recipients": "recipients",
    "too_many_recipients": "recipients",
    "duplicate_recipients": "recipients",
    "self_recognition": "recipients",
    "inactive_user": "recipients",
    "not_found": "recipients",
}


def _field_for(code: str, field: str | None) -> str | None:
    return field or FIELD_OF_CODE.get(code)


def _names(ids: list[str], giver: User) -> str:
    names = dict(User.objects.filter(tenant_id=giver.tenant_id, pk__in=ids).values_list("pk", "full_name"))
    shown = [names.get(pk) or "a colleague" for pk in (User._meta.pk.to_python(i) for i in ids)]
    return ", ".join(shown[:3]) + (f" and {len(shown) - 3} more" if len(shown) > 3 else "")


def award_from_form(request: HttpRequest, form: RecognitionForm) -> dict | None:
    """Run a valid recognition form through `recognition_create` once per form token."""
    giver = request.user
    ids = form.cleaned_data["recipients"]
    points = form.points_value
    message = form.cleaned_data["message"]

    def operation() -> dict:
        result = recognition_create(
            giver=giver, recipient_ids=ids, points=points, message=message, values=form.values_value
        )
        who = _names(ids, giver)
        if result.points == 0:
            text = f"Kudos sent to {who}."
        else:
            source = {
                Recognition.FundingSource.POOL: "the company pool",
                Recognition.FundingSource.ALLOWANCE: "your allowance",
            }.get(result.funding_source, "your budget")
            total = result.points * len(ids)
            text = (
                f"Awarded {format_number(result.points)} points to {who} "
                f"({format_number(total)} in total, from {source})."
            )
        return {"message": text, "group_id": str(result.group_id), "total": result.points * len(ids)}

    return run_form(request, scope="award", operation=operation, form=form, field_for=_field_for)


@member_required
def recognize(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = RecognitionForm(request.POST, giver=request.user)
        return_to = request.POST.get("return_to", "")
        if form.is_valid():
            if award_from_form(request, form) is not None:
                return redirect(RETURN_TO.get(return_to, "recognition:recognize"))
        else:
            messages.error(request, REFUSED)
        # Refused: the page the form was on, with everything the user typed and a fresh token.
        renew_token(form)
        if return_to == "manage" and is_manager_or_lead(request.user):
            from points.views import render_manage  # the dashboard's page builds on this app's form

            return render_manage(request, award_form=form, status=400)
        status = 400
    else:
        search = request.GET.get("q", "")
        form = RecognitionForm(initial={"form_token": form_token()}, giver=request.user, search=search)
        status = 200
    context = {"form": form, "return_to": "recognize", "sources": award_sources(request.user)}
    return render(request, "recognition/recognize.html", context, status=status)


def _feed_filters(request: HttpRequest) -> FeedFilters:
    def uuid_param(name: str):
        try:
            return UUID(request.GET.get(name, ""))
        except ValueError:
            return None

    return FeedFilters(
        giver_id=uuid_param("giver"),
        receiver_id=uuid_param("receiver"),
        value_id=uuid_param("value"),
        team_id=uuid_param("team"),
        mine=request.GET.get("mine") == "1",
    )


@member_required
@replica_reads()
def feed(request: HttpRequest) -> HttpResponse:
    """One card per recognition group, newest first, by keyset; filters in the query string."""
    filters = _feed_filters(request)
    try:
        page = feed_page(viewer=request.user, filters=filters, cursor=request.GET.get("cursor") or None)
    except DomainError:
        page = feed_page(viewer=request.user, filters=filters)
    params = request.GET.copy()
    params.pop("cursor", None)
    next_query = None
    if page.next_cursor:
        params["cursor"] = page.next_cursor
        next_query = params.urlencode()
    members = User.objects.filter(tenant_id=request.user.tenant_id, is_active=True).order_by("full_name")
    context = {
        "cards": page.cards,
        "next_query": next_query,
        "is_first_page": not request.GET.get("cursor"),
        "filters": filters,
        "members": members.values_list("pk", "full_name"),
        "values": active_values(request.user.tenant_id),
        "emoji": Reaction.Emoji.values,
        "back": request.get_full_path(),
        "add_on_token": form_token(),
    }
    return render(request, "recognition/feed.html", context)


def _back(request: HttpRequest) -> HttpResponse:
    """Back to the feed page the form was on (a path of this site only)."""
    target = request.POST.get("next", "")
    if not target.startswith("/feed/") or target.startswith("//"):
        target = reverse("recognition:feed")
    return redirect(target)


def _refusal(request: HttpRequest, operation) -> None:
    try:
        operation()
    except DomainError as exc:
        messages.error(request, exc.message)


@member_required
@require_POST
def react(request: HttpRequest, group_id) -> HttpResponse:
    _refusal(
        request,
        lambda: engagement.reaction_toggle(user=request.user, recognition_id=group_id, emoji=request.POST.get("emoji")),
    )
    return _back(request)


@member_required
@require_POST
def comment(request: HttpRequest, group_id) -> HttpResponse:
    def operation():
        engagement.comment_create(author=request.user, recognition_id=group_id, text=request.POST.get("text", ""))
        messages.success(request, "Comment posted.")

    _refusal(request, operation)
    return _back(request)


@member_required
@require_POST
def comment_delete(request: HttpRequest, comment_id) -> HttpResponse:
    def operation():
        engagement.comment_delete(user=request.user, comment_id=comment_id)
        messages.success(request, "Comment deleted.")

    _refusal(request, operation)
    return _back(request)


@manager_required
@require_POST
def comment_hide(request: HttpRequest, comment_id) -> HttpResponse:
    hidden = request.POST.get("hidden", "1") == "1"

    def operation():
        engagement.comment_hide(actor=request.user, comment_id=comment_id, hidden=hidden)
        messages.success(request, "Comment hidden." if hidden else "Comment shown again.")

    _refusal(request, operation)
    return _back(request)


@member_required
@require_POST
def add_on(request: HttpRequest, group_id) -> HttpResponse:
    """+points on a recognition, once per form token (a double click adds once)."""
    raw = request.POST.get("points", "").strip()
    if not raw.isdigit() or int(raw) < 1:
        messages.error(request, "Enter the points to add, a whole number of at least 1.")
        return _back(request)
    points = int(raw)

    def operation() -> dict:
        result = recognition_add_on(
            giver=request.user, recognition_id=group_id, points=points, message=request.POST.get("message")
        )
        total = result.points * len(result.recognitions)
        return {"message": f"Added {result.points:,} points to each recipient ({total:,} in total)."}

    run_form(request, scope="add_on", operation=operation)
    return _back(request)
