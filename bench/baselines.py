"""Hand-written SQL that does what a service does, to measure the product against.

Each baseline is what an engineer would write with nothing but SQL and the
schema: no ORM, no Python per row. They run on the same tables and data as the
product, so the ratio product / baseline is the framework's and the design's cost.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from uuid import UUID

from django.db import connection, transaction

from recognition.models import Recognition
from tenants.models import Role, Tenant, User
from wallets.models import Wallet, WalletLedger

T_WALLET = Wallet._meta.db_table
T_LEDGER = WalletLedger._meta.db_table
T_RECOG = Recognition._meta.db_table
T_USER = User._meta.db_table
T_TENANT = Tenant._meta.db_table

DISTRIBUTE_SQL = f"""
WITH members AS (
    SELECT w.id FROM {T_WALLET} w JOIN {T_USER} u ON u.id = w.user_id
    WHERE w.tenant_id = %(tenant)s AND u.is_active AND u.role = ANY(%(roles)s) AND w.user_id <> %(giver)s
    ORDER BY w.id FOR UPDATE OF w
), credited AS (
    UPDATE {T_WALLET} w
    SET balance = w.balance + %(amount)s, lifetime_earned = w.lifetime_earned + %(amount)s,
        last_entry_no = w.last_entry_no + 1
    FROM members m WHERE w.id = m.id
    RETURNING w.id, w.user_id, w.balance, w.last_entry_no
), recognised AS (
    INSERT INTO {T_RECOG} (id, tenant_id, giver_id, receiver_id, points, message, funding_source, group_id, created_at)
    SELECT gen_random_uuid(), %(tenant)s, %(giver)s, c.user_id, %(amount)s, %(message)s, 'POOL', %(group)s, %(now)s
    FROM credited c
    RETURNING id, receiver_id
)
INSERT INTO {T_LEDGER} (id, tenant_id, wallet_id, entry_no, entry_type, source, amount, balance_after, actor_id,
                        recognition_id, redemption_id, note, created_at)
SELECT gen_random_uuid(), %(tenant)s, c.id, c.last_entry_no, 'CREDIT', 'RECOGNITION', %(amount)s, c.balance,
       %(giver)s, r.id, NULL, %(message)s, %(now)s
FROM recognised r JOIN credited c ON c.user_id = r.receiver_id
"""

POOL_DEBIT_SQL = f"""
UPDATE {T_TENANT} SET points_allocation_balance = points_allocation_balance - %(total)s
WHERE id = %(tenant)s AND status = 'ACTIVE' AND points_allocation_balance >= %(total)s
RETURNING points_allocation_balance
"""


def distribute_sql(*, tenant_id: UUID, giver_id: UUID, amount: int, message: str, group_id: UUID, now: datetime) -> int:
    """The effect of `recognition_distribute` in one transaction of two statements: every
    member's wallet credited, a recognition and a ledger CREDIT each, the pool debited last."""
    params = {
        "tenant": tenant_id,
        "giver": giver_id,
        "amount": amount,
        "message": message,
        "group": group_id,
        "now": now,
        "roles": [Role.TENANT_MANAGER.value, Role.TENANT_LEAD.value, Role.EMPLOYEE.value],
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(DISTRIBUTE_SQL, params)
        recipients = cursor.rowcount
        cursor.execute(POOL_DEBIT_SQL, {"tenant": tenant_id, "total": amount * recipients})
        if cursor.fetchone() is None:
            raise RuntimeError("the pool does not cover the distribution")  # rolls the whole transaction back
    return recipients


# The invariants of SPEC §5 with the fewest passes: the ledger is read twice (per
# wallet, and per recognition), recognitions once; the rest are small tables.
RECONCILE_SQL = {
    "wallets": f"""
        SELECT w.tenant_id, SUM(w.balance), COUNT(*) FILTER (WHERE w.balance < 0),
               COUNT(*) FILTER (WHERE w.balance <> COALESCE(l.net, 0) OR w.last_entry_no <> COALESCE(l.n, 0)
                                OR w.balance <> w.lifetime_earned - w.lifetime_spent
                                OR (w.last_entry_no > 0 AND newest.balance_after IS DISTINCT FROM w.balance)),
               COALESCE(SUM(l.recognition_credits), 0)
        FROM {T_WALLET} w
        LEFT JOIN (SELECT wallet_id, COUNT(*) AS n,
                          SUM(CASE WHEN entry_type = 'CREDIT' THEN amount ELSE -amount END) AS net,
                          COUNT(*) FILTER (WHERE source = 'RECOGNITION') AS recognition_credits
                   FROM {T_LEDGER} GROUP BY wallet_id) l ON l.wallet_id = w.id
        LEFT JOIN {T_LEDGER} newest ON newest.wallet_id = w.id AND newest.entry_no = w.last_entry_no
        GROUP BY w.tenant_id""",
    # Each recognition with points has a matching credit, and there are as many
    # recognition credits as recognitions with points: together, exactly one each.
    "recognitions": f"""
        SELECT r.tenant_id, r.funding_source, SUM(r.points), COUNT(*) FILTER (WHERE r.points > 0),
               COUNT(*) FILTER (WHERE r.points > 0 AND (c.id IS NULL OR c.amount <> r.points
                                                        OR c.user_id <> r.receiver_id))
        FROM {T_RECOG} r
        LEFT JOIN (SELECT l.id, l.recognition_id, l.amount, w.user_id FROM {T_LEDGER} l
                   JOIN {T_WALLET} w ON w.id = l.wallet_id WHERE l.source = 'RECOGNITION') c
               ON c.recognition_id = r.id
        GROUP BY r.tenant_id, r.funding_source""",
    "pool": "SELECT id, points_allocation_balance FROM tenants",
    "allocations": "SELECT tenant_id, kind, SUM(amount) FROM allocation_logs GROUP BY tenant_id, kind",
    "delegations": "SELECT tenant_id, kind, SUM(amount) FROM delegation_logs GROUP BY tenant_id, kind",
    "budgets": """
        SELECT b.tenant_id, SUM(b.balance), COUNT(*) FILTER (WHERE b.balance < 0),
               COUNT(*) FILTER (WHERE b.balance <> COALESCE(d.net, 0) - COALESCE(a.spent, 0))
        FROM lead_budgets b
        LEFT JOIN (SELECT lead_id, SUM(CASE WHEN kind = 'DELEGATION' THEN amount ELSE -amount END) AS net
                   FROM delegation_logs GROUP BY lead_id) d ON d.lead_id = b.lead_id
        LEFT JOIN (SELECT giver_id, SUM(points) AS spent FROM recognitions
                   WHERE funding_source = 'LEAD_BUDGET' GROUP BY giver_id) a ON a.giver_id = b.lead_id
        GROUP BY b.tenant_id""",
    "redemptions": "SELECT tenant_id, SUM(points_spent) FROM redemptions WHERE status = 'ISSUED' GROUP BY tenant_id",
}


def reconcile_sql() -> dict[str, dict[str, int]]:
    """Per tenant: the figures and the drift count of SPEC §5, from the queries above."""
    rows: dict[str, list[tuple]] = {}
    with connection.cursor() as cursor:
        for name, query in RECONCILE_SQL.items():
            cursor.execute(query)
            rows[name] = cursor.fetchall()

    t: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for tenant, pool in rows["pool"]:
        t[str(tenant)]["pool"] = pool
    for tenant, total, negative, drifted, credits in rows["wallets"]:
        f = t[str(tenant)]
        f["wallets"], f["recognition_credits"] = int(total or 0), int(credits)
        f["drifts"] += negative + drifted
    for tenant, source, points, with_points, unmatched in rows["recognitions"]:
        f = t[str(tenant)]
        f[f"award_{source.lower()}"] += int(points or 0)
        f["recognitions_with_points"] += with_points
        f["drifts"] += unmatched
    for name in ("allocations", "delegations"):
        for tenant, kind, amount in rows[name]:
            t[str(tenant)][kind.lower()] += int(amount)
    for tenant, total, negative, drifted in rows["budgets"]:
        f = t[str(tenant)]
        f["lead_budgets"] = int(total or 0)
        f["drifts"] += negative + drifted
    for tenant, total in rows["redemptions"]:
        t[str(tenant)]["issued_redemptions"] = int(total or 0)

    for f in t.values():
        pool = f["pool"]
        expected_pool = f["allocation"] - f["clawback"] - f["delegation"] + f["recall"] - f["award_pool"]
        outstanding = pool + f["lead_budgets"] + f["wallets"] + f["issued_redemptions"]
        f["drifts"] += (pool < 0) + (pool != expected_pool) + (f["allocation"] - f["clawback"] != outstanding)
        f["drifts"] += f["recognition_credits"] != f["recognitions_with_points"]
    return {k: dict(v) for k, v in t.items()}
