"""Leavers' wallets (SPEC §11): with `leaver_policy = FORFEIT`, a deactivated member's
wallet returns to the company pool `leaver_forfeit_days` after the deactivation.

The forfeit is one transaction: the wallet's DEBIT (source `FORFEIT`) and the pool
credit, with a `ForfeitLog` row (the pool side, counted by reconcile's invariant 4)
and a money log line. A member reactivated before the day keeps their points: the
service re-reads the member under the locks and refuses unless the forfeit is due.
Running it twice moves nothing the second time (the wallet is empty).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from perksu.errors import DomainError
from points.audit import log_movement
from points.balances import pool_credit
from tenants.models import Tenant, User
from wallets.models import Wallet, WalletLedger

from .models import ForfeitLog, Profile

logger = logging.getLogger("perksu.people")


@dataclass(frozen=True)
class ForfeitResult:
    forfeit: ForfeitLog
    ledger_entry: WalletLedger
    pool_balance_after: int


def forfeit_due_at(tenant: Tenant, deactivated_at: dt.datetime) -> dt.datetime:
    return deactivated_at + dt.timedelta(days=tenant.leaver_forfeit_days)


def wallet_forfeit(*, user: User, actor: User | None = None, now: dt.datetime | None = None) -> ForfeitResult:
    """Return a leaver's whole wallet to the pool, if it is due.

    Locks the wallet, then the member's profile (a reactivation writes it, so the two
    cannot interleave), then the tenant row last (SPEC §4 order). Refuses, writing
    nothing: an active member, a tenant that keeps leavers' wallets, a forfeit not yet
    due, an empty wallet."""
    now = now or timezone.now()
    with transaction.atomic():
        wallet = Wallet.objects.select_for_update().get(tenant_id=user.tenant_id, user_id=user.pk)
        profile = (
            Profile.objects.select_for_update(of=("self",))
            .select_related("user")
            .get(tenant_id=user.tenant_id, user__tenant_id=user.tenant_id, user_id=user.pk)
        )
        tenant = Tenant.objects.get(pk=wallet.tenant_id)
        member = profile.user
        if member.is_active or profile.deactivated_at is None:
            raise DomainError(f"{member.email} is an active member: nothing is forfeited.", code="member_active")
        if tenant.leaver_policy != Tenant.LeaverPolicy.FORFEIT:
            raise DomainError(f"{tenant.name} keeps leavers' wallets.", code="leaver_policy_keep")
        due = forfeit_due_at(tenant, profile.deactivated_at)
        if due > now:
            raise DomainError(
                f"{member.email}'s wallet is forfeited from {due:%Y-%m-%d %H:%M} UTC, not before.",
                code="forfeit_not_due",
            )
        amount = wallet.balance
        if amount <= 0:
            raise DomainError(f"{member.email}'s wallet is empty.", code="wallet_empty")
        Wallet.objects.filter(tenant_id=tenant.pk, pk=wallet.pk).update(
            balance=F("balance") - amount,
            lifetime_spent=F("lifetime_spent") + amount,
            last_entry_no=F("last_entry_no") + 1,
        )
        entry = WalletLedger.objects.create(
            tenant_id=tenant.pk,
            wallet=wallet,
            entry_no=wallet.last_entry_no + 1,
            entry_type=WalletLedger.EntryType.DEBIT,
            source=WalletLedger.Source.FORFEIT,
            amount=amount,
            balance_after=0,
            actor=actor,
            note=f"Leaver's wallet returned to the pool ({tenant.leaver_forfeit_days} days after deactivation)",
        )
        pool_after = pool_credit(tenant.pk, amount)
        forfeit = ForfeitLog.objects.create(
            tenant_id=tenant.pk,
            user_id=member.pk,
            ledger_entry=entry,
            amount=amount,
            pool_balance_after=pool_after,
            deactivated_at=profile.deactivated_at,
            actor=actor,
        )
        log_movement(
            "forfeit",
            tenant_id=tenant.pk,
            actor_id=actor.pk if actor else None,
            amount=amount,
            user_id=member.pk,
            wallet_after=0,
            pool_after=pool_after,
        )
    return ForfeitResult(forfeit, entry, pool_after)


def forfeits_due(*, now: dt.datetime | None = None, tenant: Tenant | None = None) -> list[User]:
    """Deactivated members of FORFEIT tenants whose day has come and whose wallet holds points
    (one query per such tenant, by the partial index on deactivated profiles)."""
    now = now or timezone.now()
    tenants = Tenant.objects.filter(leaver_policy=Tenant.LeaverPolicy.FORFEIT)
    if tenant is not None:
        tenants = tenants.filter(pk=tenant.pk)
    due: list[User] = []
    for t in tenants:
        cutoff = now - dt.timedelta(days=t.leaver_forfeit_days)
        due.extend(
            User.objects.filter(
                tenant=t,
                is_active=False,
                profile__deactivated_at__isnull=False,
                profile__deactivated_at__lte=cutoff,
                wallet__balance__gt=0,
            ).order_by("pk")
        )
    return due


def forfeit_leavers(*, now: dt.datetime | None = None, tenant: Tenant | None = None) -> tuple[int, int]:
    """Forfeit every due wallet, each in its own transaction; return (wallets, points).
    A member reactivated or emptied meanwhile is skipped (the service refuses)."""
    count = points = 0
    for user in forfeits_due(now=now, tenant=tenant):
        try:
            result = wallet_forfeit(user=user, now=now)
        except DomainError as exc:
            logger.info("forfeit skipped for %s: %s", user.pk, exc.message)
            continue
        count += 1
        points += result.forfeit.amount
    return count, points
