"""Recognition: awards with points, zero-point kudos, and company-wide distributions.

The funding rule (SPEC §4) lives in `resolve_funding_source` and nowhere else.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from uuid import UUID

from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone

from events import event_types, payloads
from events.services import events_enabled, record_event
from perksu.errors import DomainError, NotFoundError, PermissionDeniedError, insufficient
from points import balances
from points.amounts import require_amount
from points.audit import log_movement
from points.models import LeadBudget
from points.services import require_manager
from tenants.models import TENANT_ROLES, Role, Tenant, User
from wallets.models import Wallet, WalletLedger

from . import allowances, statements
from .models import CompanyValue, Recognition, RecognitionValue

MAX_RECIPIENTS = 50
MAX_MESSAGE_LENGTH = 2000
MAX_VALUES = 3
HASHTAG = re.compile(r"#(\w+)")
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
    allowance_period: dt.date | None = None
    """For an allowance gift: the start of the giver's period it counted in."""
    allowance_given: int | None = None
    """For an allowance gift: the giver's `given` of that period, after it."""
    value_ids: tuple[UUID, ...] = ()


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
            readable=lambda n: (
                f"{n(points)} points is over this company's cap of {n(tenant.max_award_points)} per recipient."
            ),
            maximum=tenant.max_award_points,
            required=points,
        )


def _allowance_source(giver: User, tenant: Tenant, total: int, now: dt.datetime | None) -> str:
    """ALLOWANCE if the giver's allowance left covers `total`, else the refusal."""
    status = allowances.allowance_status(tenant=tenant, user=giver, at=now)
    if status.limit == 0:
        raise PermissionDeniedError("You have no allowance to give points from; anyone can give kudos (0 points).")
    if status.remaining < total:
        raise allowances.allowance_exceeded(remaining=status.remaining, required=total)
    return Source.ALLOWANCE


def resolve_funding_source(
    *, giver: User, tenant: Tenant, total: int, requested: str | None, now: dt.datetime | None = None
) -> str:
    """Who pays an award of `total` points (SPEC §4, §10).

    A manager: the pool if it covers the whole award; otherwise the giver's own
    lead budget if it covers it; otherwise the award is refused with both
    availabilities. A lead: its lead budget, then its allowance. An employee: its
    allowance. `requested` names a source explicitly (`ALLOWANCE` included). The
    balances read here are a choice, not a reservation: the conditional updates in
    `points.balances` and `allowances.allowance_take` guarantee no overdraft.
    """
    if requested == Source.ALLOWANCE:
        return _allowance_source(giver, tenant, total, now)
    if giver.role == Role.EMPLOYEE and requested in (None, ""):
        return _allowance_source(giver, tenant, total, now)
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
    if giver.role == Role.TENANT_LEAD:
        status = allowances.allowance_status(tenant=tenant, user=giver, at=now)
        if status.limit > 0:
            if status.remaining >= total:
                return Source.ALLOWANCE
            raise DomainError(
                f"Neither your lead budget nor your allowance covers this. Lead budget available: {budget or 0}; "
                f"allowance remaining: {status.remaining}; required: {total}.",
                code="allowance_exceeded",
                remaining=status.remaining,
                lead_budget_available=budget or 0,
                required=total,
            )
    if pool is not None and budget is not None:
        raise DomainError(
            f"Insufficient funds. Company allocation pool available: {pool}; "
            f"lead budget available: {budget}; required: {total}.",
            code="insufficient_balance",
            readable=lambda n: (
                f"Insufficient funds. Company allocation pool available: {n(pool)}; "
                f"lead budget available: {n(budget)}; required: {n(total)}."
            ),
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
    values: Sequence[UUID | str] | None = None,
    parent_id: UUID | None = None,
) -> AwardResult:
    """Recognise one or more colleagues, with points (an award) or without (kudos).

    Locks the recipients' wallets in primary-key order, then the paying lead
    budget, or the giver's allowance usage row and the tenant row, last; one
    Recognition and, with points, one wallet CREDIT per recipient, all in one
    transaction. `values` (ids) and the message's `#hashtags` name 0–3 company
    values; `parent_id` makes it an add-on to that recognition group.

    On PostgreSQL an award is first tried as one statement
    (`_award_in_one_statement`, the path the load runs through, see
    docs/PERFORMANCE.md); whatever it declines, and kudos, and every
    recognition on SQLite, take the general path `_recognise`, which refuses
    with the precise reason. Both write the same rows.
    """
    if not (giver.is_active and giver.member_tenant_id):
        raise PermissionDeniedError("Only active tenant members give recognition.")
    points = require_amount(points, field="points", minimum=0)
    message = _message(message)
    ids = _recipient_ids(recipient_ids)
    if giver.pk in ids:
        raise DomainError("You cannot recognise yourself.", code="self_recognition")
    value_ids = _value_ids(giver, values, message)

    group_id = uuid.uuid4()
    now = timezone.now()
    award = {
        "giver": giver,
        "ids": ids,
        "points": points,
        "message": message,
        "requested": funding_source,
        "group_id": group_id,
        "now": now,
        "parent_id": parent_id,
        "value_ids": value_ids,
    }
    one_statement = points > 0 and connection.vendor == "postgresql"
    if one_statement and not value_ids:
        paid = _award_in_one_statement(**award)
        if paid is not None:
            return paid
        one_statement = False
    with transaction.atomic():
        if value_ids:
            # Written first, so the statement below still locks the paying rows last.
            RecognitionValue.objects.bulk_create(
                [RecognitionValue(tenant_id=giver.tenant_id, group_id=group_id, value_id=v) for v in value_ids]
            )
        if one_statement:
            paid = _award_in_one_statement(**award)
            if paid is not None:
                return paid
        return _recognise(**award)


def recognition_group_of(*, tenant_id: UUID, recognition_id: UUID | str) -> UUID:
    """The group of a recognition of this tenant, named by the id of any of its rows or by
    the group id; another tenant's id answers like a missing one (404)."""
    try:
        key = recognition_id if isinstance(recognition_id, UUID) else UUID(str(recognition_id))
    except (ValueError, TypeError, AttributeError) as exc:
        raise NotFoundError("Recognition not found.") from exc
    group_id = (
        Recognition.objects.filter(Q(pk=key) | Q(group_id=key), tenant_id=tenant_id)
        .values_list("group_id", flat=True)
        .first()
    )
    if group_id is None:
        raise NotFoundError("Recognition not found.")
    return group_id


def recognition_add_on(
    *,
    giver: User,
    recognition_id: UUID | str,
    points: int,
    message: str | None = None,
    funding_source: str | None = None,
) -> AwardResult:
    """Add points to an existing recognition (SPEC §10): its recipients each receive `points`,
    paid like any award (an employee from their allowance), as a new recognition whose
    `parent_id` is the original's group. An add-on to an add-on joins the original."""
    if not (giver.is_active and giver.member_tenant_id):
        raise PermissionDeniedError("Only active tenant members give recognition.")
    group_id = recognition_group_of(tenant_id=giver.tenant_id, recognition_id=recognition_id)
    root = (
        Recognition.objects.filter(tenant_id=giver.tenant_id, group_id=group_id)
        .values_list("parent_id", flat=True)
        .first()
        or group_id
    )
    points = require_amount(points, field="points")
    recipients = list(
        Recognition.objects.filter(tenant_id=giver.tenant_id, group_id=root)
        .order_by("created_at", "id")
        .values_list("receiver_id", flat=True)
    )
    if giver.pk in recipients:
        raise DomainError("You are a recipient of this recognition: you cannot add to it.", code="self_recognition")
    text = (message or "").strip() or f"+{points}"
    return recognition_create(
        giver=giver,
        recipient_ids=recipients,
        points=points,
        message=text,
        funding_source=funding_source,
        parent_id=root,
    )


def _value_ids(giver: User, values: Sequence[UUID | str] | None, message: str) -> tuple[UUID, ...]:
    """The company values a recognition names: `values` (ids of active values of the giver's
    tenant, else 404) and every `#hashtag` of the message matching an active value
    (case-insensitive; other hashtags are just text). At most MAX_VALUES, each once."""
    try:
        ids = list(dict.fromkeys(v if isinstance(v, UUID) else UUID(str(v)) for v in values or ()))
    except (ValueError, TypeError, AttributeError) as exc:
        raise NotFoundError("Company value not found.", field="values") from exc
    tags = {tag.lower() for tag in HASHTAG.findall(message)}
    if not ids and not tags:
        return ()
    found = dict(
        CompanyValue.objects.filter(tenant_id=giver.tenant_id, is_active=True)
        .annotate(tag=Lower("hashtag"))
        .filter(Q(pk__in=ids) | Q(tag__in=tags))
        .order_by("position", "name")
        .values_list("pk", "tag")
    )
    if any(pk not in found for pk in ids):
        raise NotFoundError("Company value not found.", field="values")
    named = list(dict.fromkeys([*ids, *found]))
    if len(named) > MAX_VALUES:
        raise DomainError(
            f"A recognition names at most {MAX_VALUES} company values.",
            code="too_many_values",
            maximum=MAX_VALUES,
            field="values",
        )
    return tuple(named)


def _recognise(
    *,
    giver: User,
    ids: list[UUID],
    points: int,
    message: str,
    requested: str | None,
    group_id: UUID,
    now,
    parent_id: UUID | None,
    value_ids: tuple[UUID, ...],
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
    wallets_qs = Wallet.objects.filter(tenant_id=tenant.pk, user__tenant_id=tenant.pk, user_id__in=ids).select_related(
        "user"
    )
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
        if tenant.require_value and not value_ids:
            raise DomainError(
                "Name at least one company value for a recognition with points.", code="value_required", field="values"
            )
        source = resolve_funding_source(giver=giver, tenant=tenant, total=total, requested=requested, now=now)
    elif requested not in (None, "", Source.NONE):
        raise DomainError("Kudos (0 points) have no funding source.", code="invalid_funding_source")
    else:
        source = Source.NONE
    period = None
    if source == Source.ALLOWANCE:
        period, period_end = allowances.period_bounds(tenant, now)
        # Created (if missing) before any lock of the allowance: see allowances.usage_row.
        allowances.usage_row(tenant=tenant, user_id=giver.pk, role=giver.role, start=period, end=period_end)
    by_user = {w.user_id: w for w in wallets}
    recognitions = Recognition.objects.bulk_create(
        [_recognition(giver, user_id, points, message, source, group_id, now, parent_id, period) for user_id in ids]
    )
    if points == 0:
        result = AwardResult(
            tenant.pk,
            group_id,
            0,
            source,
            recognitions,
            [],
            {},
            tenant.points_allocation_balance,
            None,
            value_ids=value_ids,
        )
        _record_recognition(giver, result, wallets, parent_id=parent_id)
        return result

    Wallet.objects.filter(tenant_id=tenant.pk, pk__in=[w.pk for w in wallets]).update(
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
    lead_after = given_after = None
    pool_after = tenant.points_allocation_balance
    if source == Source.LEAD_BUDGET:
        lead_after = balances.lead_budget_debit(giver.pk, total, tenant_id=tenant.pk)
    elif source == Source.ALLOWANCE:
        given_after = allowances.allowance_take(
            tenant_id=tenant.pk, user_id=giver.pk, period_start=period, amount=total
        )
        pool_after = balances.pool_debit(tenant.pk, total)
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
        allowance_period=period,
        allowance_given=given_after,
        value_ids=value_ids,
    )
    _record_recognition(giver, result, wallets, parent_id=parent_id)
    _log_award(giver, result)
    return result


def _event_values(value_ids: Sequence[UUID]) -> list[dict]:
    if not value_ids:
        return []
    rows = CompanyValue.objects.filter(pk__in=list(value_ids)).values_list("id", "name", "hashtag")
    by_id = {pk: {"id": str(pk), "name": name, "hashtag": hashtag} for pk, name, hashtag in rows}
    return [by_id[v] for v in value_ids if v in by_id]


def _event_base(giver: User, points: int, message: str, source: str, group_id: UUID, value_ids, parent_id) -> dict:
    """The `recognition.created` / `recognition.add_on` payload without its recipients."""
    return payloads.recognition_base(
        giver=giver,
        points=points,
        message=message,
        funding_source=source,
        group_id=group_id,
        values=_event_values(value_ids),
        parent_group_id=parent_id,
    )


def _record_recognition(giver: User, result: AwardResult, wallets: list[Wallet], *, parent_id=None) -> None:
    """`recognition.created` (`recognition.add_on` for an add-on) for the group, in the award's
    transaction (the general path's; the one-statement path writes it in its statement)."""
    names = {w.user_id: w.user.full_name or w.user.email for w in wallets}
    record_event(
        tenant_id=result.tenant_id,
        name=event_types.RECOGNITION_ADD_ON if parent_id else event_types.RECOGNITION_CREATED,
        payload=payloads.recognition(
            result, giver=giver, names=names, values=_event_values(result.value_ids), parent_group_id=parent_id
        ),
        actor_id=giver.pk,
    )


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
        pool_after=result.pool_balance_after if result.funding_source in (Source.POOL, Source.ALLOWANCE) else None,
        lead_budget_after=result.lead_budget_after,
        allowance_period=result.allowance_period,
        allowance_given_after=result.allowance_given,
    )


def _award_in_one_statement(
    *,
    giver: User,
    ids: list[UUID],
    points: int,
    message: str,
    requested: str | None,
    group_id: UUID,
    now,
    parent_id: UUID | None = None,
    value_ids: tuple[UUID, ...] = (),
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
        source = {Role.TENANT_MANAGER: Source.POOL, Role.TENANT_LEAD: Source.LEAD_BUDGET}.get(
            giver.role, Source.ALLOWANCE
        )
    elif requested in (Source.LEAD_BUDGET, Source.ALLOWANCE) or (
        requested == Source.POOL and giver.role == Role.TENANT_MANAGER
    ):
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
                parent_id=parent_id,
                has_value=bool(value_ids),
                event_payload=_event_base(giver, points, message, source, group_id, value_ids, parent_id)
                if events_enabled()
                else None,
            )
    except DatabaseError as exc:
        if getattr(exc.__cause__, "sqlstate", None) == statements.AWARD_NOT_PAID:
            return None
        raise
    if len(rows) != len(ids):
        return None

    by_user = {row[0]: row[1:4] for row in rows}  # user → (wallet, balance after, entry number)
    _, _, _, _, payer_after, pool_after, period, given_after = rows[0]
    recognitions, entries = [], []
    for user_id, (recognition_id, entry_id) in zip(ids, row_ids, strict=True):
        wallet_id, balance, entry_no = by_user[user_id]
        recognition = _loaded(
            _recognition(giver, user_id, points, message, source, group_id, now, parent_id, period, id=recognition_id)
        )
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
        pool_balance_after=pool_after if source == Source.LEAD_BUDGET else payer_after,
        lead_budget_after=payer_after if source == Source.LEAD_BUDGET else None,
        allowance_period=period,
        allowance_given=given_after,
        value_ids=value_ids,
    )
    _log_award(giver, result)  # in autocommit the award has committed, and the line is written now
    return result


def _recognition(
    giver: User,
    receiver_id: UUID,
    points: int,
    message: str,
    source: str,
    group_id: UUID,
    now,
    parent_id: UUID | None = None,
    allowance_period: dt.date | None = None,
    **pk,
):
    """One recipient's Recognition row of an award or kudos, as both paths write it."""
    return Recognition(
        parent_id=parent_id,
        allowance_period=allowance_period,
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
    recipients = Wallet.objects.filter(
        tenant_id=tenant.pk, user__tenant_id=tenant.pk, user__is_active=True, user__role__in=roles
    ).exclude(user_id=giver.pk)
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
        members = Wallet.objects.filter(
            tenant_id=tenant.pk,
            user_id__in=Recognition.objects.filter(tenant_id=tenant.pk, group_id=group_id).values("receiver_id"),
        )
        if connection.features.has_select_for_update:
            list(members.select_for_update(of=("self",)).order_by("pk").values_list("pk", flat=True))
        members.update(
            balance=F("balance") + amount,
            lifetime_earned=F("lifetime_earned") + amount,
            last_entry_no=F("last_entry_no") + 1,
        )
        statements.insert_distribution_ledger(group_id=group_id, giver=giver, amount=amount, note=message[:500])
        pool_after = balances.pool_debit(tenant.pk, amount * count)
        payload = payloads.recognition_base(
            giver=giver, points=amount, message=message, funding_source=Source.POOL, group_id=group_id
        )
        payload["recipients"] = [
            {"id": str(user_id), "name": name or email, "recognition_id": str(pk)}
            for pk, user_id, name, email in Recognition.objects.filter(tenant_id=tenant.pk, group_id=group_id)
            .order_by("receiver__full_name", "receiver_id")
            .values_list("pk", "receiver_id", "receiver__full_name", "receiver__email")
        ]
        record_event(tenant_id=tenant.pk, name=event_types.RECOGNITION_CREATED, payload=payload, actor_id=giver.pk)
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


def recognition_award_from_company(
    *, tenant_id: UUID, recipient_id: UUID, points: int, message: str, now: dt.datetime | None = None
) -> AwardResult:
    """An automated award (birthday, anniversary, new hire): the company pays one member from its pool.

    The Recognition has no giver and `automated` set (the feed shows the company);
    otherwise it is an ordinary pool-funded award, so reconcile counts it as one.
    Locks the wallet, then debits the pool last with the conditional update (the
    global order of SPEC §4); refuses like any award (suspended tenant, inactive
    recipient, over the award cap, insufficient pool) with nothing written. Runs in
    the caller's transaction when there is one (the automation's at-most-once key
    is inserted in that same transaction).
    """
    points = require_amount(points, field="points")
    message = _message(message)
    now = now or timezone.now()
    with transaction.atomic():
        tenant = Tenant.objects.get(pk=tenant_id)
        wallet = (
            Wallet.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(tenant_id=tenant.pk, user__tenant_id=tenant.pk, user_id=recipient_id)
            .first()
        )
        if wallet is None:
            raise NotFoundError("Recipient not found.")
        if not tenant.is_active:
            raise balances.tenant_suspended()
        if not wallet.user.is_active:
            raise DomainError("The recipient is deactivated and cannot be recognised.", code="inactive_user")
        _check_award_allowed(tenant, points)
        recognition = Recognition.objects.create(
            tenant_id=tenant.pk,
            giver=None,
            automated=True,
            receiver_id=recipient_id,
            points=points,
            message=message,
            funding_source=Source.POOL,
            group_id=uuid.uuid4(),
            created_at=now,
        )
        Wallet.objects.filter(tenant_id=tenant.pk, pk=wallet.pk).update(
            balance=F("balance") + points,
            lifetime_earned=F("lifetime_earned") + points,
            last_entry_no=F("last_entry_no") + 1,
        )
        entry = _credit(
            recognition, wallet=wallet, entry_no=wallet.last_entry_no + 1, balance_after=wallet.balance + points
        )
        entry.save(force_insert=True)
        pool_after = balances.pool_debit(tenant.pk, points)
        result = AwardResult(
            tenant_id=tenant.pk,
            group_id=recognition.group_id,
            points=points,
            funding_source=Source.POOL,
            recognitions=[recognition],
            ledger_entries=[entry],
            wallet_balances_after={recipient_id: wallet.balance + points},
            pool_balance_after=pool_after,
            lead_budget_after=None,
        )
        log_movement(
            "automated_award",
            tenant_id=tenant.pk,
            actor_id=None,
            amount=points,
            points_per_recipient=points,
            funding_source=Source.POOL,
            group_id=recognition.group_id,
            wallets_after=result.wallet_balances_after,
            pool_after=pool_after,
        )
    return result
