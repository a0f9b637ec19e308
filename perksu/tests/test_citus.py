"""On a Citus cluster (docs/SCALING.md "Running on Citus"): the test database is set up on every
node and the tables are distributed by tenant, co-located, and a tenant's statements are routed
to one worker. Skipped, with the reason, without CITUS_WORKER_URLS (conftest.py)."""

from __future__ import annotations

import pytest
from django.db import connection

from perksu import citus

pytestmark = [pytest.mark.citus, pytest.mark.postgres, pytest.mark.django_db]


def _partition() -> dict[str, tuple[str, str, int]]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT logicalrelid::regclass::text, partmethod, repmodel, colocationid
            FROM pg_dist_partition
            """
        )
        return {name.strip('"'): (method, model, colocation) for name, method, model, colocation in cursor.fetchall()}


def test_every_node_has_the_database_and_the_workers_are_registered():
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_dist_node WHERE noderole = 'primary' AND groupid > 0")
        (workers,) = cursor.fetchone()
        cursor.execute("SELECT result FROM run_command_on_workers('SELECT current_database()')")
        names = {row[0] for row in cursor.fetchall()}
    assert workers == len(citus.worker_urls())
    assert names == {connection.settings_dict["NAME"]}


def test_reference_tables_are_copied_to_every_node():
    partition = _partition()
    for table in citus.REFERENCE_TABLES:
        assert partition[table][:2] == ("n", "t"), table


def test_every_tenant_owned_table_is_distributed_by_tenant_and_colocated():
    """Fails, naming each table and Citus' refusal, until the whole schema is distributable."""
    partition = _partition()
    with connection.cursor() as cursor:
        plan = citus.plan(cursor)
    refused = {o.table: o.detail for o in citus.distribute_outcomes() if not o.ok}
    tenants = partition.get(citus.TENANTS)
    problems = []
    for table, kind in plan:
        if kind != "distributed":
            continue
        method, _, colocation = partition.get(table, ("", "", 0))
        if method != "h" or tenants is None or colocation != tenants[2]:
            problems.append(f"{table}: {refused.get(table, 'not hash-distributed with tenants')}")
    assert not problems, "\n".join(problems)


def test_a_tenant_read_is_routed_to_one_shard(tenant):
    if _partition().get("wallets", ("",))[0] != "h":
        pytest.fail(
            "wallets is not distributed: "
            + {o.table: o.detail for o in citus.distribute_outcomes()}.get("wallets", "?")
        )
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN SELECT * FROM wallets WHERE tenant_id = %s", [tenant.pk])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Task Count: 1" in plan, plan


def test_every_function_of_the_schema_is_on_every_worker():
    """A delegated award runs on its tenant's worker: every function it may call (its refusal,
    `perksu_award_not_paid()`, the append-only triggers' function) must be there too."""
    query = (
        "SELECT coalesce(string_agg(proname, ',' ORDER BY proname), '') FROM pg_proc"
        " WHERE pronamespace = 'public'::regnamespace"
    )
    with connection.cursor() as cursor:
        cursor.execute(query)
        (here,) = cursor.fetchone()
        cursor.execute("SELECT result FROM run_command_on_workers(%s)", [query])
        there = [row[0] for row in cursor.fetchall()]
    assert "perksu_award_not_paid" in here.split(",")
    assert there == [here] * len(citus.worker_urls())
