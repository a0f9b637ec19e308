"""How close the points engine runs to the database's limit.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/perksu .venv/bin/python bench/points.py [--quick] [--json]
        [--clients N]

Only the server of DATABASE_URL is used: the bench creates (drops and
recreates) its own databases, `perksu_bench` and `pgbench_bench`, so runs are
repeatable and nothing else is touched. Phases, each followed by the
overdraft count and `reconcile()`:

1. pgbench TPC-B-like, scale 1 (one hot branch row), N clients: the physical limit;
2. the award service from N processes against one tenant pool;
3. the award endpoint under gunicorn (2, 3 and 4 workers tried, the best kept), N client threads
   (raw sockets, requests encoded once; `--http-client stdlib` for `http.client`; both check every
   answer's status and body), with the CPU per award of the workers, their backends and the clients;
4. a distribution to 10,000 members, and the same effect as hand SQL on an identical tenant;
5. reconcile over ≥ 200,000 (--quick) / 1,000,000 ledger rows, and the minimal hand SQL;
6. insights (bench/insights.py): a tenant of 1,000,000 recognitions, 5,000,000 ledger rows and
   20,000 members, every insights view and the payroll export of one month, p50 of 5 calls
   (`--insights-only` runs this phase alone, after the migrations);
7. webhooks (bench/webhooks.py): one worker delivering 5,000 signed calls to a local receiver
   (`--webhooks-only` runs this phase alone, after the migrations);
8. a 50,000-row CSV member import: the dry run, the apply, and the same file again
   (each under 60 s), with the number of SQL statements of a 5,000-row and a
   50,000-row apply (it must not grow with the rows); `--import-only` runs it alone.
9. `--notifications-only`: the award service with notifications on against off, alternating, with a
   job worker running beside the "on" runs (bench/notifications.py).
10. allowance gifts (bench/allowances.py): N processes, each giving as its own employee from its own
   allowance, against the pool award of one manager, alternating twice on one tenant pool; the ratio
   (target ≥ 0.8); `--allowance-only` runs it alone, after the migrations.
11. `--award-ab` (bench/award_ab.py): the service award through the award function against the one
   statement it replaced (`AWARD_SQL`), the same N processes on one tenant pool, A/B/B/A twice, with
   the machine's load; the ratio (target ≥ 0.9). It runs alone, after the migrations.
12. `--keys-ab` (bench/keys_ab.py): the same service awards with the award's tables keyed
   `(tenant_id, id)` against Django's `id` keys, the bench database rewritten between phases,
   A/B/B/A twice; the ratio (target ≥ 0.9). It runs alone, after the migrations.

`--database NAME` names the bench database (default perksu_bench), so two runs on one
server do not drop each other's.

`--citus-workers postgres://user@host:port,…` (default: CITUS_WORKER_URLS) runs on a Citus
cluster whose coordinator is DATABASE_URL: the bench database is made on every worker too,
with the extension, the workers registered, and after the migrations the tables and the award
function distributed by tenant (perksu/citus.py), Citus' refusals printed. pgbench still runs
on the coordinator alone. With `--http-only` that is the award phases on Citus
(docs/SCALING.md).

docs/PERFORMANCE.md explains the method and records the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import socket
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.server import Server, pgbench_tps  # noqa: E402

BENCH_DB = "perksu_bench"
CITUS_WORKERS: list[str] = []
PGBENCH_DB = "pgbench_bench"
JSON_KEYS = (
    "pgbench_tps",
    "service_awards_per_s",
    "service_p50_ms",
    "service_p99_ms",
    "http_awards_per_s",
    "http_p50_ms",
    "http_p99_ms",
    "distribute_10k_s",
    "distribute_sql_baseline_s",
    "reconcile_s",
    "reconcile_sql_baseline_s",
    "overdrafts",
    "reconcile_clean",
    "insights_worst_p50_ms",
    "insights_fixed_statements",
    "webhook_calls_per_s",
    "import_50k_dry_run_s",
    "import_50k_apply_s",
    "import_50k_reapply_s",
    "import_statements_5k",
    "import_statements_50k",
    "alw_pool_awards_per_s",
    "allowance_gifts_per_s",
    "allowance_ratio",
)


@dataclass
class Config:
    quick: bool
    clients: int
    duration: int
    trial_duration: int
    ledger_rows: int
    http_client: str = "raw"
    members: int = 10_000
    recipients: int = 4_000


@dataclass
class Run:
    config: Config
    figures: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    checks: list[tuple[str, int, bool]] = field(default_factory=list)
    timings: list[tuple[str, float]] = field(default_factory=list)

    def say(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)


def django_environment(server: Server) -> None:
    """Production settings, pointed at the bench database, set before Django starts
    (and inherited by the worker processes and gunicorn)."""
    os.environ.update(
        DATABASE_URL=server.url(BENCH_DB),
        DJANGO_SETTINGS_MODULE="perksu.settings.production",
        SECRET_KEY=secrets.token_urlsafe(64),
        DEBUG="False",
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="False",
        # If the API throttles money POSTs, the bench measures the engine, not the throttle.
        MONEY_POST_RATE="1000000/second",
        LOG_LEVEL="WARNING",
    )


def check(run: Run, phase: str) -> None:
    """Overdrafts (negative balances of any kind) and reconcile() after a phase."""
    from django.db import connection

    from points.reconcile import reconcile

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT COUNT(*) FROM tenants WHERE points_allocation_balance < 0)"
            " + (SELECT COUNT(*) FROM lead_budgets WHERE balance < 0)"
            " + (SELECT COUNT(*) FROM wallets WHERE balance < 0)"
            ' + (SELECT COUNT(*) FROM allowance_usage WHERE given < 0 OR given > "limit")'
        )
        overdrafts = cursor.fetchone()[0]
    reports = reconcile()
    clean = all(r.ok for r in reports)
    for r in reports:
        if not r.ok:
            run.say(f"  reconcile after {phase}: {r.line()}")
    run.checks.append((phase, overdrafts, clean))
    run.say(f"  after {phase}: overdrafts {overdrafts}, reconcile {'clean' if clean else 'DRIFT'}")


def timed(run: Run, label: str):
    class _Timer:
        def __enter__(self):
            self.t0 = time.perf_counter()
            return self

        def __exit__(self, *exc):
            self.seconds = time.perf_counter() - self.t0
            run.timings.append((label, self.seconds))

    return _Timer()


def phase_pgbench(run: Run, server: Server) -> None:
    c = run.config
    run.say(f"pgbench: TPC-B-like, scale 1, {c.clients} clients, {c.duration} s, prepared …")
    with timed(run, "pgbench"):
        tps = pgbench_tps(server, dbname=PGBENCH_DB, clients=c.clients, duration=c.duration)
        run.figures["pgbench_tps"] = round(tps, 1)
    server.drop(PGBENCH_DB)


def phase_migrate(run: Run, server: Server) -> None:
    import django

    server.recreate(BENCH_DB)
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from perksu import citus

    if CITUS_WORKERS:
        with connection.cursor() as cursor:
            citus.prepare_cluster(cursor, BENCH_DB, (server.host, server.port), CITUS_WORKERS)
    with timed(run, "migrate"):
        call_command("migrate", verbosity=0)
    if CITUS_WORKERS:
        with timed(run, "citus distribute"), connection.cursor() as cursor:
            outcomes = citus.distribute(cursor)
        run.say(citus.report(outcomes))
        run.figures["citus_refused"] = sorted(o.table for o in outcomes if not o.ok)


def statements_per_award(manager_id, recipient_id) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.load import MESSAGE
    from recognition.services import recognition_create
    from tenants.models import User

    manager = User.objects.get(pk=manager_id)
    with CaptureQueriesContext(connection) as ctx:
        recognition_create(giver=manager, recipient_ids=[recipient_id], points=1, message=MESSAGE)
    return [q["sql"] for q in ctx.captured_queries]


def cpu_per_award(manager_id, recipient_ids, calls: int) -> tuple[float, float | None, float]:
    """Client and server CPU milliseconds per award, one call at a time, and the
    median time the pool row stays locked (from its UPDATE to the end of COMMIT).

    CPU time moves far less than throughput when other work shares the machine,
    so it says where an award's time goes even on a noisy run. The server side
    is read from /proc for the session's backend, when PostgreSQL runs here.
    The lock hold bounds one pool: at most 1000 / hold_ms awards per second.
    It is timed from the start of the statement that debits the pool to the end
    of its commit: when the debit is the last part of a larger statement (the
    award's, in autocommit), that is an upper bound.
    """
    import statistics

    from django.db import connection, transaction

    from bench.load import MESSAGE
    from recognition.services import recognition_create
    from tenants.models import User

    manager = User.objects.get(pk=manager_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        stat = Path(f"/proc/{cursor.fetchone()[0]}/stat")

    def backend_cpu() -> float | None:
        if not stat.exists():
            return None
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    server0, client0 = backend_cpu(), time.process_time()
    for i in range(calls):
        recognition_create(
            giver=manager, recipient_ids=[recipient_ids[i % len(recipient_ids)]], points=1, message=MESSAGE
        )
    client = (time.process_time() - client0) / calls * 1000
    server1 = backend_cpu()
    server = None if server0 is None or server1 is None else (server1 - server0) / calls * 1000

    holds: list[float] = []

    def pool_lock_timer(execute, sql, params, many, context):
        if "UPDATE tenants SET points_allocation_balance" not in sql and "perksu_award(" not in sql:
            return execute(sql, params, many, context)
        started = time.perf_counter()
        result = execute(sql, params, many, context)
        # At COMMIT; in autocommit the statement has committed and this runs now.
        transaction.on_commit(lambda: holds.append((time.perf_counter() - started) * 1000))
        return result

    with connection.execute_wrapper(pool_lock_timer):
        for i in range(min(calls, 200)):
            recipient = recipient_ids[(calls + i) % len(recipient_ids)]
            recognition_create(giver=manager, recipient_ids=[recipient], points=1, message=MESSAGE)
    return client, server, statistics.median(holds)


def phase_service(run: Run) -> None:
    from bench.fixtures import bench_tenant
    from bench.load import run_service

    c = run.config
    t = bench_tenant("svc", members=c.recipients, pool=1_000_000_000)
    _analyze()
    statements = statements_per_award(t.manager_id, t.member_ids[0])
    run.figures["statements_per_award"] = len(statements)
    client_ms, server_ms, hold_ms = cpu_per_award(t.manager_id, t.member_ids, calls=150 if c.quick else 500)
    run.figures["cpu_ms_per_award"] = {"client": round(client_ms, 2), "server": server_ms and round(server_ms, 2)}
    run.figures["pool_lock_hold_ms"] = round(hold_ms, 3)
    plural = "" if len(statements) == 1 else "s"
    run.say(
        f"service: {c.clients} processes × recognition_create for {c.duration} s ({len(statements)} statement{plural})"
    )
    with timed(run, "service"):
        result = run_service(
            manager_id=t.manager_id, recipient_ids=t.member_ids, workers=c.clients, duration=c.duration
        )
    record_load(run, "service", result)
    check(run, "service")


def record_load(run: Run, prefix: str, result) -> None:
    run.figures[f"{prefix}_awards_per_s"] = round(result.per_second, 1)
    run.figures[f"{prefix}_p50_ms"] = round(result.percentile(50), 2)
    run.figures[f"{prefix}_p99_ms"] = round(result.percentile(99), 2)
    run.figures[f"{prefix}_errors"] = result.errors
    if result.errors:
        run.notes.append(f"{prefix}: {result.errors} failed calls, first: {result.first_error}")
    run.say(
        f"  {result.calls} awards in {result.seconds:.1f} s = {result.per_second:.0f}/s, "
        f"p50 {result.percentile(50):.1f} ms, p99 {result.percentile(99):.1f} ms, errors {result.errors}"
    )


def award_endpoint_exists() -> bool:
    from django.urls import Resolver404, resolve

    from bench.load import AWARD_PATH

    try:
        match = resolve(AWARD_PATH)
    except Resolver404:
        return False
    return match.url_name != "api-not-found" and "not_found" not in getattr(match.func, "__name__", "")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def phase_http(run: Run) -> None:
    from bench.fixtures import PASSWORD, bench_tenant
    from bench.load import Gunicorn, api_token, run_http

    c = run.config
    if not award_endpoint_exists():
        run.notes.append("http: POST /api/v1/points/award-to-user is not routed in this checkout; phase skipped")
        run.say("http: the award endpoint is not there yet; skipped")
        return
    t = bench_tenant("http", members=c.recipients, pool=1_000_000_000, manager_password=PASSWORD)
    _analyze()
    port = free_port()
    trials = {}

    def load(duration: float):
        return run_http(
            port=port,
            token=token,
            recipient_ids=t.member_ids,
            clients=c.clients,
            duration=duration,
            client=c.http_client,
        )

    for workers in (2, 3, 4):
        with Gunicorn(workers=workers, port=port) as _:
            token = api_token(port, t.manager_email, PASSWORD)
            load(1)  # warm-up
            result = load(c.trial_duration)
        trials[workers] = result
        run.say(
            f"http trial: {workers} sync workers: {result.per_second:.0f}/s, p99 {result.percentile(99):.1f} ms, "
            f"errors {result.errors}"
        )
    best = max(trials, key=lambda w: (trials[w].errors == 0, trials[w].per_second))
    run.figures["http_workers"] = best
    run.figures["http_trials"] = {w: round(r.per_second, 1) for w, r in trials.items()}
    run.figures["http_client"] = c.http_client
    run.say(f"http: {best} gunicorn workers, {c.clients} {c.http_client} clients, {c.duration} s …")
    with Gunicorn(workers=best, port=port) as server, timed(run, "http"):
        token = api_token(port, t.manager_email, PASSWORD)
        load(1)
        cpu0, db0 = server.workers_cpu_seconds(), backends_cpu_seconds()
        result = load(c.duration)
        cpu, db = server.workers_cpu_seconds() - cpu0, backends_cpu_seconds(since=db0)
    if result.calls:
        answered = result.calls + result.errors
        # Where an award's CPU went: the gunicorn workers, their PostgreSQL backends, the bench's clients.
        run.figures["http_worker_cpu_ms_per_award"] = round(cpu / answered * 1000, 2)
        if db is not None:
            run.figures["http_db_cpu_ms_per_award"] = round(db / answered * 1000, 2)
        run.figures["http_client_cpu_ms_per_award"] = round(result.client_cpu_s / answered * 1000, 2)
        run.say(
            f"  CPU ms per award: workers {run.figures['http_worker_cpu_ms_per_award']}, "
            f"their backends {run.figures.get('http_db_cpu_ms_per_award')}, "
            f"clients {run.figures['http_client_cpu_ms_per_award']}"
        )
    record_load(run, "http", result)
    check(run, "http")


def backends_cpu_seconds(since: dict | None = None):
    """CPU seconds of the bench database's other client backends (the gunicorn workers'
    connections), from /proc when PostgreSQL runs on this machine: a dict by pid, or with
    `since` (an earlier reading) the seconds used since then; None when /proc has not got them."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
        )
        pids = [pid for (pid,) in cursor.fetchall()]
    now = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        now[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    if since is None:
        return now
    if not now:
        return None
    return sum(seconds - since.get(pid, 0.0) for pid, seconds in now.items())


def phase_distribute(run: Run) -> tuple:
    from django.utils import timezone

    from bench.baselines import distribute_sql
    from bench.fixtures import bench_tenant
    from recognition.services import recognition_distribute
    from tenants.models import User

    c = run.config
    pool = 1_000_000_000 * 3
    with timed(run, "distribute fixtures"):
        svc = bench_tenant("dist-a", members=c.members, pool=pool)
        sql = bench_tenant("dist-b", members=c.members, pool=pool)
    _analyze()
    run.say(f"distribute: {c.members:,} members through the service, then as hand SQL on an identical tenant …")
    manager = User.objects.get(pk=svc.manager_id)
    t0 = time.perf_counter()
    result = recognition_distribute(giver=manager, amount_per_user=10, message="Bench distribution")
    run.figures["distribute_10k_s"] = round(time.perf_counter() - t0, 3)
    t0 = time.perf_counter()
    recipients = distribute_sql(
        tenant_id=sql.tenant_id,
        giver_id=sql.manager_id,
        amount=10,
        message="Bench distribution",
        group_id=uuid.uuid4(),
        now=timezone.now(),
    )
    run.figures["distribute_sql_baseline_s"] = round(time.perf_counter() - t0, 3)
    if not result.recipients == recipients == c.members:
        run.notes.append(f"distribute: service paid {result.recipients}, SQL {recipients}, expected {c.members}")
    run.say(
        f"  service {run.figures['distribute_10k_s']:.3f} s, SQL {run.figures['distribute_sql_baseline_s']:.3f} s "
        f"({result.recipients:,} and {recipients:,} recipients)"
    )
    check(run, "distribute")
    return svc, sql


def import_csv(rows: int, domain: str, boss_email: str) -> bytes:
    """A member file as HR would export it: teams, titles, managers (every 50 rows report to
    one of the first 1,000), hire dates and birthdays."""
    lines = ["email,full_name,role,title,team,manager_email,hire_date,birthday,active"]
    for i in range(rows):
        manager = boss_email if i < 1_000 else f"m{i % 1_000}@{domain}"
        role = "tenant_lead" if i < 1_000 and i % 10 == 0 else "employee"
        lines.append(
            f"m{i}@{domain},Member {i},{role},Title {i % 40},Team {i % 120},{manager},"
            f"20{10 + i % 15:02d}-{i % 12 + 1:02d}-{i % 28 + 1:02d},{i % 12 + 1:02d}-{i % 28 + 1:02d},true"
        )
    return ("\n".join(lines) + "\n").encode()


def phase_import(run: Run) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.fixtures import bench_tenant
    from people.imports import members_import
    from tenants.models import Tenant, User

    rows = 50_000

    def prepare(tenant_slug: str, count: int):
        fixture = bench_tenant(tenant_slug, members=0, pool=0)
        boss = User.objects.get(pk=fixture.manager_id)
        data = import_csv(count, f"{tenant_slug}.test", boss.email)
        tenant = Tenant.objects.get(pk=fixture.tenant_id)
        return boss, tenant, data

    def once(boss, tenant, data, *, dry_run: bool):
        with CaptureQueriesContext(connection) as ctx:
            t0 = time.perf_counter()
            result = members_import(tenant=tenant, actor=boss, data=data, dry_run=dry_run)
            seconds = time.perf_counter() - t0
        if result.errors:
            run.notes.append(f"import: {len(result.errors)} errors, first {result.errors[0]}")
        return result, seconds, len(ctx.captured_queries)

    run.say(f"import: a {rows:,}-row member CSV, dry run, apply, the same file again …")
    small = prepare("imp-small", 5_000)
    _, _, run.figures["import_statements_5k"] = once(*small, dry_run=False)
    boss, tenant, data = prepare("imp-big", rows)
    dry, run.figures["import_50k_dry_run_s"], _ = once(boss, tenant, data, dry_run=True)
    applied, run.figures["import_50k_apply_s"], run.figures["import_statements_50k"] = once(
        boss, tenant, data, dry_run=False
    )
    again, run.figures["import_50k_reapply_s"], _ = once(boss, tenant, data, dry_run=False)
    for key in ("import_50k_dry_run_s", "import_50k_apply_s", "import_50k_reapply_s"):
        run.figures[key] = round(run.figures[key], 2)
    if not (dry.created == applied.created == rows and again.unchanged == rows and again.created == 0):
        run.notes.append(
            f"import: dry run {dry.created} created, apply {applied.created}, again {again.unchanged} unchanged"
        )
    run.say(
        f"  dry run {run.figures['import_50k_dry_run_s']} s, apply {run.figures['import_50k_apply_s']} s, "
        f"again {run.figures['import_50k_reapply_s']} s; statements 5k {run.figures['import_statements_5k']}, "
        f"50k {run.figures['import_statements_50k']}"
    )
    check(run, "import")


def _analyze() -> None:
    """Statistics for the fixtures just loaded, as `pgbench -i` vacuums and analyzes its
    tables before its run: a production database has them (autovacuum)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def ledger_rows() -> int:
    from wallets.models import WalletLedger

    return WalletLedger.objects.count()


def phase_reconcile(run: Run, tenants: tuple) -> None:
    from django.db import connection

    from bench.baselines import reconcile_sql
    from points.reconcile import reconcile
    from recognition.services import recognition_distribute
    from tenants.models import User

    c = run.config
    managers = [User.objects.get(pk=t.manager_id) for t in tenants]
    rows = ledger_rows()
    run.say(f"reconcile: growing the ledger from {rows:,} to {c.ledger_rows:,} rows with distributions …")
    with timed(run, "ledger growth"):
        i = 0
        while rows < c.ledger_rows:
            result = recognition_distribute(giver=managers[i % 2], amount_per_user=1, message="Bench ledger growth")
            rows += result.recipients
            i += 1
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    run.figures["ledger_rows"] = ledger_rows()
    best_product, best_sql = float("inf"), float("inf")
    for _ in range(2):
        t0 = time.perf_counter()
        reports = reconcile()
        best_product = min(best_product, time.perf_counter() - t0)
        t0 = time.perf_counter()
        baseline = reconcile_sql()
        best_sql = min(best_sql, time.perf_counter() - t0)
    run.figures["reconcile_s"] = round(best_product, 3)
    run.figures["reconcile_sql_baseline_s"] = round(best_sql, 3)
    agree = all(
        r.ok == (baseline[r.tenant_id]["drifts"] == 0)
        and r.figures["wallets"] == baseline[r.tenant_id]["wallets"]
        and r.figures["pool"] == baseline[r.tenant_id]["pool"]
        for r in reports
    )
    if not agree:
        run.notes.append("reconcile: the product and the SQL baseline disagree on a tenant's figures")
    run.say(
        f"  {run.figures['ledger_rows']:,} ledger rows: reconcile() {best_product:.3f} s, "
        f"SQL {best_sql:.3f} s (best of 2; the two agree: {agree})"
    )
    check(run, "reconcile")


def ratio(a, b) -> str:
    return f"{a / b:.2f}" if a is not None and b else "—"


def table(run: Run) -> str:
    f = run.figures
    pg = f.get("pgbench_tps")
    rows = [
        ("pgbench TPC-B tps (baseline)", f.get("pgbench_tps"), "", ""),
        ("service awards/s", f.get("service_awards_per_s"), ratio(f.get("service_awards_per_s"), pg), "≥ 0.35"),
        ("service p50 / p99 ms", f"{f.get('service_p50_ms')} / {f.get('service_p99_ms')}", "", ""),
        ("allowance gifts/s : pool awards/s", f"{f.get('allowance_gifts_per_s')} : {f.get('alw_pool_awards_per_s')}",
         f.get("allowance_ratio"), "≥ 0.8"),
        ("http awards/s", f.get("http_awards_per_s"), ratio(f.get("http_awards_per_s"), pg), "≥ 0.15"),
        ("http p50 / p99 ms", f"{f.get('http_p50_ms')} / {f.get('http_p99_ms')}", "", "p99 ≤ 50"),
        ("distribute 10k s / SQL", f"{f.get('distribute_10k_s')} / {f.get('distribute_sql_baseline_s')}",
         ratio(f.get("distribute_10k_s"), f.get("distribute_sql_baseline_s")), "≤ 2"),
        (f"reconcile s / SQL ({f.get('ledger_rows', 0):,} rows)",
         f"{f.get('reconcile_s')} / {f.get('reconcile_sql_baseline_s')}",
         ratio(f.get("reconcile_s"), f.get("reconcile_sql_baseline_s")), "≤ 2"),
        ("import 50k dry run / apply / again s",
         f"{f.get('import_50k_dry_run_s')} / {f.get('import_50k_apply_s')} / {f.get('import_50k_reapply_s')}",
         "", "each < 60"),
        ("import statements 5k / 50k rows", f"{f.get('import_statements_5k')} / {f.get('import_statements_50k')}",
         "", "equal"),
        ("overdrafts (max after any phase)", f.get("overdrafts"), "", "0"),
        ("reconcile clean after every phase", f.get("reconcile_clean"), "", "True"),
    ]  # fmt: skip
    width = max(len(r[0]) for r in rows)
    lines = [f"{'figure':<{width}}  {'value':>22}  {'ratio':>6}  target", "-" * (width + 46)]
    lines += [f"{name:<{width}}  {value!s:>22}  {r:>6}  {target}" for name, value, r, target in rows]
    keys = (
        "statements_per_award",
        "cpu_ms_per_award",
        "pool_lock_hold_ms",
        "http_workers",
        "http_trials",
        "http_worker_cpu_ms_per_award",
    )
    extra = {k: f[k] for k in keys if k in f}
    if extra:
        lines.append("details: " + ", ".join(f"{k} {v}" for k, v in extra.items()))
    lines.append("phase times: " + ", ".join(f"{label} {s:.1f} s" for label, s in run.timings))
    lines += [f"note: {n}" for n in run.notes]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    global BENCH_DB, CITUS_WORKERS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="10 s load phases and 200,000 ledger rows (about 1½ minutes on 2 idle cores)",
    )
    parser.add_argument("--json", action="store_true", help="end with one line of JSON")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients / workers (default 8)")
    parser.add_argument(
        "--http-client",
        choices=("raw", "stdlib"),
        default="raw",
        help="the HTTP phase's client threads: raw sockets with pre-encoded requests (default) or http.client; "
        "both check every answer's status and body",
    )
    parser.add_argument("--insights-only", action="store_true", help="only the migrations and the insights phase")
    parser.add_argument("--webhooks-only", action="store_true", help="only the migrations and the webhooks phase")
    parser.add_argument("--import-only", action="store_true", help="only the migrations and the CSV import phase")
    parser.add_argument(
        "--http-only",
        action="store_true",
        help="only pgbench, the migrations and the award phases (service and HTTP): the app tier's A/B",
    )
    parser.add_argument(
        "--allowance-only",
        action="store_true",
        help="only the migrations and allowance gifts against pool awards (bench/allowances.py)",
    )
    parser.add_argument("--database", default=BENCH_DB, help=f"the bench database (default {BENCH_DB})")
    parser.add_argument(
        "--citus-workers",
        default=os.environ.get("CITUS_WORKER_URLS", ""),
        help="comma-separated postgres://user@host:port of Citus workers; DATABASE_URL is the coordinator",
    )
    parser.add_argument(
        "--insights-reuse", action="store_true", help="with --insights-only: time the tenant a previous run built"
    )
    parser.add_argument(
        "--notifications-only",
        action="store_true",
        help="only the migrations and award throughput with notifications on against off (bench/notifications.py)",
    )
    parser.add_argument(
        "--award-ab",
        action="store_true",
        help="only the migrations and the award function against the one-statement award (bench/award_ab.py)",
    )
    parser.add_argument(
        "--keys-ab",
        action="store_true",
        help="only the migrations and (tenant_id, id) keys against id keys on the award's tables (bench/keys_ab.py)",
    )
    parser.add_argument(
        "--insights-scale", type=float, default=1.0, help="scale the insights tenant (0.01 for a trial of the SQL)"
    )
    args = parser.parse_args(argv)
    BENCH_DB = args.database
    from perksu.citus import worker_urls

    CITUS_WORKERS = worker_urls(args.citus_workers)
    server = Server.from_url(os.environ.get("DATABASE_URL", ""))
    config = Config(
        quick=args.quick,
        clients=args.clients,
        duration=10 if args.quick else 30,
        trial_duration=3 if args.quick else 10,
        ledger_rows=200_000 if args.quick else 1_000_000,
        http_client=args.http_client,
    )
    run = Run(config)
    started = time.perf_counter()
    django_environment(server)
    db = server.settings()
    run.say(
        f"Perksu points bench on {platform.node()} ({os.cpu_count()} cores), PostgreSQL {db['server_version']} "
        f"(shared_buffers {db['shared_buffers']}, synchronous_commit {db['synchronous_commit']}), "
        f"{config.clients} clients, {'quick' if config.quick else 'full'} run"
    )
    if args.notifications_only:
        from bench.notifications import phase_notifications

        phase_migrate(run, server)
        phase_notifications(run)
        check(run, "notifications")
        keys = (
            "awards_per_s_notifications_off",
            "awards_per_s_notifications_on",
            "awards_per_s_notifications_on_worker_beside",
            "notifications_ratio",
            "notifications_ratio_worker_beside",
        )
        print(json.dumps({k: run.figures.get(k) for k in (*keys, "events_recorded", "notices_written")}))
        return 0 if all(c for _, _, c in run.checks) else 1
    if args.award_ab or args.keys_ab:
        from bench.award_ab import phase_award_ab, uptime
        from bench.keys_ab import phase_keys_ab

        run.say(f"uptime before: {uptime()}")
        phase_migrate(run, server)
        (phase_award_ab if args.award_ab else phase_keys_ab)(run)
        check(run, "award A/B" if args.award_ab else "keys A/B")
        run.say(f"uptime after: {uptime()}")
        run.timings.append(("total", time.perf_counter() - started))
        keys = [k for k in run.figures if k.startswith("award_" if args.award_ab else "keys_")]
        overdrafts = max(o for _, o, _ in run.checks)
        clean = all(ok for _, _, ok in run.checks)
        print(json.dumps({**{k: run.figures[k] for k in keys}, "overdrafts": overdrafts, "reconcile_clean": clean}))
        return 0 if clean and overdrafts == 0 else 1
    if args.insights_only:
        from bench.insights import phase_insights

        if not args.insights_reuse:
            phase_migrate(run, server)
        phase_insights(run, scale=args.insights_scale, reuse=args.insights_reuse)
        run.timings.append(("total", time.perf_counter() - started))
        print(json.dumps(run.figures["insights"], indent=1))
        print(json.dumps({k: run.figures.get(k) for k in JSON_KEYS if k.startswith("insights")}))
        return 0 if run.figures["insights_fixed_statements"] else 1
    if args.webhooks_only:
        from bench.webhooks import phase_webhooks

        phase_migrate(run, server)
        phase_webhooks(run)
        print(json.dumps({k: v for k, v in run.figures.items() if k.startswith("webhook")}))
        return 0 if run.figures["webhook_succeeded"] == run.figures["webhook_calls"] else 1
    if args.allowance_only:
        from bench.allowances import phase_allowance

        phase_migrate(run, server)
        phase_allowance(run)
        check(run, "allowance")
        run.timings.append(("total", time.perf_counter() - started))
        keys = (
            "alw_pool_awards_per_s",
            "allowance_gifts_per_s",
            "allowance_ratio",
            "alw_pool_errors",
            "allowance_errors",
            "allowance_rounds",
            "statements_per_pool_award",
            "statements_per_allowance_gift",
            "statements_per_allowance_gift_first",
            "allowance_cpu_ms_per_call",
            "allowance_pool_lock_hold_ms",
            "allowance_gifts_written",
            "allowance_given_total",
        )
        overdrafts = max(o for _, o, _ in run.checks)
        clean = all(ok for _, _, ok in run.checks)
        print(json.dumps({**{k: run.figures.get(k) for k in keys}, "overdrafts": overdrafts, "reconcile_clean": clean}))
        return 0 if clean and overdrafts == 0 else 1
    if args.import_only:
        phase_migrate(run, server)
        phase_import(run)
        run.timings.append(("total", time.perf_counter() - started))
        print(json.dumps({k: run.figures.get(k) for k in JSON_KEYS if k.startswith("import")}))
        return 0 if all(ok for _, _, ok in run.checks) else 1
    phase_pgbench(run, server)
    phase_migrate(run, server)
    check(run, "migrate")
    phase_service(run)
    if not args.http_only:
        from bench.allowances import phase_allowance

        phase_allowance(run)
        check(run, "allowance")
    phase_http(run)
    if args.http_only:
        run.timings.append(("total", time.perf_counter() - started))
        keys = ("pgbench_tps", "service_awards_per_s", "http_awards_per_s", "http_p50_ms", "http_p99_ms")
        extra = ("http_workers", "http_worker_cpu_ms_per_award", "http_db_cpu_ms_per_award")
        extra += ("http_client_cpu_ms_per_award", "http_client", "statements_per_award", "cpu_ms_per_award")
        extra += ("pool_lock_hold_ms", "service_p50_ms", "service_p99_ms")
        if CITUS_WORKERS:
            extra += ("citus_refused",)
        checks = {"overdrafts": max(o for _, o, _ in run.checks), "reconcile_clean": all(c for _, _, c in run.checks)}
        print(json.dumps({**{k: run.figures.get(k) for k in (*keys, *extra)}, **checks}))
        return 0 if all(ok for _, _, ok in run.checks) else 1
    tenants = phase_distribute(run)
    phase_reconcile(run, tenants)
    from bench.insights import phase_insights

    phase_insights(run, scale=args.insights_scale)
    from bench.webhooks import phase_webhooks

    phase_webhooks(run)
    phase_import(run)

    run.figures["overdrafts"] = max(o for _, o, _ in run.checks)
    run.figures["reconcile_clean"] = all(c for _, _, c in run.checks)
    run.timings.append(("total", time.perf_counter() - started))
    print(table(run))
    if args.json:
        print(json.dumps({k: run.figures.get(k) for k in JSON_KEYS}))
    return 0 if run.figures["reconcile_clean"] and run.figures["overdrafts"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
