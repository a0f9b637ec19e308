"""Recognition: awards with points, zero-point kudos, and company-wide distributions.

The funding rule (SPEC §4) lives in `resolve_funding_source` and nowhere else.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from uuid import UUID

from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.utils import timezone

from perksu.errors import DomainError, NotFoundError, PermissionDeniedError, insufficient
from points import balances
from points.amounts import require_amount
from points.audit import log_movement
from points.models import LeadBudget
from points.services import require_manager
from tenants.models import TENANT_ROLES, Role, Tenant, User
from wallets.models import Wallet, WalletLedger

from . import statements
from .models import Recognition

MAX_RECIPIENTS = 50
MAX_MESSAGE_LENGTH = 2000
Source = Recognition.FundingSource


@dataclass(frozen=True)
class AwardResult:
    tenant_id: UUID
    group_id: UUID
    points: int
    funding_source: str
    recognitions: list[Recognition]
    ledger_entries: list[WalletLedger]
    wallet_balances_after: dict[UUID, int]
    """Recipient user id → wallet balance after."""
    pool_balance_after: int
    lead_budget_after: int | None


@dataclass(frozen=True)
class DistributionResult:
    tenant_id: UUID
    group_id: UUID
    recipients: int
    amount_per_user: int
    total_awarded: int
    pool_balance_after: int


def _message(value: str | None) -> str:
    text = (value or "").strip()
    if not text:
        raise DomainError("A recognition message is required.", code="required", field="message")
    if len(text) > MAX_MESSAGE_LENGTH:
        raise DomainError(
            f"The message is longer than {MAX_MESSAGE_LENGTH} characters.", code="too_long", field="message"
        )
    return text


def _recipient_ids(values: Sequence[UUID | str]) -> list[UUID]:
    try:
        ids = [v if isinstance(v, UUID) else UUID(str(v)) for v in values]
    except (ValueError, TypeError, AttributeError) as exc:
        raise NotFoundError("Recipient not found.") from exc
    if not ids:
        raise DomainError("Choose at least one recipient.", code="no_recipients")
    if len(ids) > MAX_RECIPIENTS:
        raise DomainError(
            f"A recognition can have at most {MAX_RECIPIENTS} recipients.",
            code="too_many_recipients",
            maximum=MAX_RECIPIENTS,
        )
    if len(set(ids)) != len(ids):
        raise DomainError("A recipient is listed more than once.", code="duplicate_recipients")
    return ids


def _check_award_allowed(tenant: Tenant, points: int) -> None:
    if not tenant.is_active:
        raise balances.tenant_suspended()
    if tenant.max_award_points is not None and points > tenant.max_award_points:
        raise DomainError(
            f"{points} points is over this company's cap of {tenant.max_award_points} per recipient.",
            code="over_award_cap",
            maximum=tenant.max_award_points,
            required=points,
        )


def resolve_funding_source(*, giver: User, tenant: Tenant, total: int, requested: str | None) -> str:
    """Who pays an award of `total` points (SPEC §4).

    The pool pays if the giver is a manager and the pool covers the whole
    award; otherwise the giver's own lead budget if it covers it; otherwise the
    award is refused with both availabilities. `requested` names a source
    explicitly. The balances read here are a choice, not a reservation: the
    conditional update in `points.balances` is what guarantees no overdraft.
    """
    if requested == Source.POOL:
        if not giver.is_manager:
            raise PermissionDeniedError("Only tenant managers award from the company pool.")
        return Source.POOL
    if requested == Source.LEAD_BUDGET:
        if not LeadBudget.objects.filter(lead=giver).exists():
            raise DomainError("You have no lead budget.", code="no_lead_budget")
        return Source.LEAD_BUDGET
    if requested not in (None, ""):
        raise DomainError(f"Unknown funding source {requested!r}.", code="invalid_funding_source")

    pool = tenant.points_allocation_balance if giver.is_manager else None
    if pool is not None and pool >= total:
        return Source.POOL
    budget = LeadBudget.objects.filter(lead=giver).values_list("balance", flat=True).first()
    if budget is not None and budget >= total:
        return Source.LEAD_BUDGET
    if pool is not None and budget is not None:
        raise DomainError(
            f"Insufficient funds. Company allocation pool available: {pool}; "
            f"lead budget available: {budget}; required: {total}.",
            code="insufficient_balance",
            available=max(pool, budget),
            pool_available=pool,
            lead_budget_available=budget,
            required=total,
        )
    if pool is not None:
        raise insufficient(balances.POOL_LABEL, available=pool, required=total)
    if budget is not None:
        raise insufficient(balances.LEAD_BUDGET_LABEL, available=budget, required=total)
    raise PermissionDeniedError("Only managers and leads with a budget can award points.")


def recognition_create(
    *,
    giver: User,
    recipient_ids: Sequence[UUID | str],
    points: int,
    message: str,
    funding_source: str | None = None,
) -> AwardResult:
    """Recognise one or more colleagues, with points (an award) or without (kudos).

    Locks the recipients' wallets in primary-key order, then the paying lead
    budget or tenant row last; one Recognition and, with points, one wallet
    CREDIT per recipient, all in one transaction.

    On PostgreSQL an award is first tried as one statement
    (`_award_in_one_statement`, the path the load runs through, see
    docs/PERFORMANCE.md); whatever it declines, and kudos, and every
    recognition on SQLite, take the general path `_recognise`, which refuses
    with the precise reason. Both write the same rows.
    """
    if not (giver.is_active and giver.tenant_id):
        raise PermissionDeniedError("Only active tenant members give recognition.")
    points = require_amount(points, field="points", minimum=0)
    message = _message(message)
    ids = _recipient_ids(recipient_ids)
    if giver.pk in ids:
        raise DomainError("You cannot recognise yourself.", code="self_recognition")
    if points > 0 and giver.role not in (Role.TENANT_MANAGER, Role.TENANT_LEAD):
        raise PermissionDeniedError("Only managers and leads award points; anyone can give kudos (0 points).")

    group_id = uuid.uuid4()
    now = timezone.now()
    if points > 0 and connection.vendor == "postgresql":
        paid = _award_in_one_statement(
            giver=giver, ids=ids, points=points, message=message, requested=funding_source, group_id=group_id, now=now
        )
        if paid is not None:
            return paid
    with transaction.atomic():
        return _recognise(
            giver=giver, ids=ids, points=points, message=message, requested=funding_source, group_id=group_id, now=now
        )


def _recognise(
    *, giver: User, ids: list[UUID], points: int, message: str, requested: str | None, group_id: UUID, now
) -> AwardResult:
    """The general path: every award on SQLite, kudos, and any award the one-statement path declined.

    Runs inside `recognition_create`'s transaction. It reads the tenant, checks
    and locks the recipients' wallets, then picks the source by the funding rule
    and refuses with the precise reason.
    """
    tenant = Tenant.objects.get(pk=giver.tenant_id)
    if not tenant.is_active:
        raise balances.tenant_suspended()
    # Recipients before funds: another tenant's member answers 404 whatever the
    # balances, so a refusal never tells whether an id exists elsewhere. The wallets
    # are locked first, as on every path; the paying row is locked last, by the debit.
    wallets_qs = Wallet.objects.filter(tenant_id=tenant.pk, user_id__in=ids).select_related("user")
    if points > 0:
        wallets_qs = wallets_qs.select_for_update(of=("self",))
    wallets = list(wallets_qs.order_by("pk"))
    if len(wallets) != len(ids):
        raise NotFoundError("Recipient not found.")
    inactive = [w.user for w in wallets if not w.user.is_active]
    if inactive:
        raise DomainError(
            f"{inactive[0].full_name or inactive[0].email} is deactivated and cannot be recognised.",
            code="inactive_user",
        )

    total = points * len(ids)
    if points > 0:
        _check_award_allowed(tenant, points)
        source = resolve_funding_source(giver=giver, tenant=tenant, total=total, requested=requested)
    elif requested not in (None, "", Source.NONE):
        raise DomainError("Kudos (0 points) have no funding source.", code="invalid_funding_source")
    else:
        source = Source.NONE
    by_user = {w.user_id: w for w in wallets}
    recognitions = Recognition.objects.bulk_create(
        [_recognition(giver, user_id, points, message, source, group_id, now) for user_id in ids]
    )
    if points == 0:
        return AwardResult(tenant.pk, group_id, 0, source, recognitions, [], {}, tenant.points_allocation_balance, None)

    Wallet.objects.filter(pk__in=[w.pk for w in wallets]).update(
        balance=F("balance") + points,
        lifetime_earned=F("lifetime_earned") + points,
        last_entry_no=F("last_entry_no") + 1,
    )
    entries = WalletLedger.objects.bulk_create(
        [
            _credit(
                r,
                wallet=by_user[r.receiver_id],
                entry_no=by_user[r.receiver_id].last_entry_no + 1,
                balance_after=by_user[r.receiver_id].balance + points,
            )
            for r in recognitions
        ]
    )
    lead_after = None
    pool_after = tenant.points_allocation_balance
    if source == Source.LEAD_BUDGET:
        lead_after = balances.lead_budget_debit(giver.pk, total)
    else:
        pool_after = balances.pool_debit(tenant.pk, total)
    result = AwardResult(
        tenant_id=tenant.pk,
        group_id=group_id,
        points=points,
        funding_source=source,
        recognitions=recognitions,
        ledger_entries=entries,
        wallet_balances_after={w.user_id: w.balance + points for w in wallets},
        pool_balance_after=pool_after,
        lead_budget_after=lead_after,
    )
    _log_award(giver, result)
    return result


def _log_award(giver: User, result: AwardResult) -> None:
    log_movement(
        "award",
        tenant_id=result.tenant_id,
        actor_id=giver.pk,
        amount=result.points * len(result.recognitions),
        points_per_recipient=result.points,
        funding_source=result.funding_source,
        group_id=result.group_id,
        wallets_after=result.wallet_balances_after,
        pool_after=result.pool_balance_after if result.funding_source == Source.POOL else None,
        lead_budget_after=result.lead_budget_after,
    )


def _award_in_one_statement(
    *, giver: User, ids: list[UUID], points: int, message: str, requested: str | None, group_id: UUID, now
) -> AwardResult | None:
    """A plain award in one statement, or None when it wrote nothing.

    None means the award is not a plain one (an unknown or unpermitted source,
    a recipient missing or deactivated, a suspended tenant, over the cap, short
    of funds, or the balance taken by a concurrent award): `_recognise` then
    decides, and refuses with the precise reason. With no source requested a
    manager's award tries the pool, so a manager whose pool is short still
    falls back to their lead budget there.

    Outside a transaction the statement runs in autocommit: it is its own
    transaction, committed when it returns (the result is then built from its
    rows). Inside one (an API request's), it runs in a savepoint, so a declined
    award leaves the caller's transaction usable.
    """
    if requested in (None, ""):
        source = Source.POOL if giver.role == Role.TENANT_MANAGER else Source.LEAD_BUDGET
    elif requested == Source.LEAD_BUDGET or (requested == Source.POOL and giver.role == Role.TENANT_MANAGER):
        source = requested
    else:
        return None
    row_ids = [(uuid.uuid4(), uuid.uuid4()) for _ in ids]  # (recognition, ledger entry) per recipient
    autocommit = connection.get_autocommit() and not connection.in_atomic_block
    try:
        with nullcontext() if autocommit else transaction.atomic():
            rows = statements.pay_award(
                giver=giver,
                ids=ids,
                row_ids=row_ids,
                points=points,
                message=message,
                source=source,
                group_id=group_id,
                now=now,
            )
    except DatabaseError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == statements.AWARD_NOT_PAID:
            return None
        raise
    if len(rows) != len(ids):
        return None

    by_user = {user_id: (wallet_id, balance, entry_no) for user_id, wallet_id, balance, entry_no, _, _ in rows}
    _, _, _, _, payer_after, pool_after = rows[0]
    recognitions, entries = [], []
    for user_id, (recognition_id, entry_id) in zip(ids, row_ids, strict=True):
        wallet_id, balance, entry_no = by_user[user_id]
        recognition = _loaded(_recognition(giver, user_id, points, message, source, group_id, now, id=recognition_id))
        recognitions.append(recognition)
        entries.append(
            _loaded(_credit(recognition, wallet_id=wallet_id, entry_no=entry_no, balance_after=balance, id=entry_id))
        )
    result = AwardResult(
        tenant_id=giver.tenant_id,
        group_id=group_id,
        points=points,
        funding_source=source,
        recognitions=recognitions,
        ledger_entries=entries,
        wallet_balances_after={user_id: row[1] for user_id, row in by_user.items()},
        pool_balance_after=payer_after if source == Source.POOL else pool_after,
        lead_budget_after=payer_after if source == Source.LEAD_BUDGET else None,
    )
    _log_award(giver, result)  # in autocommit the award has committed, and the line is written now
    return result


def _recognition(giver: User, receiver_id: UUID, points: int, message: str, source: str, group_id: UUID, now, **pk):
    """One recipient's Recognition row of an award or kudos, as both paths write it."""
    return Recognition(
        tenant_id=giver.tenant_id,
        giver=giver,
        receiver_id=receiver_id,
        points=points,
        message=message,
        funding_source=source,
        group_id=group_id,
        created_at=now,
        **pk,
    )


def _credit(recognition: Recognition, *, entry_no: int, balance_after: int, **wallet_and_pk) -> WalletLedger:
    """The wallet CREDIT of one recognition with points, as both paths write it."""
    return WalletLedger(
        tenant_id=recognition.tenant_id,
        entry_no=entry_no,
        entry_type=WalletLedger.EntryType.CREDIT,
        source=WalletLedger.Source.RECOGNITION,
        amount=recognition.points,
        balance_after=balance_after,
        actor=recognition.giver,
        recognition=recognition,
        note=recognition.message[:500],
        created_at=recognition.created_at,
        **wallet_and_pk,
    )


def _loaded(instance):
    """Mark a model instance built from rows just written as saved, as if read from the database."""
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance


def recognition_distribute(
    *, giver: User, amount_per_user: int, message: str, roles: Sequence[str] | None = None
) -> DistributionResult:
    """Award `amount_per_user` from the pool to every active member (optionally of
    some roles) except the giver, in one transaction.

    Set-based: the recipients are fixed by one INSERT … SELECT of their
    Recognition rows; their wallets are locked in primary-key order, credited
    by one UPDATE and ledgered by one INSERT … SELECT; the pool is debited last.
    The number of statements does not depend on the number of members.
    """
    require_manager(giver)
    amount = require_amount(amount_per_user, field="amount_per_user")
    message = _message(message)
    allowed = [r.value for r in TENANT_ROLES]
    roles = list(dict.fromkeys(roles or allowed))
    unknown = [r for r in roles if r not in allowed]
    if unknown:
        raise DomainError(f"Unknown role {unknown[0]!r}.", code="invalid_role", field="roles")

    tenant = Tenant.objects.get(pk=giver.tenant_id)
    _check_award_allowed(tenant, amount)
    recipients = Wallet.objects.filter(tenant_id=tenant.pk, user__is_active=True, user__role__in=roles).exclude(
        user_id=giver.pk
    )
    expected = recipients.count()
    if expected == 0:
        raise DomainError("There is nobody to distribute to.", code="no_recipients")
    if tenant.points_allocation_balance < amount * expected:
        raise insufficient(balances.POOL_LABEL, available=tenant.points_allocation_balance, required=amount * expected)

    group_id = uuid.uuid4()
    with transaction.atomic():
        count = statements.insert_distribution_recognitions(
            recipients, giver=giver, amount=amount, message=message, group_id=group_id, now=timezone.now()
        )
        members = Wallet.objects.filter(user_id__in=Recognition.objects.filter(group_id=group_id).values("receiver_id"))
        if connection.features.has_select_for_update:
            list(members.select_for_update(of=("self",)).order_by("pk").values_list("pk", flat=True))
        members.update(
            balance=F("balance") + amount,
            lifetime_earned=F("lifetime_earned") + amount,
            last_entry_no=F("last_entry_no") + 1,
        )
        statements.insert_distribution_ledger(group_id=group_id, giver=giver, amount=amount, note=message[:500])
        pool_after = balances.pool_debit(tenant.pk, amount * count)
        log_movement(
            "distribute",
            tenant_id=tenant.pk,
            actor_id=giver.pk,
            amount=amount * count,
            points_per_recipient=amount,
            recipients=count,
            funding_source=Source.POOL,
            group_id=group_id,
            pool_after=pool_after,
        )
    return DistributionResult(tenant.pk, group_id, count, amount, amount * count, pool_after)
