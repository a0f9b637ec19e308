"""The set-based statements of recognition, each one SQL statement whatever the
number of recipients: the award in one round trip (PostgreSQL) and the two
INSERT … SELECTs of a distribution.

The award runs as one call of the PL/pgSQL function `perksu_award` (recognition
migration 0007): step by step, every statement on one tenant's rows, so Citus can
run it whole on the tenant's worker. `AWARD_SQL = "statement"` runs the earlier
one-statement award instead (a chain of data-modifying CTEs, below), which does
exactly the same; the bench keeps it as the baseline (docs/PERFORMANCE.md).

`recognition.services` decides, checks and builds the results; this module only
runs the statements. Table and column names come from the models.
"""

from __future__ import annotations

import json
from uuid import UUID, uuid4

from django.conf import settings
from django.db import connection

from events import event_types
from events.models import Event
from perksu.db import prepared_cursor
from points import balances
from points.models import LeadBudget
from tenants.models import Tenant, User
from wallets.models import Wallet, WalletLedger

from .allowances import TAKE_SQL
from .models import AllowanceUsage, Recognition

Source = Recognition.FundingSource

# The one-statement award (PostgreSQL; called by recognition.services._award_in_one_statement).
# It locks the recipients' wallets in primary-key order, credits them, inserts the
# recognitions and ledger rows and, last, debits the pool or lead budget with the
# conditional UPDATE of `points.balances` — in one statement, so in autocommit one
# round trip pays the award, and the paying row stays locked only for the rest of that
# statement and its commit.
#
# It writes nothing unless every recipient is an active member of the tenant and,
# as read before any lock, the tenant is active, the award within its cap and the
# paying balance covers it. The debit waits for the inserts (its condition counts
# their rows), so the paying row is locked after the wallets, as on every path. If
# the debit then finds the balance gone (a concurrent award took it), the statement
# calls perksu_award_not_paid(), which raises SQLSTATE PK001 and undoes all of it.
_AWARD_SQL = f"""
WITH paid_to (user_id, recognition_id, entry_id, ord) AS (
    SELECT * FROM unnest(%(users)s::uuid[], %(recognitions)s::uuid[], %(entries)s::uuid[]) WITH ORDINALITY
){{period_cte}}, locked AS (
    SELECT w.id FROM {Wallet._meta.db_table} w
        JOIN {User._meta.db_table} u ON u.tenant_id = w.tenant_id AND u.id = w.user_id
    WHERE w.tenant_id = %(tenant)s AND w.user_id IN (SELECT user_id FROM paid_to) AND u.is_active
      AND EXISTS (
        SELECT 1 FROM {Tenant._meta.db_table} t
        WHERE t.id = %(tenant)s AND t.status = %(active)s
          AND (t.max_award_points IS NULL OR t.max_award_points >= %(points)s)
          AND (%(has_value)s OR NOT t.require_value)
          AND {{covered}}
      )
    ORDER BY w.id
    FOR UPDATE OF w
), credited AS (
    UPDATE {Wallet._meta.db_table} w
    SET balance = w.balance + %(points)s, lifetime_earned = w.lifetime_earned + %(points)s,
        last_entry_no = w.last_entry_no + 1
    FROM locked
    WHERE w.tenant_id = %(tenant)s AND w.id = locked.id AND (SELECT count(*) FROM locked) = %(count)s
    RETURNING w.id, w.user_id, w.balance, w.last_entry_no
), recognised AS (
    INSERT INTO {Recognition._meta.db_table}
        (id, tenant_id, giver_id, receiver_id, points, message, funding_source, group_id, parent_id,
         allowance_period, created_at)
    SELECT p.recognition_id, %(tenant)s, %(giver)s, c.user_id, %(points)s, %(message)s, %(source)s, %(group)s,
        %(parent)s::uuid, {{period}}, %(now)s
    FROM credited c JOIN paid_to p USING (user_id)
    RETURNING id
), entered AS (
    INSERT INTO {WalletLedger._meta.db_table}
        (id, tenant_id, wallet_id, entry_no, entry_type, source, amount, balance_after, actor_id,
         recognition_id, redemption_id, note, created_at)
    SELECT p.entry_id, %(tenant)s, c.id, c.last_entry_no, %(credit)s, %(recognition)s, %(points)s, c.balance,
        %(giver)s, p.recognition_id, NULL, %(note)s, %(now)s
    FROM credited c JOIN paid_to p USING (user_id)
    RETURNING id
){{taken_cte}}{{events}}, debited AS (
    {{debit}}
      AND {{written}}
    RETURNING {{returning}}
){{low_balance}}
SELECT c.user_id, c.id, c.balance, c.last_entry_no,
    COALESCE((SELECT {{balance}} FROM debited), perksu_award_not_paid()),
    {{pool}}, {{period}}, {{given}}
FROM credited c
"""
_WRITTEN = "(SELECT count(*) FROM recognised) + (SELECT count(*) FROM entered) = 2 * %(count)s"

# An allowance gift (SPEC §10) adds two steps: its period is the start of the day, week,
# month or quarter of `now` in the tenant's time zone (as allowances.period_bounds), and
# the giver's usage row of that period is raised by the conditional update of
# `allowances.TAKE_SQL` after the inserts and before the pool debit, which waits for it:
# so the usage row and then the tenant row are locked last, in the order of SPEC §10.
_PERIOD_CTE = f""", period AS (
    SELECT date_trunc(lower(t.allowance_period), %(now)s AT TIME ZONE t.timezone)::date AS start
    FROM {Tenant._meta.db_table} t WHERE t.id = %(tenant)s
)"""
_TAKEN_CTE = f""", taken AS (
    {TAKE_SQL.replace("%(period)s", "(SELECT start FROM period)")}
      AND {_WRITTEN}
    RETURNING given
)"""
_ALLOWANCE_COVERED = (
    "t.points_allocation_balance >= %(total)s AND EXISTS (SELECT 1 FROM "
    f"{AllowanceUsage._meta.db_table} a WHERE a.tenant_id = %(tenant)s AND a.user_id = %(giver)s "
    'AND a.period_start = (SELECT start FROM period) AND a.given + %(total)s <= a."limit")'
)


# With events on, the statement also writes the outbox rows (events.services.record_event's, in SQL):
# `recognition.created` with the recipients in the order given, only if every one was credited,
# and, when the pool pays, `pool.low_balance` if the debit took the pool below its threshold.
_EVENTS_CTE = f""", evented AS (
    INSERT INTO {Event._meta.db_table} (id, tenant_id, name, payload, actor_id, created_at, dispatched_at)
    SELECT %(event)s, %(tenant)s, %(event_name)s,
        %(event_payload)s::jsonb || jsonb_build_object('recipients', jsonb_agg(jsonb_build_object(
            'id', p.user_id::text, 'name', COALESCE(NULLIF(u.full_name, ''), u.email),
            'recognition_id', p.recognition_id::text) ORDER BY p.ord)),
        %(giver)s, %(now)s, NULL
    FROM credited c JOIN paid_to p USING (user_id)
        JOIN {User._meta.db_table} u ON u.tenant_id = %(tenant)s AND u.id = c.user_id
    HAVING count(*) = %(count)s
    RETURNING id
)"""
_LOW_BALANCE_CTE = f""", low_balance AS (
    INSERT INTO {Event._meta.db_table} (id, tenant_id, name, payload, actor_id, created_at, dispatched_at)
    SELECT %(low_event)s, %(tenant)s, '{event_types.POOL_LOW_BALANCE}',
        jsonb_build_object('pool_balance', d.points_allocation_balance, 'threshold', d.low_balance_threshold),
        NULL, %(now)s, NULL
    FROM debited d
    WHERE d.points_allocation_balance < d.low_balance_threshold
      AND d.points_allocation_balance + %(total)s >= d.low_balance_threshold
)"""


def _award_sql(**parts: str) -> str:
    sql = _AWARD_SQL
    defaults = {
        "period_cte": "",
        "taken_cte": "",
        "period": "NULL::date",
        "given": "NULL::bigint",
        "written": _WRITTEN,
        "events": "",
        "low_balance": "",
        "returning": parts["balance"],
    }
    for name, text in {**defaults, **parts}.items():
        sql = sql.replace("{" + name + "}", text)
    # One space for each run of blanks (the statement holds no quoted text with two spaces): psycopg keeps
    # the parsed form of a query only up to MAX_CACHED_STATEMENT_LENGTH (4,096) bytes and parses a longer
    # one again on every call, which the allowance gift's, at 4,112 bytes as written, paid (about 0.4 ms
    # of client CPU per gift, docs/PERFORMANCE.md).
    return " ".join(sql.split())


_AWARD_PARTS = {
    Source.POOL: {
        "covered": "t.points_allocation_balance >= %(total)s",
        "debit": balances.POOL_DEBIT_SQL,
        "balance": "points_allocation_balance",
        "pool": "NULL::bigint",  # the debit's balance after is the pool
    },
    Source.LEAD_BUDGET: {
        "covered": f"EXISTS (SELECT 1 FROM {LeadBudget._meta.db_table} b "
        "WHERE b.tenant_id = %(tenant)s AND b.lead_id = %(giver)s AND b.balance >= %(total)s)",
        "debit": balances.LEAD_BUDGET_DEBIT_SQL,
        "balance": "balance",
        "pool": f"(SELECT points_allocation_balance FROM {Tenant._meta.db_table} WHERE id = %(tenant)s)",
    },
    Source.ALLOWANCE: {
        "period_cte": _PERIOD_CTE,
        "taken_cte": _TAKEN_CTE,
        "covered": _ALLOWANCE_COVERED,
        "debit": balances.POOL_DEBIT_SQL,
        "written": "(SELECT count(*) FROM taken) = 1",
        "balance": "points_allocation_balance",
        "pool": "NULL::bigint",
        "period": "(SELECT start FROM period)",
        "given": "(SELECT given FROM taken)",
    },
}


def _with_events(source: str, parts: dict[str, str]) -> dict[str, str]:
    pays_pool = parts["debit"] == balances.POOL_DEBIT_SQL
    extra = {"events": _EVENTS_CTE}
    if pays_pool:
        extra.update(low_balance=_LOW_BALANCE_CTE, returning="points_allocation_balance, low_balance_threshold")
    return {**parts, **extra}


_AWARD_SQL_BY_SOURCE = {
    (source, events): _award_sql(**(_with_events(source, parts) if events else parts))
    for source, parts in _AWARD_PARTS.items()
    for events in (True, False)
}
AWARD_NOT_PAID = "PK001"
"""SQLSTATE of perksu_award_not_paid() (recognition migration 0004)."""

# The award function's call (recognition migration 0007): the tenant first, its distribution argument
# on Citus. Every argument is cast, so the prepared call names one function whatever psycopg binds.
AWARD_FUNCTION_SQL = (
    "SELECT * FROM perksu_award(%(tenant)s::uuid, %(giver)s::uuid, %(source)s::text, %(users)s::uuid[], "
    "%(recognitions)s::uuid[], %(entries)s::uuid[], %(points)s::bigint, %(message)s::text, %(note)s::text, "
    "%(group)s::uuid, %(parent)s::uuid, %(has_value)s::boolean, %(now)s::timestamptz, %(event)s::uuid, "
    "%(event_name)s::text, %(event_payload)s::jsonb, %(low_event)s::uuid)"
)
AWARD_SQL_CHOICES = ("function", "statement")


def pay_award(
    *,
    giver: User,
    ids: list[UUID],
    row_ids: list[tuple[UUID, UUID]],
    points: int,
    message: str,
    source: str,
    group_id: UUID,
    now,
    parent_id: UUID | None = None,
    has_value: bool = False,
    event_payload: dict | None = None,
) -> list[tuple]:
    """Run the award: one call of `perksu_award`, or with `AWARD_SQL = "statement"` the one
    statement, which do the same. Returns `(user_id, wallet_id, balance_after, entry_no,
    payer_after, pool, allowance_period, allowance_given)` per credited wallet (`pool`
    only when a lead budget paid: else `payer_after` is the pool; the last two only for
    an allowance gift), or no rows when it wrote nothing.

    An award with no value (`has_value` false) writes nothing in a tenant that requires
    one: the general path then refuses with `value_required`.

    With `event_payload` (the `recognition.created` payload without its recipients) the
    award records the event, and `pool.low_balance` on a crossing, in the same round trip.

    A refusal is signalled the same way by both: no rows when a check fails before anything is
    written, SQLSTATE PK001 (`AWARD_NOT_PAID`) when the paying balance or the allowance is gone
    at the debit, the whole award undone."""
    params = {
        "users": ids,
        "recognitions": [recognition_id for recognition_id, _ in row_ids],
        "entries": [entry_id for _, entry_id in row_ids],
        "tenant": giver.tenant_id,
        "giver": giver.pk,
        "active": Tenant.Status.ACTIVE.value,
        "points": points,
        "total": points * len(ids),
        "count": len(ids),
        "source": source,
        "message": message,
        "note": message[:500],
        "group": group_id,
        "parent": parent_id,
        "has_value": has_value,
        "now": now,
        "credit": WalletLedger.EntryType.CREDIT.value,
        "recognition": WalletLedger.Source.RECOGNITION.value,
    }
    events = event_payload is not None
    if events:
        params.update(
            event=uuid4(),
            event_name=event_types.RECOGNITION_ADD_ON
            if event_payload.get("parent_group_id")
            else event_types.RECOGNITION_CREATED,
            event_payload=json.dumps(event_payload),
            low_event=uuid4(),
        )
    if settings.AWARD_SQL == "function":
        if not events:
            params.update(event=None, event_name=None, event_payload=None, low_event=None)
        sql = AWARD_FUNCTION_SQL
    else:
        sql = _AWARD_SQL_BY_SOURCE[(source, events)]
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _uuid_sql() -> str:
    """A fresh random UUID per row, in the form the backend stores UUIDField."""
    return "gen_random_uuid()" if connection.vendor == "postgresql" else "lower(hex(randomblob(16)))"


def _prep(field_owner, field: str, value):
    return field_owner._meta.get_field(field).get_db_prep_value(value, connection)


def insert_distribution_recognitions(recipients, *, giver: User, amount: int, message: str, group_id, now) -> int:
    """One POOL-funded Recognition per member selected by `recipients` (a Wallet queryset); returns how many."""
    select_sql, select_params = recipients.values("user_id").query.sql_with_params()
    table = Recognition._meta.db_table
    sql = (
        f"INSERT INTO {table} (id, tenant_id, giver_id, receiver_id, points, message, funding_source, "
        f"group_id, created_at) "
        f"SELECT {_uuid_sql()}, %s, %s, r.user_id, %s, %s, %s, %s, %s FROM ({select_sql}) r"
    )
    params = [
        _prep(Recognition, "tenant", giver.tenant_id),
        _prep(Recognition, "giver", giver.pk),
        amount,
        message,
        Source.POOL.value,
        _prep(Recognition, "group_id", group_id),
        _prep(Recognition, "created_at", now),
        *select_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def insert_distribution_ledger(*, group_id, giver: User, amount: int, note: str) -> None:
    """One CREDIT per recipient; must run after the wallets' UPDATE (it reads the new balances)."""
    sql = (
        f"INSERT INTO {WalletLedger._meta.db_table} (id, tenant_id, wallet_id, entry_no, entry_type, source, "
        f"amount, balance_after, actor_id, recognition_id, redemption_id, note, created_at) "
        f"SELECT {_uuid_sql()}, w.tenant_id, w.id, w.last_entry_no, %s, %s, %s, w.balance, %s, r.id, NULL, %s, "
        f"r.created_at "
        f"FROM {Recognition._meta.db_table} r "
        f"JOIN {Wallet._meta.db_table} w ON w.tenant_id = r.tenant_id AND w.user_id = r.receiver_id "
        f"WHERE r.tenant_id = %s AND r.group_id = %s"
    )
    params = [
        WalletLedger.EntryType.CREDIT.value,
        WalletLedger.Source.RECOGNITION.value,
        amount,
        _prep(WalletLedger, "actor", giver.pk),
        note,
        _prep(Recognition, "tenant", giver.tenant_id),
        _prep(Recognition, "group_id", group_id),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
