"""Putting Perksu's database on a Citus cluster (docs/SCALING.md, "Running on Citus").

Citus creates no database on its workers and keeps its node list per database, so a new
database needs, on every node, the database itself and `CREATE EXTENSION citus`, then, on the
coordinator, the workers registered and the tables distributed:

- `tenants` by `id`;
- every table with a `tenant_id` column (a tenant-owned model) by `tenant_id`, co-located with
  `tenants`, so one tenant's rows of every table live in shards on the same worker;
- the small global tables in `REFERENCE_TABLES` as reference tables (a copy on every node);
- anything else stays a plain table on the coordinator.

`distribute()` tries every table and returns what Citus answered for each, refusals included,
so what is not distributable yet is reported with Citus' own message instead of hidden. The
test suite (conftest.py, `CITUS_WORKER_URLS`) and `bench/points.py --citus-workers` use it.
Nothing here runs unless asked: plain PostgreSQL and SQLite never import psycopg through it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from urllib.parse import urlsplit

TENANTS = "tenants"
# Global tables small enough to copy to every node; a distributed table may reference them.
REFERENCE_TABLES = (
    "django_content_type",
    "auth_permission",
    "auth_group",
    "auth_group_permissions",
    # Keys unique across tenants, each row naming its tenant in a plain column (no foreign key).
    "tenant_slugs",
    "voucher_codes",
    "token_keys",
    "user_emails",
)
# Functions run whole on the worker of the tenant named by one argument (function name →
# argument), when the database has them: Citus sends a call in autocommit to that worker in one
# round trip instead of planning each statement inside it on the coordinator. A function named
# with None has no tenant argument: it is created on every node, for the functions above to call
# there (the award's refusal, `perksu_award_not_paid()`).
DISTRIBUTED_FUNCTIONS = {"perksu_award_not_paid": None, "perksu_award": "tenant"}
# Shards per distributed table. Citus' default is 32; a handful per worker routes the same way
# and keeps a TRUNCATE of the whole schema (between transactional tests) affordable.
DEFAULT_SHARD_COUNT = 4


@dataclass
class Outcome:
    table: str
    kind: str  # "distributed", "reference", "local", "foreign key" or "function"
    ok: bool
    detail: str = ""

    def line(self) -> str:
        state = "ok" if self.ok else "REFUSED"
        return f"{self.table:<34} {self.kind:<11} {state}{': ' + self.detail if self.detail else ''}"


_last_outcomes: list[Outcome] = []


def distribute_outcomes() -> list[Outcome]:
    """What the last distribute() in this process got from Citus, table by table."""
    return list(_last_outcomes)


def worker_urls(value: str | None = None) -> list[str]:
    """`CITUS_WORKER_URLS`: comma-separated `postgres://user@host:port` of the workers, as the
    coordinator reaches them (the database name, if any, is ignored: the database is the one
    being set up)."""
    raw = os.environ.get("CITUS_WORKER_URLS", "") if value is None else value
    return [u.strip() for u in raw.split(",") if u.strip()]


def _parts(url: str) -> tuple[str, int, str]:
    p = urlsplit(url)
    return p.hostname or "127.0.0.1", p.port or 5432, p.username or "postgres"


def _admin(url: str, dbname: str):
    import psycopg

    host, port, user = _parts(url)
    password = urlsplit(url).password
    return psycopg.connect(host=host, port=port, user=user, password=password, dbname=dbname, autocommit=True)


def create_on_worker(url: str, dbname: str) -> None:
    """(Re)create `dbname` on one worker with the citus extension in it."""
    from psycopg import sql

    with _admin(url, "postgres") as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    with _admin(url, dbname) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS citus")


def drop_on_worker(url: str, dbname: str) -> None:
    from psycopg import sql

    with _admin(url, "postgres") as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname)))


def prepare_cluster(cursor, dbname: str, coordinator: tuple[str, int], workers: list[str]) -> None:
    """On the coordinator's database `dbname` (cursor): the extension, the coordinator's own
    address and the workers, each worker's `dbname` created first."""
    for url in workers:
        create_on_worker(url, dbname)
    cursor.execute("CREATE EXTENSION IF NOT EXISTS citus")
    cursor.execute("SELECT citus_set_coordinator_host(%s, %s)", list(coordinator))
    for url in workers:
        host, port, _ = _parts(url)
        cursor.execute("SELECT citus_add_node(%s, %s)", [host, port])


def _tables(cursor) -> dict[str, bool]:
    """Every ordinary table of the public schema → whether it has a tenant_id column."""
    cursor.execute(
        """
        SELECT c.relname, bool_or(a.attname = 'tenant_id')
        FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace
        GROUP BY c.relname
        """
    )
    return dict(cursor.fetchall())


def _references(cursor) -> dict[str, set[str]]:
    """Table → the tables its foreign keys point at (itself excluded)."""
    cursor.execute(
        """
        SELECT c.conrelid::regclass::text, c.confrelid::regclass::text
        FROM pg_constraint c
        WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace AND c.conrelid <> c.confrelid
        """
    )
    refs: dict[str, set[str]] = {}
    for table, target in cursor.fetchall():
        refs.setdefault(table.strip('"'), set()).add(target.strip('"'))
    return refs


def _foreign_keys(cursor) -> list[tuple[str, str, str]]:
    """(table, constraint, definition) of every foreign key of the public schema."""
    cursor.execute(
        """
        SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
        FROM pg_constraint c
        WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
        ORDER BY 1, 2
        """
    )
    return [(table.strip('"'), name, definition) for table, name, definition in cursor.fetchall()]


def _unique_without(cursor, table: str, column: str) -> list[str]:
    """The primary key, unique constraints and unique indexes of `table` without `column`:
    what Citus means by "cannot create constraint", which it does not name."""
    cursor.execute(
        """
        SELECT i.indexrelid::regclass::text
        FROM pg_index i
        WHERE i.indrelid = %s::regclass AND i.indisunique
          AND NOT EXISTS (
            SELECT 1 FROM pg_attribute a
            WHERE a.attrelid = i.indrelid AND a.attname = %s AND a.attnum = ANY (i.indkey)
          )
        ORDER BY 1
        """,
        [table, column],
    )
    return [row[0] for row in cursor.fetchall()]


def plan(cursor) -> list[tuple[str, str]]:
    """(table, kind) in the order Citus needs: `tenants`, the tenant-owned tables, then the
    reference tables, each after the tables it references; then the ones that stay local."""
    tables = _tables(cursor)
    refs = _references(cursor)
    kinds = {}
    for name, has_tenant in tables.items():
        if name in REFERENCE_TABLES:
            kinds[name] = "reference"
        elif name == TENANTS or has_tenant:
            kinds[name] = "distributed"
        else:
            kinds[name] = "local"
    rank = {"reference": 0, "distributed": 1, "local": 2}
    ordered: list[tuple[str, str]] = []
    done: set[str] = set()

    def visit(name: str, trail: frozenset = frozenset()) -> None:
        if name in done or name in trail or name not in kinds:
            return
        for target in sorted(refs.get(name, ())):
            if rank[kinds.get(target, "local")] <= rank[kinds[name]]:
                visit(target, trail | {name})
        done.add(name)
        ordered.append((name, kinds[name]))

    # Distributed tables first: a reference table made while they are still plain would turn
    # every table linked to it by a foreign key into a "Citus local table" on the coordinator,
    # which cannot be distributed afterwards if it has an identity column. A distributed table
    # that references a reference table still gets it first (visit()).
    for kind in ("distributed", "reference", "local"):
        for name in sorted(t for t, k in kinds.items() if k == kind and t != TENANTS):
            if kind == "distributed" and TENANTS in kinds:
                visit(TENANTS)
            visit(name)
    return ordered


def distribute(cursor, shard_count: int | None = None) -> list[Outcome]:
    """Distribute every table by plan(); a refusal is recorded with Citus' message and the
    table stays local. Runs in autocommit: one table's refusal does not undo the others."""
    count = shard_count or int(os.environ.get("CITUS_SHARD_COUNT", DEFAULT_SHARD_COUNT))
    cursor.execute(f"SET citus.shard_count = {int(count)}")
    # The append-only ledgers keep their triggers; Citus creates them on every shard.
    cursor.execute("SET citus.enable_unsafe_triggers = on")
    # Reference tables and the foreign keys they take make Citus convert whole foreign-key graphs
    # at once; one statement at a time, in sequence, it can.
    cursor.execute("SET citus.multi_shard_modify_mode TO 'sequential'")
    ordered = plan(cursor)
    # The foreign keys are taken off first and put back one by one once every table is placed:
    # each table is then judged by its own keys, and each foreign key by itself, with Citus'
    # own answer (a refused one stays off and is reported), instead of one refusal cascading
    # through every table linked to it.
    foreign_keys = _foreign_keys(cursor)
    for table, name, _ in foreign_keys:
        cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
    outcomes = []
    colocation = TENANTS
    for table, kind in ordered:
        if kind == "local":
            outcomes.append(Outcome(table, kind, True, "stays on the coordinator"))
            continue
        if kind == "reference":
            statement, params = "SELECT create_reference_table(%s)", [table]
        elif table == TENANTS:
            statement, params = "SELECT create_distributed_table(%s, 'id')", [table]
        else:
            # With `tenants` refused, the others are still tried (co-located among themselves),
            # so each reports its own refusal rather than the missing co-location target.
            statement = "SELECT create_distributed_table(%s, 'tenant_id', colocate_with => %s)"
            params = [table, colocation]
        try:
            cursor.execute(statement, params)
        except Exception as exc:  # Citus' refusal is the result, recorded word for word
            message = " / ".join(line.strip() for line in str(exc).strip().splitlines())
            if kind == "distributed" and "cannot create constraint" in message:
                column = "id" if table == TENANTS else "tenant_id"
                message += f" [without {column}: {', '.join(_unique_without(cursor, table, column))}]"
            outcomes.append(Outcome(table, kind, False, message))
            if table == TENANTS:
                colocation = "default"
        else:
            outcomes.append(Outcome(table, kind, True))
    for table, name, definition in foreign_keys:
        try:
            cursor.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        except Exception as exc:  # Citus' refusal is the result, recorded word for word
            message = " / ".join(line.strip() for line in str(exc).strip().splitlines())
            outcomes.append(Outcome(f"{table}.{name}", "foreign key", False, f"{definition}: {message}"))
    outcomes += _distribute_functions(cursor, colocation)
    _last_outcomes[:] = outcomes
    return outcomes


def _distribute_functions(cursor, colocation: str) -> list[Outcome]:
    outcomes = []
    for name, argument in DISTRIBUTED_FUNCTIONS.items():
        cursor.execute(
            "SELECT p.oid::regprocedure::text FROM pg_proc p WHERE p.proname = %s"
            " AND p.pronamespace = 'public'::regnamespace",
            [name],
        )
        for (signature,) in cursor.fetchall():
            try:
                if argument is None:
                    cursor.execute("SELECT create_distributed_function(%s)", [signature])
                else:
                    cursor.execute(
                        "SELECT create_distributed_function(%s, distribution_arg_name => %s, colocate_with => %s)",
                        [signature, argument, colocation],
                    )
            except Exception as exc:  # Citus' refusal is the result, recorded word for word
                message = " / ".join(line.strip() for line in str(exc).strip().splitlines())
                outcomes.append(Outcome(signature, "function", False, message))
            else:
                detail = "on every node" if argument is None else f"by {argument}"
                outcomes.append(Outcome(signature, "function", True, detail))
    return outcomes


def report(outcomes: list[Outcome]) -> str:
    refused = [o for o in outcomes if not o.ok]
    kinds = ("distributed", "reference", "local", "function")
    counts = {k: sum(1 for o in outcomes if o.ok and o.kind == k) for k in kinds}
    tables = [o for o in refused if o.kind in ("distributed", "reference")]
    keys = [o for o in refused if o.kind == "foreign key"]
    head = (
        f"Citus: {counts['distributed']} tables distributed by tenant, {counts['reference']} reference, "
        f"{counts['local']} local on the coordinator, {counts['function']} functions distributed; "
        f"refused: {len(tables)} tables (left local), {len(keys)} foreign keys (left off), "
        f"{len(refused) - len(tables) - len(keys)} functions"
    )
    return "\n".join([head, *(o.line() for o in outcomes)])
