"""/wallet/ (balance and ledger) and /rewards/ (catalog, redeem, vouchers, refunds)."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from perksu.errors import NotFoundError, get_or_not_found
from perksu.formatting import format_number
from perksu.pages import (
    form_token,
    manager_required,
    member_required,
    paginate,
    query_without_page,
    require_POST_page,
    run_form,
)
from perksu.replica import replica_reads
from points.models import IdempotencyRecord
from points.views import pool_card_context
from recognition.models import Recognition

from .forms import LedgerFilterForm, RedeemForm, TokenForm
from .models import Redemption, Reward, Wallet, WalletLedger
from .selectors import voucher_code_of
from .services import redemption_create, redemption_refund

KUDOS_SHOWN = 10


@member_required
@replica_reads()
def wallet(request: HttpRequest) -> HttpResponse:
    # The member with their profile, for the page's photo and name, in the wallet's own query.
    wallet = Wallet.objects.select_related("user__profile").get(user=request.user)
    filters = LedgerFilterForm(request.GET or None)
    entries = (
        WalletLedger.objects.filter(wallet=wallet)
        .select_related("actor", "recognition", "recognition__giver__profile")
        .order_by("-entry_no")
    )
    if filters.is_valid():
        if filters.cleaned_data["entry_type"]:
            entries = entries.filter(entry_type=filters.cleaned_data["entry_type"])
        if filters.cleaned_data["source"]:
            entries = entries.filter(source=filters.cleaned_data["source"])
    page = paginate(request, entries, per_page=20)
    return render(
        request,
        "wallets/wallet.html",
        {
            "wallet": wallet,
            "filters": filters,
            "page": page,
            "query": query_without_page(request),
            # Kudos move no points, so they are not in the ledger: listed apart.
            "kudos": Recognition.objects.filter(receiver=request.user, points=0)
            .select_related("giver__profile", "tenant")
            .order_by("-created_at", "-id")[:KUDOS_SHOWN],
        },
    )


@member_required
def rewards(request: HttpRequest) -> HttpResponse:
    user = request.user
    wallet = Wallet.objects.get(user=user)
    catalog = list(Reward.objects.filter(tenant_id=user.tenant_id, is_active=True).order_by("points_cost", "name"))
    for reward in catalog:
        reward.missing = max(reward.points_cost - wallet.balance, 0)
    context = {
        "pool": pool_card_context(user),
        "wallet": wallet,
        "rewards": catalog,
        "my_redemptions": Redemption.objects.filter(user=user).select_related("reward").order_by("-created_at")[:20],
    }
    if user.is_manager:
        issued = (
            Redemption.objects.filter(tenant_id=user.tenant_id, status=Redemption.Status.ISSUED)
            .select_related("reward", "user")
            .order_by("-created_at", "-id")
        )
        context["issued"] = paginate(request, issued, per_page=20)
        context["refund_token"] = form_token()
    return render(request, "wallets/rewards.html", context)


JUST_REDEEMED = dt.timedelta(hours=24)
"""A redemption of the same reward this recent makes the confirmation ask explicitly before a second one."""


def _recent_redemption(user, reward) -> Redemption | None:
    since = timezone.now() - JUST_REDEEMED
    return (
        Redemption.objects.filter(user=user, reward=reward, created_at__gte=since)
        .order_by("-created_at", "-id")
        .first()
    )


@member_required
def redeem(request: HttpRequest, reward_id) -> HttpResponse:
    """GET: the confirmation step. POST: spend the points once per form token.

    After a redemption, the confirmation (reached again with Back or a bookmark) says it was just redeemed,
    links to the voucher and asks explicitly (`again`) before a second purchase."""
    user = request.user
    reward = get_or_404(Reward.objects.filter(tenant_id=user.tenant_id), reward_id)
    error = ""
    if request.method == "POST":
        form = RedeemForm(request.POST)
        recent = _recent_redemption(user, reward)
        if not form.is_valid():
            error = "This form has expired. Please confirm again."
        elif recent is not None and request.POST.get("again") != "yes" and not _is_replay(request, reward):
            error = f"You already redeemed {reward.name}. Tick “Yes, redeem another one” to buy a second one."
        else:
            expected = form.cleaned_data["expected_points_cost"]

            def operation() -> dict:
                # Stored for replays without the voucher code (docs/SECURITY.md): `reveal` adds it.
                result = redemption_create(user=user, reward_id=reward.pk, expected_points_cost=expected)
                return {
                    "message": f"You redeemed {reward.name} for {format_number(result.redemption.points_spent)} "
                    "points.",
                    "redemption_id": str(result.redemption.pk),
                }

            def reveal(body: dict) -> dict:
                code = voucher_code_of(user, body.get("redemption_id"))
                return {**body, "message": f"{body['message']} Your voucher code is {code}."} if code else body

            body = run_form(request, scope=f"redeem:{reward.pk}", operation=operation, reveal=reveal)
            if body is not None:
                return redirect("wallets:redemption", redemption_id=body["redemption_id"])
            # Refused (not enough points, out of stock, a new price): this page again, with today's figures.
            reward.refresh_from_db()
        if error:
            messages.error(request, error)
    wallet = Wallet.objects.get(user=user)
    response = render(
        request,
        "wallets/redeem_confirm.html",
        {
            "reward": reward,
            "wallet": wallet,
            "balance_after": wallet.balance - reward.points_cost,
            "missing": max(reward.points_cost - wallet.balance, 0),
            "recent": _recent_redemption(user, reward),
            "form": RedeemForm(initial={"form_token": form_token(), "expected_points_cost": reward.points_cost}),
            "error": error,
        },
        status=400 if request.method == "POST" else 200,
    )
    # Back after a purchase fetches the page again (and so shows "just redeemed"), never a stored copy.
    response["Cache-Control"] = "no-store"
    return response


def _is_replay(request: HttpRequest, reward: Reward) -> bool:
    """Whether this POST repeats an already answered form token (a double click): it replays, it never buys."""
    return IdempotencyRecord.objects.filter(
        tenant_id=request.user.tenant_id,
        user=request.user,
        scope=f"page:redeem:{reward.pk}",
        key=request.POST.get("form_token", "").strip(),
    ).exists()


@member_required
def redemption(request: HttpRequest, redemption_id) -> HttpResponse:
    """The voucher of one of the user's own redemptions."""
    item = get_or_404(Redemption.objects.filter(user=request.user).select_related("reward"), redemption_id)
    return render(request, "wallets/redemption.html", {"redemption": item})


@require_POST_page
@manager_required
def refund(request: HttpRequest, redemption_id) -> HttpResponse:
    form = TokenForm(request.POST)
    if not form.is_valid():
        messages.error(request, "This form has expired. Please try again.")
        return redirect("wallets:rewards")

    def operation() -> dict:
        result = redemption_refund(actor=request.user, redemption_id=redemption_id)
        item = result.redemption
        return {
            "message": f"Refunded {format_number(item.points_spent)} points to {item.user.full_name} "
            f"for {item.reward.name}. Their wallet: {format_number(result.wallet_balance_after)}."
        }

    run_form(request, scope=f"refund:{redemption_id}", operation=operation)
    return redirect("wallets:rewards")


def get_or_404(queryset, pk):
    """Unknown, malformed and other-tenant ids all answer the same 404."""
    try:
        return get_or_not_found(queryset, "Not found.", pk=pk)
    except NotFoundError as exc:
        raise Http404("Not found.") from exc
