"""Conditional balance updates: the only code that changes a pool or a lead budget.

Each helper is one `UPDATE … RETURNING` statement. The WHERE clause carries the
check (`balance >= amount`, tenant active), so the check and the write are one
atomic step on the row: no read-modify-write window, and the row lock it takes
is held until the caller's transaction ends. Callers run inside
`transaction.atomic()` and respect the global lock order of SPEC §4:
wallets → rewards → lead budgets → tenant row last. Every statement names the
tenant (`tenant_id`, or the tenant row's own `id`), so each is a single-shard
statement when the tables are distributed by tenant (docs/SCALING.md).
"""

from __future__ import annotations

from uuid import UUID

from django.db import connection

from events import event_types, payloads
from events.services import record_event
from perksu.errors import DomainError, NotFoundError, insufficient
from tenants.models import Tenant

from .models import LeadBudget

POOL_LABEL = "company allocation pool"
LEAD_BUDGET_LABEL = "lead budget"

_TENANTS = Tenant._meta.db_table
_BUDGETS = LeadBudget._meta.db_table


# The same two conditional debits, for a statement that does more than debit (the
# award's, in recognition.services): an UPDATE with named parameters %(total)s and
# %(tenant)s or %(giver)s, to which the caller adds its own conditions and RETURNING.
POOL_DEBIT_SQL = (
    f"UPDATE {_TENANTS} SET points_allocation_balance = points_allocation_balance - %(total)s "
    f"WHERE id = %(tenant)s AND points_allocation_balance >= %(total)s AND status = 'ACTIVE'"
)
LEAD_BUDGET_DEBIT_SQL = (
    f"UPDATE {_BUDGETS} SET balance = balance - %(total)s "
    "WHERE tenant_id = %(tenant)s AND lead_id = %(giver)s AND balance >= %(total)s"
)


def _returning(sql: str, params: list) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else row[0]


def _pk(value: UUID) -> object:
    return Tenant._meta.pk.get_db_prep_value(value, connection)


def pool_debit(tenant_id: UUID, amount: int, *, require_active: bool = True) -> int:
    """Take `amount` from the tenant pool; return the pool after.

    Refuses (raises) if the pool does not cover it or, with `require_active`,
    if the tenant is suspended. Locks the tenant row: call it last. When the
    debit takes the pool below the tenant's low-balance threshold (it was at or
    above it before), records `pool.low_balance` in the caller's transaction:
    once per crossing.
    """
    active = " AND status = 'ACTIVE'" if require_active else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_TENANTS} SET points_allocation_balance = points_allocation_balance - %s "
            f"WHERE id = %s AND points_allocation_balance >= %s{active} "
            f"RETURNING points_allocation_balance, low_balance_threshold",
            [amount, _pk(tenant_id), amount],
        )
        row = cursor.fetchone()
    if row is not None:
        after, threshold = row
        if after < threshold <= after + amount:
            record_event(
                tenant_id=tenant_id,
                name=event_types.POOL_LOW_BALANCE,
                payload=payloads.pool_low_balance(pool_balance=after, threshold=threshold),
            )
        return after
    tenant = Tenant.objects.filter(pk=tenant_id).values("status", "points_allocation_balance").first()
    if tenant is None:
        raise NotFoundError("Tenant not found.")
    if require_active and tenant["status"] != Tenant.Status.ACTIVE:
        raise tenant_suspended()
    raise insufficient(POOL_LABEL, available=tenant["points_allocation_balance"], required=amount)


def pool_credit(tenant_id: UUID, amount: int) -> int:
    """Add `amount` to the tenant pool; return the pool after. Locks the tenant row: call it last."""
    after = _returning(
        f"UPDATE {_TENANTS} SET points_allocation_balance = points_allocation_balance + %s "
        f"WHERE id = %s RETURNING points_allocation_balance",
        [amount, _pk(tenant_id)],
    )
    if after is None:
        raise NotFoundError("Tenant not found.")
    return after


def lead_budget_debit(lead_id: UUID, amount: int, *, tenant_id: UUID) -> int:
    """Take `amount` from a lead's budget (in `tenant_id`); return the budget after. Refuses if it does not cover it."""
    after = _returning(
        f"UPDATE {_BUDGETS} SET balance = balance - %s "
        "WHERE tenant_id = %s AND lead_id = %s AND balance >= %s RETURNING balance",
        [amount, _pk(tenant_id), _pk(lead_id), amount],
    )
    if after is not None:
        return after
    available = (
        LeadBudget.objects.filter(tenant_id=tenant_id, lead_id=lead_id).values_list("balance", flat=True).first()
    )
    if available is None:
        raise DomainError("This user has no lead budget.", code="no_lead_budget")
    raise insufficient(LEAD_BUDGET_LABEL, available=available, required=amount)


def lead_budget_credit(lead_id: UUID, amount: int, *, tenant_id: UUID) -> int:
    """Add `amount` to a lead's budget (in `tenant_id`); return the budget after."""
    after = _returning(
        f"UPDATE {_BUDGETS} SET balance = balance + %s WHERE tenant_id = %s AND lead_id = %s RETURNING balance",
        [amount, _pk(tenant_id), _pk(lead_id)],
    )
    if after is None:
        raise DomainError("This user has no lead budget.", code="no_lead_budget")
    return after


def tenant_suspended() -> DomainError:
    return DomainError("This tenant is suspended: no points can be moved.", code="tenant_suspended")
