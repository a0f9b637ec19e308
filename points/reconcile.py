"""The ledger-health checks of SPEC §5, as set-based SQL aggregates.

Each figure is one GROUP BY over a table (never a loop over rows in Python), so
a check over millions of ledger rows costs a handful of scans. Used by
`manage.py reconcile` and the admin's ledger-health page.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import connections, transaction
from django.db.models import OuterRef, Subquery

from people.models import ForfeitLog
from perksu.replica import read_alias, replica_reads
from recognition.models import AllowanceUsage, Recognition
from tenants.models import Tenant, TenantSlug, User, UserEmail
from wallets.models import Redemption, VoucherCode, Wallet, WalletLedger

from .models import AllocationLog, DelegationLog, LeadBudget

T_ALLOC = AllocationLog._meta.db_table
T_DELEG = DelegationLog._meta.db_table
T_BUDGET = LeadBudget._meta.db_table
T_WALLET = Wallet._meta.db_table
T_LEDGER = WalletLedger._meta.db_table
T_RECOG = Recognition._meta.db_table
T_REDEEM = Redemption._meta.db_table
T_FORFEIT = ForfeitLog._meta.db_table
T_USAGE = AllowanceUsage._meta.db_table
T_VOUCHER = VoucherCode._meta.db_table
T_USER = User._meta.db_table
T_EMAIL = UserEmail._meta.db_table


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


def _rows(connection, sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _key(value: Any) -> str:
    """Normalise a UUID column value (uuid on PostgreSQL, hex text on SQLite)."""
    return str(value).replace("-", "")


def reconcile(*, tenant_slug: str | None = None) -> list[TenantReport]:
    """Check the six invariants of SPEC §5 for every tenant (or one).

    On PostgreSQL every figure comes from one REPEATABLE READ snapshot, so money
    moving while it runs cannot show as drift; with a replica configured
    (perksu/replica.py) that snapshot is taken on the replica. Inside a caller's
    transaction it reads in that transaction.
    """
    with replica_reads():
        alias = read_alias()
        connection = connections[alias]
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            return _reconcile(connection, tenant_slug)
        with transaction.atomic(using=alias):
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            return _reconcile(connection, tenant_slug)


def _reconcile(connection, tenant_slug: str | None) -> list[TenantReport]:
    # Who holds each tenant's slug in tenant_slugs, read with the tenants (no statement more).
    holder = TenantSlug.objects.filter(slug=OuterRef("slug")).values("tenant_id")[:1]
    tenants = Tenant.objects.annotate(slug_holder=Subquery(holder)).order_by("slug")
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

    def collect(sql: str, *names: str) -> None:
        """Add a query's figures per tenant: rows of (tenant_id, value, …) named by `names`,
        or, without names, rows of (tenant_id, name, value)."""
        for tenant_id, *values in _rows(connection, sql, tenant_param * sql.count("%s")):
            pairs = zip(names, values, strict=True) if names else [values]
            for name, value in pairs:
                sums[_key(tenant_id)][name] += int(value or 0)

    def count(condition: str) -> str:
        return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"

    # 4, 5: the flows of the pool (allocations, clawbacks, delegations, recalls).
    collect(f"SELECT tenant_id, kind, SUM(amount) FROM {T_ALLOC} WHERE {scope()} GROUP BY tenant_id, kind")
    collect(f"SELECT tenant_id, kind, SUM(amount) FROM {T_DELEG} WHERE {scope()} GROUP BY tenant_id, kind")
    # Leavers' wallets returned to the pool (people.leavers).
    collect(f"SELECT tenant_id, SUM(amount) FROM {T_FORFEIT} WHERE {scope()} GROUP BY tenant_id", "FORFEIT")
    # Issued redemptions, and every redemption's voucher code held for it in voucher_codes.
    collect(
        f"SELECT r.tenant_id, SUM(CASE WHEN r.status = 'ISSUED' THEN r.points_spent ELSE 0 END), "
        f"  {count('v.code IS NULL OR v.redemption_id <> r.id')} "
        f"FROM {T_REDEEM} r LEFT JOIN {T_VOUCHER} v ON v.code = r.voucher_code AND v.tenant_id = r.tenant_id "
        f"WHERE {scope('r.')} GROUP BY r.tenant_id",
        "issued_redemptions",
        "voucher_drifts",
    )
    # Every member's login e-mail held for them in user_emails (the e-mail lower-cased, their tenant),
    # and no row there for anyone else: with user_id unique, as many rows as members, all matching.
    email_drift = "e.user_id IS NULL OR e.email <> LOWER(u.email)"
    collect(
        f"SELECT u.tenant_id, COUNT(*), {count(email_drift)} "
        f"FROM {T_USER} u LEFT JOIN {T_EMAIL} e ON e.tenant_id = u.tenant_id AND e.user_id = u.id "
        f"WHERE {scope('u.')} GROUP BY u.tenant_id",
        "members",
        "email_drifts",
    )
    collect(f"SELECT tenant_id, COUNT(*) FROM {T_EMAIL} WHERE {scope()} GROUP BY tenant_id", "email_rows")
    # 1, 2 and half of 6, in one pass over the ledger: each wallet against its ledger (sums,
    # entry count, the newest entry, lifetime figures), negative wallets, recognition credits.
    wallet_drift = (
        "w.balance <> COALESCE(l.net, 0) OR w.last_entry_no <> COALESCE(l.entries, 0) "
        "OR w.balance <> w.lifetime_earned - w.lifetime_spent "
        "OR (w.last_entry_no > 0 AND (newest.balance_after IS NULL OR newest.balance_after <> w.balance))"
    )
    recognition_credit = count("source = 'RECOGNITION'")
    collect(
        f"SELECT w.tenant_id, SUM(w.balance), {count('w.balance < 0')}, {count(wallet_drift)}, "
        f"  COALESCE(SUM(l.recognition_credits), 0) "
        f"FROM {T_WALLET} w "
        f"LEFT JOIN (SELECT tenant_id, wallet_id, COUNT(*) AS entries, "
        f"  SUM(CASE WHEN entry_type = 'CREDIT' THEN amount ELSE -amount END) AS net, "
        f"  {recognition_credit} AS recognition_credits "
        f"  FROM {T_LEDGER} WHERE {scope()} GROUP BY tenant_id, wallet_id) l "
        f"  ON l.tenant_id = w.tenant_id AND l.wallet_id = w.id "
        f"LEFT JOIN {T_LEDGER} newest "
        f"  ON newest.tenant_id = w.tenant_id AND newest.wallet_id = w.id AND newest.entry_no = w.last_entry_no "
        f"WHERE {scope('w.')} GROUP BY w.tenant_id",
        "wallets",
        "negative_wallets",
        "wallet_drifts",
        "recognition_credits",
    )
    # 1, 3: each lead budget against its delegations, recalls and lead-funded awards.
    collect(
        f"SELECT b.tenant_id, SUM(b.balance), {count('b.balance < 0')}, "
        f"  {count('b.balance <> COALESCE(d.net, 0) - COALESCE(a.spent, 0)')} "
        f"FROM {T_BUDGET} b "
        f"LEFT JOIN (SELECT tenant_id, lead_id, "
        f"  SUM(CASE WHEN kind = 'DELEGATION' THEN amount ELSE -amount END) AS net "
        f"  FROM {T_DELEG} WHERE {scope()} GROUP BY tenant_id, lead_id) d "
        f"  ON d.tenant_id = b.tenant_id AND d.lead_id = b.lead_id "
        f"LEFT JOIN (SELECT tenant_id, giver_id, SUM(points) AS spent FROM {T_RECOG} "
        f"  WHERE {scope()} AND funding_source = 'LEAD_BUDGET' GROUP BY tenant_id, giver_id) a "
        f"  ON a.tenant_id = b.tenant_id AND a.giver_id = b.lead_id "
        f"WHERE {scope('b.')} GROUP BY b.tenant_id",
        "lead_budgets",
        "negative_budgets",
        "budget_drifts",
    )
    # 4 and the other half of 6, in one pass over recognitions: award points per source, and
    # every recognition with points joined to its credits. A missing or mismatched credit
    # counts here; a second credit shows as more credits than recognitions with points.
    unmatched = "r.points > 0 AND (c.recognition_id IS NULL OR c.amount <> r.points OR c.user_id <> r.receiver_id)"
    for tenant_id, source, points, with_points, bad in _rows(
        connection,
        f"SELECT r.tenant_id, r.funding_source, SUM(r.points), {count('r.points > 0')}, {count(unmatched)} "
        f"FROM {T_RECOG} r "
        f"LEFT JOIN (SELECT l.tenant_id, l.recognition_id, l.amount, w.user_id FROM {T_LEDGER} l "
        f"  JOIN {T_WALLET} w ON w.tenant_id = l.tenant_id AND w.id = l.wallet_id "
        f"  WHERE {scope('l.')} AND l.source = 'RECOGNITION') c "
        f"  ON c.tenant_id = r.tenant_id AND c.recognition_id = r.id "
        f"WHERE {scope('r.')} GROUP BY r.tenant_id, r.funding_source",
        tenant_param * 2,
    ):
        figures = sums[_key(tenant_id)]
        figures[f"AWARD_{source}"] += int(points or 0)
        figures["recognitions_with_points"] += int(with_points or 0)
        figures["unmatched_recognitions"] += int(bad or 0)

    # 7: every allowance usage row against the allowance-funded points its member gave in
    # its period (recognitions name the period they counted in), and within its limit.
    usage_drift = 'u.given <> COALESCE(g.given, 0) OR u.given > u."limit" OR u.given < 0'
    orphan = "u.id IS NULL"
    collect(
        f"SELECT COALESCE(u.tenant_id, g.tenant_id), {count(usage_drift + ' OR ' + orphan)}, "
        f'  COALESCE(SUM(u.given), 0), COALESCE(SUM(u."limit"), 0) '
        f"FROM {T_USAGE} u "
        f"FULL OUTER JOIN (SELECT tenant_id, giver_id, allowance_period, SUM(points) AS given FROM {T_RECOG} "
        f"  WHERE {scope()} AND funding_source = 'ALLOWANCE' "
        f"  GROUP BY tenant_id, giver_id, allowance_period) g "
        f"  ON g.tenant_id = u.tenant_id AND g.giver_id = u.user_id AND g.allowance_period = u.period_start "
        f"WHERE {scope('u.')} OR (u.id IS NULL AND {scope('g.')}) "
        f"GROUP BY COALESCE(u.tenant_id, g.tenant_id)",
        "allowance_drifts",
        "allowance_given",
        "allowance_limits",
    )

    for key, report in reports.items():
        _judge(report, sums[key])
    # The slug is the tenant's: its row in tenant_slugs, which keeps slugs unique, names it.
    for t in tenants:
        if t.slug_holder is None:
            reports[_key(t.pk)].drifts.append(f"slug {t.slug!r} has no row in tenant_slugs")
        elif t.slug_holder != t.pk:
            reports[_key(t.pk)].drifts.append(f"slug {t.slug!r} is held by another tenant ({t.slug_holder})")
    # The insights rollups (derived figures, not money): each built day and month against a rebuild
    # from its sources, for the tenants that have any (one statement finds them).
    from insights.rollups import rollup_drifts, tenants_with_rollups

    with_rollups = tenants_with_rollups([t.pk for t in tenants])
    for tenant in tenants:
        if tenant.pk in with_rollups:
            reports[_key(tenant.pk)].drifts.extend(rollup_drifts(tenant))
    return list(reports.values())


def _judge(report: TenantReport, s: dict[str, int]) -> None:
    pool = report.figures["pool"]
    allocated, clawed = s["ALLOCATION"], s["CLAWBACK"]
    delegated, recalled = s["DELEGATION"], s["RECALL"]
    pool_awards, lead_awards = s["AWARD_POOL"], s["AWARD_LEAD_BUDGET"]
    forfeited = s["FORFEIT"]
    allowance_awards = s["AWARD_ALLOWANCE"]
    report.figures.update(
        allocated=allocated,
        clawed_back=clawed,
        delegated=delegated,
        recalled=recalled,
        pool_awards=pool_awards,
        lead_awards=lead_awards,
        allowance_awards=allowance_awards,
        allowance_given=s["allowance_given"],
        lead_budgets=s["lead_budgets"],
        wallets=s["wallets"],
        issued_redemptions=s["issued_redemptions"],
        forfeited=forfeited,
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
    # 4 and 4′: allowance gifts are paid by the pool too
    expected_pool = allocated - clawed - delegated + recalled - pool_awards - allowance_awards + forfeited
    if pool != expected_pool:
        drifts.append(
            f"pool {pool} ≠ allocations {allocated} − clawbacks {clawed} − delegations {delegated} "
            f"+ recalls {recalled} − pool awards {pool_awards}"
            + (f" − allowance gifts {allowance_awards}" if allowance_awards else "")
            + (f" + leavers' forfeits {forfeited}" if forfeited else "")
            + f" = {expected_pool}"
        )
    # 5
    outstanding = pool + s["lead_budgets"] + s["wallets"] + s["issued_redemptions"]
    if allocated - clawed != outstanding:
        drifts.append(
            f"conservation: allocations − clawbacks = {allocated - clawed} ≠ pool {pool} + lead budgets "
            f"{s['lead_budgets']} + wallets {s['wallets']} + issued redemptions {s['issued_redemptions']} "
            f"= {outstanding}"
        )
    # 7
    if s["allowance_drifts"]:
        drifts.append(
            f"{s['allowance_drifts']} allowance usage row(s) disagree with the allowance gifts of their period "
            f"or exceed their limit"
        )
    if s["email_drifts"]:
        drifts.append(f"{s['email_drifts']} member(s) whose login e-mail is not held for them in user_emails")
    elif s["email_rows"] != s["members"]:
        drifts.append(f"{s['email_rows']} row(s) in user_emails for {s['members']} members")
    if s["voucher_drifts"]:
        drifts.append(f"{s['voucher_drifts']} redemption(s) whose voucher code is not held for them in voucher_codes")
    # 6
    if s["unmatched_recognitions"]:
        drifts.append(f"{s['unmatched_recognitions']} recognition(s) without exactly one matching wallet credit")
    if s["recognition_credits"] != s["recognitions_with_points"]:
        drifts.append(
            f"{s['recognition_credits']} recognition credits for {s['recognitions_with_points']} "
            f"recognitions with points"
        )
