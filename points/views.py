"""/manage/: the manager and lead dashboard, its pool card feed, delegate and recall."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.contrib import messages
from django.db.models import BigIntegerField, Case, ExpressionWrapper, F, Q, Sum, When
from django.db.models.functions import TruncDate
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from perksu.formatting import format_number
from perksu.pages import (
    form_token,
    manager_or_lead_required,
    manager_required,
    renew_token,
    require_POST_page,
    run_form,
)
from recognition.forms import RecognitionForm
from recognition.models import Recognition
from tenants.models import Role, User

from .forms import DelegateForm, RecallForm
from .models import AllocationLog, DelegationLog, LeadBudget
from .selectors import pool_stats
from .services import lead_delegate, lead_recall

CHART_DAYS = 30
CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 600, 160, 8


@dataclass(frozen=True)
class PoolChart:
    """The pool's closing balance on each of the last days, drawn as an SVG polyline."""

    days: list[tuple[dt.date, int]]
    points: str
    area: str
    low: int
    high: int

    @property
    def first(self) -> tuple[dt.date, int]:
        return self.days[0]

    @property
    def last(self) -> tuple[dt.date, int]:
        return self.days[-1]


def _daily(queryset, amount) -> dict[dt.date, int]:
    """The sum of `amount` (an expression) per day of `created_at`."""
    rows = queryset.annotate(day=TruncDate("created_at")).values("day").annotate(total=Sum(amount))
    return {row["day"]: row["total"] for row in rows}


def _signed(outflow: Q) -> Case:
    """`amount`, negated for the rows that take points out of the pool."""
    return Case(When(outflow, then=-F("amount")), default=F("amount"), output_field=BigIntegerField())


def pool_history(tenant_id, current_balance: int, *, days: int = CHART_DAYS, today: dt.date | None = None) -> PoolChart:
    """Closing pool balance per day, reconstructed backwards from today's balance.

    Every pool movement of the window is summed per day (allocations and recalls
    add; clawbacks, delegations and pool-funded awards subtract): the close of
    day d is today's balance minus the net movements of the days after d. Three
    grouped queries, whatever the number of movements.
    """
    today = today or timezone.localdate()
    start = today - dt.timedelta(days=days - 1)
    since = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    window = {"tenant_id": tenant_id, "created_at__gte": since}
    net: dict[dt.date, int] = {}
    sources = [
        _daily(AllocationLog.objects.filter(**window), _signed(Q(kind=AllocationLog.Kind.CLAWBACK))),
        _daily(DelegationLog.objects.filter(**window), _signed(Q(kind=DelegationLog.Kind.DELEGATION))),
        _daily(
            Recognition.objects.filter(**window, funding_source=Recognition.FundingSource.POOL),
            ExpressionWrapper(-F("points"), output_field=BigIntegerField()),
        ),
    ]
    for source in sources:
        for day, amount in source.items():
            net[day] = net.get(day, 0) + amount
    closes: list[tuple[dt.date, int]] = []
    balance = current_balance
    for offset in range(days):
        day = today - dt.timedelta(days=offset)
        closes.append((day, balance))
        balance -= net.get(day, 0)
    closes.reverse()
    return _chart(closes)


def _chart(closes: list[tuple[dt.date, int]]) -> PoolChart:
    values = [v for _, v in closes]
    low, high = min(values), max(values)
    span = max(high - low, 1)
    bottom = CHART_HEIGHT - CHART_PAD
    step = (CHART_WIDTH - 2 * CHART_PAD) / max(len(values) - 1, 1)
    coords = []
    for i, value in enumerate(values):
        x = CHART_PAD + i * step
        y = bottom - (value - low) / span * (CHART_HEIGHT - 2 * CHART_PAD) if high > low else CHART_HEIGHT / 2
        coords.append(f"{x:.1f},{y:.1f}")
    line = " ".join(coords)
    area = f"{CHART_PAD:.1f},{bottom:.1f} {line} {CHART_PAD + (len(values) - 1) * step:.1f},{bottom:.1f}"
    return PoolChart(days=closes, points=line, area=area, low=low, high=high)


def _pool_card(user: User) -> dict:
    stats = pool_stats(user.tenant_id)
    return {
        "tenant_name": stats.tenant_name,
        "balance": stats.points_allocation_balance,
        "balance_display": format_number(stats.points_allocation_balance),
        "currency_label": stats.currency_label,
        "balance_status": stats.balance_status,
        "status_label": {"ready": "Ready", "low": "Low balance", "empty": "No points"}[stats.balance_status],
        "message": stats.message,
        "tenant_status": stats.status,
        "delegated_outstanding": stats.delegated_outstanding,
        "delegated_display": format_number(stats.delegated_outstanding),
        "wallets_outstanding": stats.wallets_outstanding,
        "wallets_display": format_number(stats.wallets_outstanding),
    }


def pool_card_context(user: User) -> dict | None:
    """The Company Distribution Pool card for a manager; leads and employees get none."""
    return _pool_card(user) if user.is_manager else None


@manager_or_lead_required
def manage(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        # The dashboard's award form posts here, so a refusal shows at /manage/ with what was typed.
        from recognition.views import recognize

        return recognize(request)
    return render_manage(request)


def render_manage(
    request: HttpRequest,
    *,
    award_form: RecognitionForm | None = None,
    delegate_form: DelegateForm | None = None,
    recall_form: tuple[str, RecallForm] | None = None,
    confirm_recall: dict | None = None,
    status: int = 200,
) -> HttpResponse:
    """The dashboard; a form sent back with an error (or a recall awaiting confirmation) is shown as the
    user left it, in place of its blank twin."""
    user = request.user
    tenant_id = user.tenant_id
    context: dict = {
        "pool": pool_card_context(user),
        "award_form": award_form or RecognitionForm(initial={"form_token": form_token()}, giver=user),
        # Profiles joined: each name shows with its photo or initials, at no query per row.
        "recent_recognitions": Recognition.objects.filter(tenant_id=tenant_id)
        .select_related("giver__profile", "receiver__profile", "tenant")
        .order_by("-created_at", "-id")[:10],
        "confirm_recall": confirm_recall,
    }
    if user.is_manager:
        budgets = list(
            LeadBudget.objects.filter(tenant_id=tenant_id, lead__role=Role.TENANT_LEAD)
            .select_related("lead__profile")
            .order_by("lead__full_name")
        )
        rows = []
        for i, budget in enumerate(budgets):
            if recall_form is not None and recall_form[0] == str(budget.lead_id):
                form = recall_form[1]
            else:
                form = RecallForm(initial={"form_token": form_token()}, auto_id=f"id_recall_{i}_%s")
            rows.append((budget, form))
        context.update(
            budgets=rows,
            delegate_form=delegate_form or DelegateForm(initial={"form_token": form_token()}, manager=user),
            allocations=AllocationLog.objects.filter(tenant_id=tenant_id).order_by("-created_at", "-id")[:10],
            delegations=DelegationLog.objects.filter(tenant_id=tenant_id)
            .select_related("lead__profile", "actor")
            .order_by("-created_at", "-id")[:10],
            chart=pool_history(tenant_id, context["pool"]["balance"]),
            # The preview's figures, already read for the pool card (a manager's awards are pool-funded).
            sources={"pool": context["pool"]["balance"]},
        )
    else:
        my_budget = LeadBudget.objects.filter(lead=user).values_list("balance", flat=True).first() or 0
        context.update(
            my_budget=my_budget,
            sources={"budget": my_budget},
            delegations=DelegationLog.objects.filter(lead=user)
            .select_related("actor", "lead__profile")
            .order_by("-created_at", "-id")[:10],
        )
    return render(request, "points/manage.html", context, status=status)


@manager_required
def pool_json(request: HttpRequest) -> JsonResponse:
    """What the pool card shows, for its 30-second refresh (session auth)."""
    response = JsonResponse(_pool_card(request.user))
    response["Cache-Control"] = "no-store"
    return response


DELEGATE_FIELDS = {"insufficient_balance": "amount", "not_a_lead": "lead", "inactive_user": "lead", "not_found": "lead"}
RECALL_FIELDS = {"insufficient_balance": "amount", "no_lead_budget": "amount"}


@require_POST_page
@manager_required
def delegate(request: HttpRequest) -> HttpResponse:
    form = DelegateForm(request.POST, manager=request.user)
    refused = "Nothing was delegated: please correct the field marked below."
    if form.is_valid():
        lead_id, amount, note = form.cleaned_data["lead"], form.cleaned_data["amount"], form.cleaned_data["note"]

        def operation() -> dict:
            result = lead_delegate(actor=request.user, lead_id=lead_id, amount=amount, note=note)
            return {
                "message": f"Delegated {format_number(result.amount)} points to {result.log.lead.full_name}. "
                f"Their budget: {format_number(result.lead_balance_after)}; "
                f"pool: {format_number(result.pool_balance_after)}."
            }

        field_for = lambda code, field: field or DELEGATE_FIELDS.get(code)  # noqa: E731
        if run_form(request, scope="delegate", operation=operation, form=form, field_for=field_for):
            return redirect("points:manage")
    else:
        messages.error(request, refused)
    return render_manage(request, delegate_form=renew_token(form), status=400)


@require_POST_page
@manager_required
def recall(request: HttpRequest, lead_id) -> HttpResponse:
    budget = (
        LeadBudget.objects.filter(tenant_id=request.user.tenant_id, lead_id=_uuid_or_none(lead_id))
        .select_related("lead")
        .first()
    )
    if budget is None:
        raise Http404("No such lead budget.")
    index = _recall_index(request.user, budget)
    form = RecallForm(request.POST, auto_id=f"id_recall_{index}_%s")
    refused = "Nothing was recalled: please correct the field marked below."
    lead_name = budget.lead.full_name or budget.lead.email
    if form.is_valid():
        amount, note = form.cleaned_data["amount"], form.cleaned_data["note"]
        if amount is None:
            confirmed = form.cleaned_data.get("confirm_all")
            if confirmed is None:
                # An empty amount takes the whole budget: name the figure and ask first.
                return render_manage(
                    request,
                    recall_form=(str(budget.lead_id), renew_token(form)),
                    confirm_recall={"lead_id": str(budget.lead_id), "lead": lead_name, "amount": budget.balance},
                )
            # Exactly what was confirmed: if the budget moved since, the recall is refused, not resized.
            amount = confirmed

        def operation() -> dict:
            result = lead_recall(actor=request.user, lead_id=budget.lead_id, amount=amount, note=note)
            return {
                "message": f"Recalled {format_number(result.amount)} points from {result.log.lead.full_name}. "
                f"Their budget: {format_number(result.lead_balance_after)}; "
                f"pool: {format_number(result.pool_balance_after)}."
            }

        field_for = lambda code, field: field or RECALL_FIELDS.get(code)  # noqa: E731
        body = run_form(request, scope=f"recall:{lead_id}", operation=operation, form=form, field_for=field_for)
        if body is not None:
            return redirect("points:manage")
    else:
        messages.error(request, refused)
    return render_manage(request, recall_form=(str(budget.lead_id), renew_token(form)), status=400)


def _uuid_or_none(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _recall_index(manager: User, budget: LeadBudget) -> int:
    """The row of `budget` on the dashboard, so a form sent back keeps its element ids."""
    ids = list(
        LeadBudget.objects.filter(tenant_id=manager.tenant_id, lead__role=Role.TENANT_LEAD)
        .order_by("lead__full_name")
        .values_list("lead_id", flat=True)
    )
    return ids.index(budget.lead_id) if budget.lead_id in ids else 0


def _errors(form) -> str:
    return " ".join(
        f"{form.fields[name].label if name in form.fields else ''}: {error}".lstrip(": ")
        for name, errors in form.errors.items()
        for error in errors
    )
