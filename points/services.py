"""Platform ↔ tenant pool and pool ↔ lead budget movements (SPEC §4).

Every function is one transaction that writes its balance changes and its log
rows together, or nothing. Balance rows are changed only through
`points.balances`, in the global lock order wallets → rewards → lead budgets →
tenant row last.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.db import transaction

from events import event_types, payloads
from events.services import record_event
from perksu.errors import DomainError, PermissionDeniedError, get_or_not_found, insufficient
from tenants.models import Role, Tenant, User

from . import balances
from .amounts import require_amount
from .audit import log_movement
from .models import AllocationLog, DelegationLog, LeadBudget, PlatformBillingLog


@dataclass(frozen=True)
class AllocationResult:
    tenant_id: UUID
    amount: int
    balance_after: int
    currency: str
    allocation_log: AllocationLog
    billing_log: PlatformBillingLog


@dataclass(frozen=True)
class DelegationResult:
    tenant_id: UUID
    lead_id: UUID
    amount: int
    lead_balance_after: int
    pool_balance_after: int
    log: DelegationLog


def require_platform_admin(actor: User) -> None:
    if not actor.is_platform_admin:
        raise PermissionDeniedError("Only platform admins can do this.")


def require_manager(actor: User) -> None:
    if not (actor.is_active and actor.is_manager):
        raise PermissionDeniedError("Only tenant managers can do this.")


def _note(value: str | None, *, field: str, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        raise DomainError(f"A {field} is required.", code="required", field=field)
    if len(text) > 500:
        raise DomainError(f"The {field} is longer than 500 characters.", code="too_long", field=field)
    return text


def _tenant(tenant_id: UUID | str) -> Tenant:
    return get_or_not_found(Tenant.objects, "Tenant not found.", pk=tenant_id)


def tenant_allocate(
    *, actor: User, tenant_id: UUID | str, amount: int, reference_note: str = "", currency: str | None = None
) -> AllocationResult:
    """Platform admin puts `amount` into a tenant's pool (a purchase of points)."""
    require_platform_admin(actor)
    amount = require_amount(amount)
    note = _note(reference_note, field="reference note")
    tenant = _tenant(tenant_id)
    if currency and currency.upper() != tenant.currency:
        raise DomainError(
            f"This tenant is billed in {tenant.currency}, not {currency.upper()}.", code="currency_mismatch"
        )
    with transaction.atomic():
        balance_after = balances.pool_credit(tenant.pk, amount)
        log = AllocationLog.objects.create(
            tenant=tenant,
            kind=AllocationLog.Kind.ALLOCATION,
            amount=amount,
            balance_after=balance_after,
            reference_note=note,
            actor=actor,
        )
        billing = PlatformBillingLog.objects.create(
            tenant=tenant,
            allocation_log=log,
            transaction_type=PlatformBillingLog.TransactionType.CREDIT_INJECTION,
            amount=amount,
            currency=tenant.currency,
            reference_note=note,
            admin=actor,
        )
        log_movement(
            "allocate", tenant_id=tenant.pk, actor_id=actor.pk, amount=amount, pool_after=balance_after, log_id=log.pk
        )
        record_event(
            tenant_id=tenant.pk,
            name=event_types.ALLOCATION_CREATED,
            payload=payloads.allocation(log, currency=tenant.currency),
            actor_id=actor.pk,
        )
    return AllocationResult(tenant.pk, amount, balance_after, tenant.currency, log, billing)


def tenant_clawback(*, actor: User, tenant_id: UUID | str, reason: str, amount: int | None = None) -> AllocationResult:
    """Platform admin takes points back from a tenant's pool (default: all of it).

    Only the undistributed pool is clawed back: delegated budgets and wallets
    are never touched.
    """
    require_platform_admin(actor)
    reason = _note(reason, field="reason", required=True)
    if amount is not None:
        amount = require_amount(amount)
    tenant = _tenant(tenant_id)
    with transaction.atomic():
        if amount is None:
            # FOR NO KEY UPDATE: serialises with the pool updates but, unlike FOR UPDATE, does not
            # block the foreign-key checks of every other transaction that references the tenant.
            locked = Tenant.objects.select_for_update(no_key=True).values_list("points_allocation_balance", flat=True)
            amount = locked.get(pk=tenant.pk)
            if amount == 0:
                raise insufficient(balances.POOL_LABEL, available=0, required=1)
        balance_after = balances.pool_debit(tenant.pk, amount, require_active=False)
        log = AllocationLog.objects.create(
            tenant=tenant,
            kind=AllocationLog.Kind.CLAWBACK,
            amount=amount,
            balance_after=balance_after,
            reference_note=reason,
            actor=actor,
        )
        billing = PlatformBillingLog.objects.create(
            tenant=tenant,
            allocation_log=log,
            transaction_type=PlatformBillingLog.TransactionType.CLAWBACK,
            amount=amount,
            currency=tenant.currency,
            reference_note=reason,
            admin=actor,
        )
        log_movement(
            "clawback", tenant_id=tenant.pk, actor_id=actor.pk, amount=amount, pool_after=balance_after, log_id=log.pk
        )
        record_event(
            tenant_id=tenant.pk,
            name=event_types.CLAWBACK_CREATED,
            payload=payloads.allocation(log, currency=tenant.currency),
            actor_id=actor.pk,
        )
    return AllocationResult(tenant.pk, amount, balance_after, tenant.currency, log, billing)


def _lead_of_tenant(actor: User, lead_id: UUID | str) -> User:
    return get_or_not_found(User.objects, "Lead not found.", pk=lead_id, tenant_id=actor.tenant_id)


def lead_delegate(*, actor: User, lead_id: UUID | str, amount: int, note: str = "") -> DelegationResult:
    """A manager moves `amount` from the tenant pool into a lead's budget."""
    require_manager(actor)
    amount = require_amount(amount)
    note = _note(note, field="note")
    lead = _lead_of_tenant(actor, lead_id)
    if lead.role != Role.TENANT_LEAD:
        raise DomainError(f"{lead.full_name or lead.email} is not a lead.", code="not_a_lead")
    if not lead.is_active:
        raise DomainError(f"{lead.full_name or lead.email} is deactivated.", code="inactive_user")
    with transaction.atomic():
        lead_after = balances.lead_budget_credit(lead.pk, amount, tenant_id=actor.tenant_id)
        pool_after = balances.pool_debit(actor.tenant_id, amount)
        log = DelegationLog.objects.create(
            tenant_id=actor.tenant_id,
            lead=lead,
            kind=DelegationLog.Kind.DELEGATION,
            amount=amount,
            pool_balance_after=pool_after,
            lead_balance_after=lead_after,
            note=note,
            actor=actor,
        )
        log_movement(
            "delegate",
            tenant_id=actor.tenant_id,
            actor_id=actor.pk,
            amount=amount,
            lead_id=lead.pk,
            lead_budget_after=lead_after,
            pool_after=pool_after,
            log_id=log.pk,
        )
        record_event(
            tenant_id=actor.tenant_id,
            name=event_types.DELEGATION_CREATED,
            payload=payloads.delegation(log, lead=lead),
            actor_id=actor.pk,
        )
    return DelegationResult(actor.tenant_id, lead.pk, amount, lead_after, pool_after, log)


def lead_recall(*, actor: User, lead_id: UUID | str, amount: int | None = None, note: str = "") -> DelegationResult:
    """A manager moves points from a lead's budget back to the pool (default: all of it)."""
    require_manager(actor)
    if amount is not None:
        amount = require_amount(amount)
    note = _note(note, field="note")
    lead = _lead_of_tenant(actor, lead_id)
    with transaction.atomic():
        # Lock the budget row only, never the lead's user row: every transaction that
        # references the lead (an award to them, a delegation) needs that row at COMMIT for
        # its foreign-key check (FOR KEY SHARE) — a deadlock with this recall's pool update.
        budget = LeadBudget.objects.select_for_update(of=("self",)).filter(tenant_id=actor.tenant_id, lead=lead).first()
        if budget is None:
            raise DomainError(f"{lead.full_name or lead.email} has no lead budget.", code="no_lead_budget")
        if amount is None:
            amount = budget.balance
        if amount == 0 or amount > budget.balance:
            raise insufficient(balances.LEAD_BUDGET_LABEL, available=budget.balance, required=max(amount, 1))
        lead_after = balances.lead_budget_debit(lead.pk, amount, tenant_id=actor.tenant_id)
        pool_after = balances.pool_credit(actor.tenant_id, amount)
        log = DelegationLog.objects.create(
            tenant_id=actor.tenant_id,
            lead=lead,
            kind=DelegationLog.Kind.RECALL,
            amount=amount,
            pool_balance_after=pool_after,
            lead_balance_after=lead_after,
            note=note,
            actor=actor,
        )
        log_movement(
            "recall",
            tenant_id=actor.tenant_id,
            actor_id=actor.pk,
            amount=amount,
            lead_id=lead.pk,
            lead_budget_after=lead_after,
            pool_after=pool_after,
            log_id=log.pk,
        )
    return DelegationResult(actor.tenant_id, lead.pk, amount, lead_after, pool_after, log)
