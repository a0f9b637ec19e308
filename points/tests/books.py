"""A snapshot of the whole books, to prove that a refused or failed operation changed nothing.

`books()` reads every balance (pools, lead budgets, wallets with their
counters), every tenant status, user role and activity, reward stock and cost,
redemption status, and the row count of every log and ledger. Two snapshots
compare equal exactly when nothing moved. Every suite (services, API, matrices,
faults, fuzzing) uses this one snapshot.
"""

from __future__ import annotations

from typing import Any

from points.models import (
    AllocationLog,
    DelegationLog,
    IdempotencyRecord,
    LeadBudget,
    PlatformBillingLog,
    PlatformIdempotencyRecord,
)
from recognition.models import AllowanceBoost, AllowanceUsage, Recognition
from tenants.models import Tenant, User
from wallets.models import Redemption, Reward, Wallet, WalletLedger

COUNTED = (
    AllocationLog,
    PlatformBillingLog,
    DelegationLog,
    WalletLedger,
    Recognition,
    Redemption,
    Reward,
    LeadBudget,
    Wallet,
    IdempotencyRecord,
    PlatformIdempotencyRecord,
    AllowanceUsage,
    AllowanceBoost,
)


def books() -> dict[str, Any]:
    return {
        "pools": dict(Tenant.objects.values_list("pk", "points_allocation_balance")),
        "tenant_status": dict(Tenant.objects.values_list("pk", "status")),
        "lead_budgets": dict(LeadBudget.objects.values_list("lead_id", "balance")),
        "wallets": dict(Wallet.objects.values_list("user_id", "balance")),
        "wallet_counters": {
            row[0]: row[1:]
            for row in Wallet.objects.values_list("user_id", "lifetime_earned", "lifetime_spent", "last_entry_no")
        },
        "users": {row[0]: row[1:] for row in User.objects.values_list("pk", "role", "is_active")},
        "stock": dict(Reward.objects.values_list("pk", "stock")),
        "costs": dict(Reward.objects.values_list("pk", "points_cost")),
        "redemptions": dict(Redemption.objects.values_list("pk", "status")),
        "allowances": {row[0]: row[1:] for row in AllowanceUsage.objects.values_list("pk", "limit", "given")},
        "counts": {model.__name__: model.objects.count() for model in COUNTED},
    }


def wallet_balance(user) -> int:
    return Wallet.objects.values_list("balance", flat=True).get(user=user)


def pool(tenant) -> int:
    return Tenant.objects.values_list("points_allocation_balance", flat=True).get(pk=tenant.pk)


def lead_budget(lead) -> int:
    return LeadBudget.objects.values_list("balance", flat=True).get(lead=lead)


def ledger(user) -> list[tuple]:
    """The user's wallet ledger, oldest first: (entry_no, entry_type, source, amount, balance_after)."""
    return list(
        WalletLedger.objects.filter(wallet__user=user)
        .order_by("entry_no")
        .values_list("entry_no", "entry_type", "source", "amount", "balance_after")
    )


def assert_reconciled(tenant_slug: str | None = None) -> None:
    from points.reconcile import reconcile

    reports = reconcile(tenant_slug=tenant_slug)
    assert reports, "no tenant was reconciled"
    drifts = [r.line() for r in reports if not r.ok]
    assert not drifts, drifts
