"""/manage/settings/automation/: the three automated award rules and the recent daily runs."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from perksu.errors import DomainError
from perksu.pages import manager_required

from . import services
from .forms import RuleForm, milestones_text
from .models import AutomatedAward, AutomationRun, AwardRule

DESCRIPTIONS = {
    AwardRule.Kind.BIRTHDAY: "On a member's birthday, for members who chose to share it on their profile.",
    AwardRule.Kind.ANNIVERSARY: "On the anniversary of the hire date, in the milestone years only.",
    AwardRule.Kind.NEW_HIRE: "A welcome, a number of days after the hire date.",
}


def _initial(rule: AwardRule) -> dict:
    return {
        "is_active": rule.is_active,
        "points": rule.points,
        "milestones": milestones_text(rule.milestones),
        "days_after_hire": rule.days_after_hire,
        "message_template": rule.message_template,
    }


@manager_required
def automation(request: HttpRequest) -> HttpResponse:
    rules = services.rules_for(request.user.tenant_id)
    forms = {rule.kind: RuleForm(initial=_initial(rule), kind=rule.kind) for rule in rules}
    status = 200
    if request.method == "POST":
        kind = request.POST.get("kind", "")
        if kind not in forms:
            messages.error(request, "Unknown rule.")
            return redirect("automation:settings")
        form = RuleForm(request.POST, kind=kind)
        forms[kind] = form
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if v is not None}
            try:
                services.rule_update(actor=request.user, kind=kind, **data)
            except DomainError as exc:
                field = exc.extra.get("field")
                form.add_error(field if field in form.fields else None, exc.message)
            else:
                messages.success(request, f"{AwardRule.Kind(kind).label} awards saved.")
                return redirect("automation:settings")
        status = 400
    tenant = request.user.tenant
    context = {
        "rules": [(rule, forms[rule.kind], DESCRIPTIONS[rule.kind]) for rule in rules],
        "runs": AutomationRun.objects.filter(tenant_id=tenant.pk).order_by("-run_date", "-id")[:14],
        "recent": AutomatedAward.objects.filter(tenant_id=tenant.pk)
        .select_related("user", "rule")
        .order_by("-created_at", "-id")[:10],
        "tenant": tenant,
        "run_hour": services.RUN_HOUR,
    }
    return render(request, "automation/settings.html", context, status=status)
