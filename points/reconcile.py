"""The ledger-health checks of SPEC §5, as set-based SQL aggregates.

Each figure is one GROUP BY over a table (never a loop over rows in Python), so
a check over millions of ledger rows costs a handful of scans. Used by
`manage.py reconcile` and the admin's ledger-health page.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from recognition.models import Recognition
from tenants.models import Tenant
from wallets.models import Redemption, Wallet, WalletLedger

from .models import AllocationLog, DelegationLog, LeadBudget

T_ALLOC = AllocationLog._meta.db_table
T_DELEG = DelegationLog._meta.db_table
T_BUDGET = LeadBudget._meta.db_table
T_WALLET = Wallet._meta.db_table
T_LEDGER = WalletLedger._meta.db_table
T_RECOG = Recognition._meta.db_table
T_REDEEM = Redemption._meta.db_table


@dataclass
class TenantReport:
    tenant_id: str
    slug: str
    name: str
    figures: dict[str, int] = field(default_factory=dict)
    drifts: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.drifts

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "slug": self.slug,
            "name": self.name,
            "ok": self.ok,
            "figures": self.figures,
            "drifts": self.drifts,
        }

    def line(self) -> str:
        if self.ok:
            return (
                f"{self.slug}: OK (pool {self.figures['pool']}, lead budgets {self.figures['lead_budgets']}, "
                f"wallets {self.figures['wallets']}, issued redemptions {self.figures['issued_redemptions']})"
            )
        return f"{self.slug}: DRIFT — " + "; ".join(self.drifts)


def _rows(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _key(value: Any) -> str:
    """Normalise a UUID column value (uuid on PostgreSQL, hex text on SQLite)."""
    return str(value).replace("-", "")


def reconcile(*, tenant_slug: str | None = None) -> list[TenantReport]:
    """Check the six invariants of SPEC §5 for every tenant (or one)."""
    tenants = Tenant.objects.order_by("slug")
    if tenant_slug:
        tenants = tenants.filter(slug=tenant_slug)
    reports = {
        _key(t.pk): TenantReport(str(t.pk), t.slug, t.name, figures={"pool": t.points_allocation_balance})
        for t in tenants
    }
    if not reports:
        return []
    tenant_param = []
    if tenant_slug:
        tenant_param = [Tenant._meta.pk.get_db_prep_value(next(iter(tenants)).pk, connection)]

    def scope(alias: str = "") -> str:
        """The tenant filter of a query; every placeholder in these queries is the tenant id."""
        return f"{alias}tenant_id = %s" if tenant_slug else "1 = 1"

    sums: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))

    def collect(sql: str) -> None:
        for tenant_id, name, value in _rows(sql, tenant_param * sql.count("%s")):
            sums[_key(tenant_id)][name] += int(value or 0)

    collect(f"SELECT tenant_id, kind, SUM(amount) FROM {T_ALLOC} WHERE {scope()} GROUP BY tenant_id, kind")
    collect(f"SELECT tenant_id, kind, SUM(amount) FROM {T_DELEG} WHERE {scope()} GROUP BY tenant_id, kind")
    collect(
        f"SELECT tenant_id, 'AWARD_' || funding_source, SUM(points) FROM {T_RECOG} WHERE {scope()} "
        f"GROUP BY tenant_id, funding_source"
    )
    collect(f"SELECT tenant_id, 'lead_budgets', SUM(balance) FROM {T_BUDGET} WHERE {scope()} GROUP BY tenant_id")
    collect(f"SELECT tenant_id, 'wallets', SUM(balance) FROM {T_WALLET} WHERE {scope()} GROUP BY tenant_id")
    collect(
        f"SELECT tenant_id, 'issued_redemptions', SUM(points_spent) FROM {T_REDEEM} "
        f"WHERE {scope()} AND status = 'ISSUED' GROUP BY tenant_id"
    )
    # 1. Negative balances (the CHECK constraints make these impossible; verify anyway).
    collect(
        f"SELECT tenant_id, 'negative_budgets', COUNT(*) FROM {T_BUDGET} "
        f"WHERE {scope()} AND balance < 0 GROUP BY tenant_id"
    )
    collect(
        f"SELECT tenant_id, 'negative_wallets', COUNT(*) FROM {T_WALLET} "
        f"WHERE {scope()} AND balance < 0 GROUP BY tenant_id"
    )
    # 2. Each wallet against its ledger: sums, entry count, the newest entry, lifetime figures.
    collect(
        f"SELECT w.tenant_id, 'wallet_drifts', COUNT(*) FROM {T_WALLET} w "
        f"LEFT JOIN (SELECT wallet_id, "
        f"  SUM(CASE WHEN entry_type = 'CREDIT' THEN amount ELSE 0 END) AS credits, "
        f"  SUM(CASE WHEN entry_type = 'DEBIT' THEN amount ELSE 0 END) AS debits, "
        f"  COUNT(*) AS entries FROM {T_LEDGER} WHERE {scope()} GROUP BY wallet_id) l ON l.wallet_id = w.id "
        f"LEFT JOIN {T_LEDGER} newest ON newest.wallet_id = w.id AND newest.entry_no = w.last_entry_no "
        f"WHERE {scope('w.')} AND ("
        f"  w.balance <> COALESCE(l.credits, 0) - COALESCE(l.debits, 0)"
        f"  OR w.last_entry_no <> COALESCE(l.entries, 0)"
        f"  OR (w.last_entry_no > 0 AND (newest.balance_after IS NULL OR newest.balance_after <> w.balance))"
        f"  OR w.balance <> w.lifetime_earned - w.lifetime_spent) "
        f"GROUP BY w.tenant_id"
    )
    # 3. Each lead budget against its delegations, recalls and lead-funded awards.
    collect(
        f"SELECT b.tenant_id, 'budget_drifts', COUNT(*) FROM {T_BUDGET} b "
        f"LEFT JOIN (SELECT lead_id, SUM(CASE WHEN kind = 'DELEGATION' THEN amount ELSE -amount END) AS net "
        f"  FROM {T_DELEG} WHERE {scope()} GROUP BY lead_id) d ON d.lead_id = b.lead_id "
        f"LEFT JOIN (SELECT giver_id, SUM(points) AS spent FROM {T_RECOG} "
        f"  WHERE {scope()} AND funding_source = 'LEAD_BUDGET' GROUP BY giver_id) a ON a.giver_id = b.lead_id "
        f"WHERE {scope('b.')} AND b.balance <> COALESCE(d.net, 0) - COALESCE(a.spent, 0) "
        f"GROUP BY b.tenant_id"
    )
    # 6. Every recognition with points has exactly one matching wallet credit (same
    #    amount, the receiver's wallet), and there is no recognition credit besides.
    collect(
        f"SELECT r.tenant_id, 'unmatched_recognitions', COUNT(*) FROM {T_RECOG} r "
        f"LEFT JOIN (SELECT l.recognition_id, COUNT(*) AS n FROM {T_LEDGER} l "
        f"  JOIN {T_WALLET} w ON w.id = l.wallet_id JOIN {T_RECOG} r2 ON r2.id = l.recognition_id "
        f"  WHERE {scope('l.')} AND l.source = 'RECOGNITION' AND l.entry_type = 'CREDIT' "
        f"  AND l.amount = r2.points AND w.user_id = r2.receiver_id GROUP BY l.recognition_id) m "
        f"  ON m.recognition_id = r.id "
        f"WHERE {scope('r.')} AND r.points > 0 AND COALESCE(m.n, 0) <> 1 "
        f"GROUP BY r.tenant_id"
    )
    collect(
        f"SELECT tenant_id, 'recognition_credits', COUNT(*) FROM {T_LEDGER} "
        f"WHERE {scope()} AND source = 'RECOGNITION' GROUP BY tenant_id"
    )
    collect(
        f"SELECT tenant_id, 'recognitions_with_points', COUNT(*) FROM {T_RECOG} "
        f"WHERE {scope()} AND points > 0 GROUP BY tenant_id"
    )

    for key, report in reports.items():
        _judge(report, sums[key])
    return list(reports.values())


def _judge(report: TenantReport, s: dict[str, int]) -> None:
    pool = report.figures["pool"]
    allocated, clawed = s["ALLOCATION"], s["CLAWBACK"]
    delegated, recalled = s["DELEGATION"], s["RECALL"]
    pool_awards, lead_awards = s["AWARD_POOL"], s["AWARD_LEAD_BUDGET"]
    report.figures.update(
        allocated=allocated,
        clawed_back=clawed,
        delegated=delegated,
        recalled=recalled,
        pool_awards=pool_awards,
        lead_awards=lead_awards,
        lead_budgets=s["lead_budgets"],
        wallets=s["wallets"],
        issued_redemptions=s["issued_redemptions"],
    )
    drifts = report.drifts
    # 1
    if pool < 0:
        drifts.append(f"pool is negative ({pool})")
    if s["negative_budgets"]:
        drifts.append(f"{s['negative_budgets']} lead budget(s) negative")
    if s["negative_wallets"]:
        drifts.append(f"{s['negative_wallets']} wallet(s) negative")
    # 2
    if s["wallet_drifts"]:
        drifts.append(f"{s['wallet_drifts']} wallet(s) disagree with their ledger")
    # 3
    if s["budget_drifts"]:
        drifts.append(f"{s['budget_drifts']} lead budget(s) disagree with delegations − recalls − lead awards")
    # 4
    expected_pool = allocated - clawed - delegated + recalled - pool_awards
    if pool != expected_pool:
        drifts.append(
            f"pool {pool} ≠ allocations {allocated} − clawbacks {clawed} − delegations {delegated} "
            f"+ recalls {recalled} − pool awards {pool_awards} = {expected_pool}"
        )
    # 5
    outstanding = pool + s["lead_budgets"] + s["wallets"] + s["issued_redemptions"]
    if allocated - clawed != outstanding:
        drifts.append(
            f"conservation: allocations − clawbacks = {allocated - clawed} ≠ pool {pool} + lead budgets "
            f"{s['lead_budgets']} + wallets {s['wallets']} + issued redemptions {s['issued_redemptions']} "
            f"= {outstanding}"
        )
    # 6
    if s["unmatched_recognitions"]:
        drifts.append(f"{s['unmatched_recognitions']} recognition(s) without exactly one matching wallet credit")
    if s["recognition_credits"] != s["recognitions_with_points"]:
        drifts.append(
            f"{s['recognition_credits']} recognition credits for {s['recognitions_with_points']} "
            f"recognitions with points"
        )
