"""The insights phase of the bench: one tenant with 1,000,000 recognitions, 5,000,000
ledger rows and 20,000 members, and every insights view timed on it (SPEC §13).

The tenant is written set-based with `generate_series`, in a few statements, so it
builds in minutes: it is a fixture for read timings, not a movement of points. Its
rows are shaped like a year of a large company's programme — members in 40 teams
(8 departments of 4), 6 company values named by half the recognitions, kudos and
awards paid by the pool or lead budgets, redemptions of 8 rewards (a tenth of them
refunded), and the rest of the ledger as adjustments — and the ledger is consistent
per wallet (entry numbers 1, 2, 3 …, running `balance_after`, each wallet opened
with an adjustment large enough that no balance goes below zero). It is not written
through the services, so reconcile's pool and budget invariants do not apply to it;
the bench reconciles only the tenants the services wrote.

Each view is asked for 1 + 5 times over HTTP through Django's test client (the
first warms the caches and is dropped); the figure is the p50 of the five, and the
number of SQL statements of each call, which must not vary.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time

RECOGNITIONS = 1_000_000
LEDGER_ROWS = 5_000_000
MEMBERS = 20_000
REDEMPTIONS = 500_000
DAYS = 365
DEPARTMENTS, TEAMS_PER_DEPARTMENT = 8, 4
VALUES = ["Ownership", "Customer first", "Courage", "Craft", "Teamwork", "Frugality"]
REWARDS = 8
RUNS = 5
BUDGET_MS = 300


def build(run, *, members: int = MEMBERS, recognitions: int = RECOGNITIONS, ledger_rows: int = LEDGER_ROWS):
    """The big tenant; returns (tenant, manager, lead, platform admin, a department)."""
    from django.db import connection, transaction

    from bench.fixtures import bench_tenant, platform_admin
    from people.models import Profile, Team
    from recognition.models import CompanyValue
    from tenants.models import Role, Tenant, User
    from tenants.services import user_create
    from wallets.models import Reward

    redemptions = REDEMPTIONS * recognitions // RECOGNITIONS
    t0 = time.perf_counter()
    fixture = bench_tenant("insights", members=members, pool=10**9)
    tenant = Tenant.objects.get(pk=fixture.tenant_id)
    Tenant.objects.filter(pk=tenant.pk).update(timezone="Asia/Kolkata", point_value="0.25")
    manager = User.objects.get(pk=fixture.manager_id)
    admin = platform_admin()
    departments = [Team.objects.create(tenant=tenant, name=f"Department {d}") for d in range(DEPARTMENTS)]
    teams = [
        Team.objects.create(tenant=tenant, name=f"Team {d}.{t}", parent=department)
        for d, department in enumerate(departments)
        for t in range(TEAMS_PER_DEPARTMENT)
    ]
    lead = user_create(
        email="lead@insights.bench.test", full_name="Bench Lead", role=Role.TENANT_LEAD, password=None, tenant=tenant
    )
    Profile.objects.filter(user=lead).update(team=departments[0])
    for i, name in enumerate(VALUES):
        CompanyValue.objects.create(tenant=tenant, name=name, hashtag=name.lower().replace(" ", ""), position=i)
    for i in range(REWARDS):
        Reward.objects.create(tenant=tenant, name=f"Reward {i}", points_cost=100 + 50 * i)
    run.say(f"  insights: tenant, {members:,} members, teams, values, rewards in {time.perf_counter() - t0:.1f} s")

    params = {
        "tenant": tenant.pk,
        "manager": manager.pk,
        "n": recognitions,
        "days": DAYS,
        "redemptions": redemptions,
        "adjustments": max(ledger_rows - int(recognitions * 0.9) - redemptions - redemptions // 10 - members, 0),
        "teams": [t.pk for t in teams],
    }
    steps = [
        (
            "members into teams",
            """UPDATE profiles p SET team_id = (%(teams)s::uuid[])[1 + abs(hashtext(p.user_id::text)) %% 32]
               WHERE p.tenant_id = %(tenant)s AND p.team_id IS NULL""",
        ),
        (
            "members",
            """CREATE TEMP TABLE bench_members AS
               SELECT row_number() OVER (ORDER BY u.id) AS i, u.id AS user_id, w.id AS wallet_id
               FROM users u JOIN wallets w ON w.user_id = u.id WHERE u.tenant_id = %(tenant)s""",
        ),
        ("members index", "CREATE UNIQUE INDEX ON bench_members (i)"),
        ("members by user", "CREATE UNIQUE INDEX ON bench_members (user_id)"),
        (
            "recognitions",
            # 10 % kudos, 60 % paid by the pool, 30 % by lead budgets, spread evenly over the year;
            # the receiver is offset from the giver by 1 .. m-1, so never the giver.
            """INSERT INTO recognitions (id, tenant_id, giver_id, receiver_id, points, message, funding_source,
                   group_id, created_at)
               SELECT gen_random_uuid(), %(tenant)s, g.user_id, r.user_id,
                   CASE WHEN s %% 10 = 0 THEN 0 ELSE 10 * (1 + s %% 10) END, 'Bench recognition',
                   CASE WHEN s %% 10 = 0 THEN 'NONE' WHEN s %% 10 < 7 THEN 'POOL' ELSE 'LEAD_BUDGET' END,
                   gen_random_uuid(), now() - (%(days)s * random()) * interval '1 day'
               FROM generate_series(1::bigint, %(n)s) AS s
               CROSS JOIN (SELECT count(*) AS m FROM bench_members) c
               JOIN bench_members g ON g.i = 1 + (s * 7919) %% c.m
               JOIN bench_members r ON r.i = 1 + ((s * 7919) %% c.m + 1 + (s * 104729) %% (c.m - 1)) %% c.m""",
        ),
        (
            "values named",
            """INSERT INTO recognition_values (id, tenant_id, group_id, value_id)
               SELECT gen_random_uuid(), %(tenant)s, r.group_id, v.a[1 + abs(hashtext(r.group_id::text)) %% 6]
               FROM recognitions r
               CROSS JOIN (SELECT array_agg(id ORDER BY position) AS a FROM company_values
                           WHERE tenant_id = %(tenant)s) v
               WHERE r.tenant_id = %(tenant)s AND abs(hashtext(r.id::text)) %% 2 = 0""",
        ),
        (
            "redemptions",
            """INSERT INTO redemptions (id, tenant_id, user_id, reward_id, points_spent, status, voucher_code,
                   created_at, refunded_at, refunded_by_id)
               SELECT gen_random_uuid(), %(tenant)s, m.user_id, rw.ids[1 + s %% 8], rw.costs[1 + s %% 8],
                   CASE WHEN s %% 10 = 0 THEN 'REFUNDED' ELSE 'ISSUED' END,
                   replace(gen_random_uuid()::text, '-', ''), t.at,
                   CASE WHEN s %% 10 = 0 THEN t.at + interval '1 day' END,
                   CASE WHEN s %% 10 = 0 THEN %(manager)s::uuid END
               FROM generate_series(1::bigint, %(redemptions)s) AS s
               CROSS JOIN (SELECT count(*) AS m FROM bench_members) c
               CROSS JOIN (SELECT array_agg(id ORDER BY points_cost) AS ids,
                                  array_agg(points_cost ORDER BY points_cost) AS costs
                           FROM rewards WHERE tenant_id = %(tenant)s) rw
               JOIN bench_members m ON m.i = 1 + (s * 31) %% c.m
               CROSS JOIN LATERAL (SELECT now() - (%(days)s * random() + 0 * s) * interval '1 day' AS at) t""",
        ),
        (
            "voucher codes",
            """INSERT INTO voucher_codes (code, tenant_id, redemption_id)
               SELECT voucher_code, tenant_id, id FROM redemptions WHERE tenant_id = %(tenant)s
               ON CONFLICT (code) DO NOTHING""",
        ),
        (
            "ledger moves",
            """CREATE TEMP TABLE bench_moves AS
               SELECT m.wallet_id, now() - interval '400 days' AS created_at, 'CREDIT' AS entry_type,
                   'ADJUSTMENT' AS source, 100000000::bigint AS amount, NULL::uuid AS recognition_id,
                   NULL::uuid AS redemption_id
               FROM bench_members m
               UNION ALL
               SELECT m.wallet_id, r.created_at, 'CREDIT', 'RECOGNITION', r.points, r.id, NULL
               FROM recognitions r JOIN bench_members m ON m.user_id = r.receiver_id
               WHERE r.tenant_id = %(tenant)s AND r.points > 0
               UNION ALL
               SELECT m.wallet_id, d.created_at, 'DEBIT', 'REDEMPTION', d.points_spent, NULL, d.id
               FROM redemptions d JOIN bench_members m ON m.user_id = d.user_id WHERE d.tenant_id = %(tenant)s
               UNION ALL
               SELECT m.wallet_id, d.refunded_at, 'CREDIT', 'REFUND', d.points_spent, NULL, d.id
               FROM redemptions d JOIN bench_members m ON m.user_id = d.user_id
               WHERE d.tenant_id = %(tenant)s AND d.status = 'REFUNDED'
               UNION ALL
               SELECT m.wallet_id, now() - (%(days)s * random()) * interval '1 day',
                   CASE WHEN s %% 3 = 0 THEN 'DEBIT' ELSE 'CREDIT' END, 'ADJUSTMENT', 1 + s %% 50, NULL, NULL
               FROM generate_series(1::bigint, %(adjustments)s) AS s
               CROSS JOIN (SELECT count(*) AS m FROM bench_members) c
               JOIN bench_members m ON m.i = 1 + (s * 7) %% c.m""",
        ),
        (
            "ledger",
            """INSERT INTO wallet_ledger (id, tenant_id, wallet_id, entry_no, entry_type, source, amount,
                   balance_after, actor_id, recognition_id, redemption_id, note, created_at)
               SELECT gen_random_uuid(), %(tenant)s, wallet_id,
                   row_number() OVER w, entry_type, source, amount,
                   sum(CASE WHEN entry_type = 'CREDIT' THEN amount ELSE -amount END) OVER w,
                   NULL, recognition_id, redemption_id, '', created_at
               FROM bench_moves
               WINDOW w AS (PARTITION BY wallet_id ORDER BY created_at, source, amount
                            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)""",
        ),
        (
            "wallets",
            """UPDATE wallets w SET balance = t.balance, last_entry_no = t.n,
                   lifetime_earned = t.credits, lifetime_spent = t.credits - t.balance
               FROM (SELECT wallet_id, count(*) AS n,
                         sum(CASE WHEN entry_type = 'CREDIT' THEN amount ELSE -amount END) AS balance,
                         sum(CASE WHEN entry_type = 'CREDIT' THEN amount ELSE 0 END) AS credits
                     FROM bench_moves GROUP BY wallet_id) t
               WHERE w.id = t.wallet_id""",
        ),
        ("drop moves", "DROP TABLE bench_moves"),
        ("drop members", "DROP TABLE bench_members"),
    ]
    big = ["recognitions", "recognition_values", "redemptions", "wallet_ledger"]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        # Building an index once after the load is several times faster than maintaining it row by
        # row: the indexes that back no constraint are dropped and recreated from their own definitions.
        cursor.execute(
            """SELECT i.indexname, i.indexdef FROM pg_indexes i
               WHERE i.schemaname = 'public' AND i.tablename = ANY(%s)
                 AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""",
            [big],
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        # Fixture loading: the rows are consistent by construction, so the per-row foreign-key
        # triggers (tens of millions of lookups) are skipped for this transaction only.
        cursor.execute("SET LOCAL session_replication_role = replica")
        for label, sql in steps:
            t1 = time.perf_counter()
            cursor.execute(sql, params)
            run.say(f"  insights: {label}: {cursor.rowcount:,} rows in {time.perf_counter() - t1:.1f} s")
        t1 = time.perf_counter()
        for _, definition in indexes:
            cursor.execute(definition)
        run.say(f"  insights: {len(indexes)} indexes rebuilt in {time.perf_counter() - t1:.1f} s")
    t1 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    run.say(
        f"  insights: VACUUM ANALYZE in {time.perf_counter() - t1:.1f} s; built in {time.perf_counter() - t0:.0f} s"
    )
    return tenant, manager, lead, admin, departments[1]


def build_rollups(run, tenant) -> None:
    """The insights rollups of the year (insights.rollups: what the nightly job and the first reads
    would build), then ANALYZE on them as autovacuum would after the first inserts."""
    from django.db import connection

    from insights.rollups import refresh

    t0 = time.perf_counter()
    refresh(tenant, days=366)
    built = time.perf_counter() - t0
    with connection.cursor() as cursor:
        for table in (
            "insights_rollup_days",
            "insights_team_days",
            "insights_value_days",
            "insights_payroll_months",
            "insights_payroll_wallet_months",
            "insights_member_rollups",
            "insights_member_last",
        ):
            cursor.execute(f"ANALYZE {table}")
    run.timings.append(("insights rollups", built))
    run.figures["insights_rollups_build_s"] = round(built, 1)
    run.say(f"  insights: rollups of 366 days, 13 months and the members' last recognition built in {built:.1f} s")


def _page_client(user):
    """A signed-in session (the API takes it as well as a token; a GET needs no CSRF token)."""
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return client


def measure(run, tenant, manager, lead, admin, department) -> list[dict]:
    """Each view: p50 of 5 calls (after 1 warm-up) and its statement count on every call."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from insights.csvexport import TABLES

    today = dt.datetime.now(dt.UTC).date()
    last_month_end = today.replace(day=1) - dt.timedelta(days=1)
    month = {"from": last_month_end.replace(day=1).isoformat(), "to": last_month_end.isoformat()}
    api, lead_api, admin_api = _page_client(manager), _page_client(lead), _page_client(admin)
    page, console = _page_client(manager), _page_client(admin)
    tenant_q = {"tenant_id": str(tenant.pk)}
    views = [
        ("API insights, manager, last 30 days", api, "/api/v1/insights/", {}),
        ("API insights, manager, one department", api, "/api/v1/insights/", {"team": str(department.pk)}),
        ("API insights, lead (own department)", lead_api, "/api/v1/insights/", {}),
        ("API insights, platform admin", admin_api, "/api/v1/insights/", tenant_q),
        ("page /manage/insights/, manager", page, "/manage/insights/", {}),
        ("console insights page", console, "/admin/insights/", tenant_q),
        *((f"API CSV {slug}", api, f"/api/v1/insights/export/{slug}/", {}) for slug in TABLES),
        ("API payroll, one month", api, "/api/v1/insights/payroll/", month),
        ("page payroll, one month", page, "/manage/insights/payroll.csv", month),
        ("console payroll, one month", console, "/admin/insights/payroll.csv", {**tenant_q, **month}),
    ]
    results = []
    for label, client, path, params in views:
        times, counts, size = [], [], 0
        for i in range(1 + RUNS):
            with CaptureQueriesContext(connection) as queries:
                t0 = time.perf_counter()
                response = client.get(path, params)
                body = b"".join(response.streaming_content) if response.streaming else response.content
                elapsed = (time.perf_counter() - t0) * 1000
            assert response.status_code == 200, (label, response.status_code, body[:300])
            if i:
                times.append(elapsed)
                counts.append(len(queries))
                size = len(body)
        p50 = statistics.median(times)
        results.append({"view": label, "p50_ms": round(p50, 1), "statements": sorted(set(counts)), "bytes": size})
        flag = "" if p50 < BUDGET_MS and len(set(counts)) == 1 else "  <-- over budget or varying"
        run.say(f"  {label:<42} p50 {p50:7.1f} ms  statements {sorted(set(counts))}{flag}")
    return results


def existing():
    """The insights tenant a previous run built (for `--insights-reuse`)."""
    from bench.fixtures import platform_admin
    from people.models import Team
    from tenants.models import Role, Tenant, User

    tenant = Tenant.objects.get(slug="insights")
    manager = User.objects.get(tenant=tenant, role=Role.TENANT_MANAGER)
    lead = User.objects.get(email="lead@insights.bench.test")
    return tenant, manager, lead, platform_admin(), Team.objects.get(tenant=tenant, name="Department 1")


def phase_insights(run, *, scale: float = 1.0, reuse: bool = False):
    members, recognitions, ledger_rows = (int(n * scale) for n in (MEMBERS, RECOGNITIONS, LEDGER_ROWS))
    if reuse:
        import django

        django.setup()
    from django.conf import settings

    from recognition.models import Recognition
    from wallets.models import WalletLedger

    run.say(
        f"insights: building a tenant of {members:,} members, {recognitions:,} recognitions, "
        f"{ledger_rows:,} ledger rows …"
    )
    t0 = time.perf_counter()
    if reuse:
        tenant, manager, lead, admin, department = existing()
    else:
        tenant, manager, lead, admin, department = build(
            run, members=members, recognitions=recognitions, ledger_rows=ledger_rows
        )
    run.timings.append(("insights build", time.perf_counter() - t0))
    build_rollups(run, tenant)
    counts = {
        "recognitions": Recognition.objects.filter(tenant_id=tenant.pk).count(),
        "ledger_rows": WalletLedger.objects.filter(tenant_id=tenant.pk).count(),
    }
    run.say(f"  insights tenant: {counts['recognitions']:,} recognitions, {counts['ledger_rows']:,} ledger rows")
    debug = settings.DEBUG
    settings.DEBUG = True  # CaptureQueriesContext needs it to record the statements
    try:
        t0 = time.perf_counter()
        results = measure(run, tenant, manager, lead, admin, department)
        run.timings.append(("insights views", time.perf_counter() - t0))
    finally:
        settings.DEBUG = debug
    run.figures["insights"] = {"tenant": counts, "views": results}
    worst = max(r["p50_ms"] for r in results)
    run.figures["insights_worst_p50_ms"] = worst
    run.figures["insights_fixed_statements"] = all(len(r["statements"]) == 1 for r in results)
    return results
