"""Spending wallet points: the reward catalog, redemptions and their refunds."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from uuid import UUID, uuid4

from django.db import connections, router, transaction
from django.db.models import F
from django.utils import timezone

from events import event_types, payloads
from events.services import record_event
from perksu.errors import DomainError, NotFoundError, PermissionDeniedError, get_or_not_found, insufficient
from points.amounts import require_amount
from points.audit import log_movement
from points.services import require_manager
from tenants.models import User

from .models import Redemption, Reward, VoucherCode, Wallet, WalletLedger

WALLET_LABEL = "wallet balance"
# Crockford-style alphabet: no 0/O or 1/I/L to misread when typing a code.
VOUCHER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True)
class RedemptionResult:
    redemption: Redemption
    ledger_entry: WalletLedger
    wallet_balance_after: int


VOUCHER_CODE_DRAWS = 5
"""Codes drawn for one redemption before giving up: a drawn code is already held about once in 2**98."""


def voucher_code() -> str:
    """An unguessable voucher code, e.g. PRK-7KQ2-M9XD-4TBW-H3ZP (about 98 bits from `secrets`)."""
    chars = "".join(secrets.choice(VOUCHER_ALPHABET) for _ in range(20))
    return "PRK-" + "-".join(chars[i : i + 5] for i in range(0, 20, 5))


def voucher_code_claim(*, tenant_id: UUID, redemption_id: UUID) -> str:
    """A new voucher code, held for `redemption_id` in `voucher_codes` (the caller's transaction).

    One `INSERT … ON CONFLICT DO NOTHING` per draw: a code another redemption holds (or is claiming
    in a transaction not yet ended, which this one waits for) is drawn again, nothing else is written.
    """
    table = VoucherCode._meta.db_table
    connection = connections[router.db_for_write(VoucherCode)]
    params = [
        VoucherCode._meta.get_field(name).get_db_prep_value(value, connection)
        for name, value in (("tenant_id", tenant_id), ("redemption_id", redemption_id))
    ]
    with connection.cursor() as cursor:
        for _ in range(VOUCHER_CODE_DRAWS):
            code = voucher_code()
            cursor.execute(
                f"INSERT INTO {table} (code, tenant_id, redemption_id) VALUES (%s, %s, %s) "
                f"ON CONFLICT (code) DO NOTHING RETURNING code",
                [code, *params],
            )
            if cursor.fetchone() is not None:
                return code
    raise RuntimeError(f"No free voucher code in {VOUCHER_CODE_DRAWS} draws: the code generator is broken.")


def reward_create(
    *, actor: User, name: str, points_cost: int, description: str = "", stock: int | None = None, is_active: bool = True
) -> Reward:
    require_manager(actor)
    reward = Reward(tenant_id=actor.tenant_id, **_reward_fields(name, points_cost, description, stock, is_active))
    reward.save(force_insert=True)
    return reward


def reward_update(*, actor: User, reward: Reward, **changes) -> Reward:
    """Change catalog fields of a reward of the actor's tenant. Stock set here is the new absolute stock."""
    require_manager(actor)
    if reward.tenant_id != actor.tenant_id:
        raise NotFoundError("Reward not found.")
    current = {f: getattr(reward, f) for f in ("name", "points_cost", "description", "stock", "is_active")}
    unknown = set(changes) - set(current)
    if unknown:
        raise DomainError(f"Unknown reward field {sorted(unknown)[0]!r}.", code="invalid")
    fields = _reward_fields(**{**current, **changes})
    # Write only what changed: a concurrent redemption may be moving the stock.
    Reward.objects.filter(tenant_id=reward.tenant_id, pk=reward.pk).update(**{key: fields[key] for key in changes})
    for key in changes:
        setattr(reward, key, fields[key])
    return reward


def _reward_fields(name: str, points_cost: int, description: str, stock: int | None, is_active: bool) -> dict:
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise DomainError("A reward needs a name of at most 200 characters.", code="invalid", field="name")
    points_cost = require_amount(points_cost, field="points_cost")
    if stock is not None and (isinstance(stock, bool) or not isinstance(stock, int) or stock < 0):
        raise DomainError("Stock is a whole number ≥ 0, or empty for unlimited.", code="invalid", field="stock")
    return {
        "name": name,
        "points_cost": points_cost,
        "description": (description or "").strip(),
        "stock": stock,
        "is_active": bool(is_active),
    }


def redemption_create(
    *, user: User, reward_id: UUID | str, expected_points_cost: int | None = None
) -> RedemptionResult:
    """Spend wallet points on a reward: wallet −= cost, stock −= 1, a DEBIT and a voucher.

    Locks the wallet, then the reward (SPEC §4 order). `expected_points_cost` is the
    price the member confirmed: if the reward's price is another by the time its row is
    locked (a manager changed it in between), nothing moves and `price_changed` says the
    current price. Without it, the price at that moment is charged.
    """
    if expected_points_cost is not None:
        expected_points_cost = require_amount(expected_points_cost, field="expected_points_cost")
    if not (user.is_active and user.member_tenant_id):
        raise PermissionDeniedError("Only active tenant members redeem rewards.")
    with transaction.atomic():
        wallet = Wallet.objects.select_for_update().get(tenant_id=user.tenant_id, user=user)
        reward = get_or_not_found(
            Reward.objects.select_for_update(), "Reward not found.", pk=reward_id, tenant_id=user.tenant_id
        )
        if not reward.is_active:
            raise DomainError(f"{reward.name} is no longer available.", code="reward_inactive")
        if reward.stock is not None and reward.stock < 1:
            raise DomainError(f"{reward.name} is out of stock.", code="out_of_stock")
        cost = reward.points_cost
        if expected_points_cost is not None and expected_points_cost != cost:
            raise DomainError(
                f"The price of {reward.name} changed from {expected_points_cost:,} to {cost:,} points since you "
                "confirmed. Nothing was redeemed; confirm the new price to redeem.",
                code="price_changed",
                points_cost=cost,
                expected_points_cost=expected_points_cost,
            )
        if wallet.balance < cost:
            raise insufficient(WALLET_LABEL, available=wallet.balance, required=cost)

        Wallet.objects.filter(tenant_id=wallet.tenant_id, pk=wallet.pk).update(
            balance=F("balance") - cost, lifetime_spent=F("lifetime_spent") + cost, last_entry_no=F("last_entry_no") + 1
        )
        if reward.stock is not None:
            Reward.objects.filter(tenant_id=reward.tenant_id, pk=reward.pk).update(stock=F("stock") - 1)
        redemption_id = uuid4()
        redemption = Redemption.objects.create(
            id=redemption_id,
            tenant_id=user.tenant_id,
            user=user,
            reward=reward,
            points_spent=cost,
            voucher_code=voucher_code_claim(tenant_id=user.tenant_id, redemption_id=redemption_id),
        )
        entry = WalletLedger.objects.create(
            tenant_id=user.tenant_id,
            wallet=wallet,
            entry_no=wallet.last_entry_no + 1,
            entry_type=WalletLedger.EntryType.DEBIT,
            source=WalletLedger.Source.REDEMPTION,
            amount=cost,
            balance_after=wallet.balance - cost,
            actor=user,
            redemption=redemption,
            note=reward.name[:500],
        )
        log_movement(
            "redeem",
            tenant_id=user.tenant_id,
            actor_id=user.pk,
            amount=cost,
            wallet_after=wallet.balance - cost,
            redemption_id=redemption.pk,
            reward_id=reward.pk,
        )
        record_event(
            tenant_id=user.tenant_id,
            name=event_types.REDEMPTION_ISSUED,
            payload=payloads.redemption(redemption, user=user, reward=reward),
            actor_id=user.pk,
        )
    return RedemptionResult(redemption, entry, wallet.balance - cost)


def redemption_refund(*, actor: User, redemption_id: UUID | str) -> RedemptionResult:
    """A manager reverses a redemption: wallet += cost, stock += 1, a REFUND credit.

    Locks the redeemer's wallet, then the reward; the status flips with a
    conditional UPDATE, so a redemption is refunded at most once.
    """
    require_manager(actor)
    redemption = get_or_not_found(
        Redemption.objects.select_related("reward", "user"),
        "Redemption not found.",
        pk=redemption_id,
        tenant_id=actor.tenant_id,
    )
    with transaction.atomic():
        tenant_id = redemption.tenant_id
        wallet = Wallet.objects.select_for_update().get(tenant_id=tenant_id, user_id=redemption.user_id)
        Reward.objects.select_for_update().filter(tenant_id=tenant_id, pk=redemption.reward_id).values_list(
            "pk"
        ).first()
        now = timezone.now()
        flipped = Redemption.objects.filter(
            tenant_id=tenant_id, pk=redemption.pk, status=Redemption.Status.ISSUED
        ).update(status=Redemption.Status.REFUNDED, refunded_at=now, refunded_by=actor)
        if not flipped:
            raise DomainError("This redemption was already refunded.", code="already_refunded")
        cost = redemption.points_spent
        Wallet.objects.filter(tenant_id=tenant_id, pk=wallet.pk).update(
            balance=F("balance") + cost, lifetime_spent=F("lifetime_spent") - cost, last_entry_no=F("last_entry_no") + 1
        )
        Reward.objects.filter(tenant_id=tenant_id, pk=redemption.reward_id, stock__isnull=False).update(
            stock=F("stock") + 1
        )
        entry = WalletLedger.objects.create(
            tenant_id=actor.tenant_id,
            wallet=wallet,
            entry_no=wallet.last_entry_no + 1,
            entry_type=WalletLedger.EntryType.CREDIT,
            source=WalletLedger.Source.REFUND,
            amount=cost,
            balance_after=wallet.balance + cost,
            actor=actor,
            redemption=redemption,
            note=f"Refund: {redemption.reward.name}"[:500],
        )
        log_movement(
            "refund",
            tenant_id=actor.tenant_id,
            actor_id=actor.pk,
            amount=cost,
            wallet_after=wallet.balance + cost,
            redemption_id=redemption.pk,
            user_id=redemption.user_id,
        )
        record_event(
            tenant_id=actor.tenant_id,
            name=event_types.REDEMPTION_REFUNDED,
            payload=payloads.redemption(
                redemption, user=redemption.user, reward=redemption.reward, status=Redemption.Status.REFUNDED
            ),
            actor_id=actor.pk,
        )
    redemption.status, redemption.refunded_at, redemption.refunded_by = Redemption.Status.REFUNDED, now, actor
    return RedemptionResult(redemption, entry, wallet.balance + cost)
