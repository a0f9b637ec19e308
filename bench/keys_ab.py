"""The tenant keys against the one-column keys they replaced, on plain PostgreSQL (docs/PERFORMANCE.md).

Side `tenant` is the schema as migrated (perksu/backends/postgresql/schema.py): the tables an award
writes — `wallets`, `recognitions`, `wallet_ledger` — keyed `(tenant_id, id)` with a plain index on
`id`, and the foreign keys into them through the tenant. Side `id` is the same tables with Django's
keys: `PRIMARY KEY (id)`, no `id` index, one-column foreign keys. Between phases the bench database
is rewritten from one to the other (`use_keys`). First the client and server CPU of one award at a
time on each side (steadier than throughput on a shared machine); then the same N service processes
award as one manager from one tenant pool, A/B/B/A twice (bench/award_ab.py `alternate`).
Target: tenant ≥ 0.9 × id.
"""

from __future__ import annotations

import re

SIDES = ("tenant", "id")
TABLES = ("wallets", "recognitions", "wallet_ledger")


def use_keys(side: str) -> None:
    """Rewrite the keys of TABLES, and the foreign keys into them, to `side` (bench database only)."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT con.conrelid::regclass::text, con.conname, pg_get_constraintdef(con.oid)
              FROM pg_constraint con
             WHERE con.contype = 'f' AND con.confrelid::regclass::text = ANY(%s)
            """,
            [list(TABLES)],
        )
        foreign_keys = cursor.fetchall()
        for table, name, _ in foreign_keys:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for table in TABLES:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{table}_pkey"')
            index = f"{table}_by_id_bench"
            if side == "tenant":
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{table}_pkey" PRIMARY KEY (tenant_id, id)')
                cursor.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {table} (id)")
            else:
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{table}_pkey" PRIMARY KEY (id)')
                cursor.execute(
                    "SELECT indexname FROM pg_indexes"
                    " WHERE tablename = %s AND indexdef LIKE 'CREATE INDEX %%btree (id)'",
                    [table],
                )
                for (name,) in cursor.fetchall():
                    cursor.execute(f'DROP INDEX "{name}"')
        for table, name, definition in foreign_keys:
            definition = re.sub(r"\(tenant_id, ", "(", definition)
            if side == "tenant":
                definition = re.sub(r"^FOREIGN KEY \(", "FOREIGN KEY (tenant_id, ", definition)
                definition = re.sub(r"REFERENCES (\w+)\(", r"REFERENCES \1(tenant_id, ", definition)
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        cursor.execute(f"ANALYZE {', '.join(TABLES)}")


def phase_keys_ab(run, *, rounds: int = 2) -> None:
    from bench.award_ab import alternate
    from bench.fixtures import bench_tenant
    from bench.points import _analyze, cpu_per_award

    c = run.config
    t = bench_tenant("kab", members=c.recipients, pool=1_000_000_000)
    _analyze()
    cpu = {}
    for side in SIDES:
        use_keys(side)
        client_ms, server_ms, _ = cpu_per_award(t.manager_id, t.member_ids, calls=150 if c.quick else 500)
        cpu[side] = {"client": round(client_ms, 2), "server": server_ms and round(server_ms, 2)}
    run.figures["keys_ab_cpu_ms_per_award"] = cpu
    run.say(f"  one award at a time, CPU ms: {cpu}")
    run.say(
        f"keys A/B: {c.clients} processes, one manager, one pool, (tenant_id, id) keys against id keys on "
        f"{', '.join(TABLES)}, {rounds} × A/B/B/A of {c.duration} s each"
    )
    try:
        totals = alternate(
            run, "keys_ab", SIDES, use_keys, manager_id=t.manager_id, recipient_ids=t.member_ids, rounds=rounds
        )
    finally:
        use_keys("tenant")
    tenant, single = (totals[s][0] / totals[s][1] for s in SIDES)
    run.figures["keys_tenant_per_s"] = round(tenant, 1)
    run.figures["keys_id_per_s"] = round(single, 1)
    run.figures["keys_tenant_ratio"] = round(tenant / single, 3)
    run.figures["keys_errors"] = totals["tenant"][2] + totals["id"][2]
    run.say(f"  tenant keys {tenant:.0f}/s, id keys {single:.0f}/s: ratio {tenant / single:.3f} (target ≥ 0.9)")
