"""/recognize/ (awards and kudos) and /feed/ (the tenant's recognitions)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from perksu.formatting import format_number
from perksu.pages import form_token, is_manager_or_lead, member_required, paginate, renew_token, run_form
from tenants.models import User

from .forms import RecognitionForm, award_sources
from .models import Recognition
from .services import recognition_create

# Where a recognition form may send the user back to (never a URL from the request).
RETURN_TO = {"manage": "points:manage", "recognize": "recognition:recognize"}
REFUSED = "The recognition was not sent: please correct the field marked below."

# The field a service refusal concerns, by its code (the rest concern the whole form).
FIELD_OF_CODE = {
    "insufficient_balance": "points",
    "over_award_cap": "points",
    "no_lead_budget": "points",
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
        result = recognition_create(giver=giver, recipient_ids=ids, points=points, message=message)
        who = _names(ids, giver)
        if result.points == 0:
            text = f"Kudos sent to {who}."
        else:
            source = "the company pool" if result.funding_source == Recognition.FundingSource.POOL else "your budget"
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


@member_required
def feed(request: HttpRequest) -> HttpResponse:
    recognitions = (
        Recognition.objects.filter(tenant_id=request.user.tenant_id)
        .select_related("giver", "receiver", "tenant")
        .order_by("-created_at", "-id")
    )
    page = paginate(request, recognitions, per_page=20)
    return render(request, "recognition/feed.html", {"page": page})
