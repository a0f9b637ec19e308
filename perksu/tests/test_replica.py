"""Reads on a real streaming replica (perksu/replica.py); .ci/run starts one with pg_basebackup -R.

These tests commit (transaction=True): the replica sees only what the primary committed.
The replica's WAL replay is paused to tell the two servers apart: a row committed on
the primary while replay is paused exists on the primary only, so whichever server
answered a read shows in the answer.
"""

import os
import time
from contextlib import contextmanager

import pytest
from django.db import DEFAULT_DB_ALIAS, connections
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from perksu.replica import REPLICA, ReplicaRouter, read_alias, replica_reads
from points.reconcile import reconcile
from recognition.models import Recognition
from recognition.services import recognition_create
from wallets.models import Wallet

pytestmark = [
    pytest.mark.replica,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_REPLICA_URL"),
        reason="needs a streaming replica: set DATABASE_REPLICA_URL (.ci/run starts one)",
    ),
    pytest.mark.django_db(transaction=True, databases=[DEFAULT_DB_ALIAS, REPLICA]),
]


def on_replica(sql: str, params=()):
    with connections[REPLICA].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def wait_for_replica(seconds: float = 10) -> float:
    """Wait until the replica has replayed everything the primary committed; return the lag seen."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()")
        target = cursor.fetchone()[0]
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if on_replica("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])[0]:
            return time.monotonic() - started
        time.sleep(0.02)
    raise AssertionError(f"the replica did not reach {target} in {seconds} s")


@contextmanager
def replay_paused():
    wait_for_replica()
    on_replica("SELECT pg_wal_replay_pause()")
    try:
        yield
    finally:
        on_replica("SELECT pg_wal_replay_resume()")


@pytest.fixture
def member_client(employee):
    client = APIClient()
    client.force_login(employee)
    return client


def feed_ids(client) -> set[str]:
    response = client.get("/api/v1/recognitions/")
    assert response.status_code == 200
    return {row["id"] for row in response.json()["results"]}


def test_the_replica_is_a_standby_of_the_test_database():
    assert on_replica("SELECT pg_is_in_recovery()")[0] is True
    assert on_replica("SELECT current_database()")[0] == connections[DEFAULT_DB_ALIAS].settings_dict["NAME"]
    assert ReplicaRouter().allow_migrate(REPLICA, "wallets") is False


def test_a_write_on_the_primary_appears_on_the_replica_after_a_short_wait(funded_tenant, manager, employee, award):
    recognition = award(manager, [employee], 100).recognitions[0]
    lag = wait_for_replica()
    assert lag < 2
    assert on_replica("SELECT points FROM recognitions WHERE id = %s", [recognition.pk])[0] == 100


def test_feed_and_ledger_of_a_member_without_recent_writes_come_from_the_replica(
    funded_tenant, manager, employee, award, member_client
):
    seen = award(manager, [employee], 100).recognitions[0]
    with replay_paused():
        unseen = award(manager, [employee], 40).recognitions[0]  # on the primary only
        with CaptureQueriesContext(connections[REPLICA]) as on_standby:
            ids = feed_ids(member_client)
            ledger = member_client.get("/api/v1/wallets/me/ledger/").json()["results"]
        assert str(seen.pk) in ids and str(unseen.pk) not in ids
        assert [row["amount"] for row in ledger] == [100]
        assert any("recognitions" in q["sql"] for q in on_standby.captured_queries)
        assert any("wallet_ledger" in q["sql"] for q in on_standby.captured_queries)
        # The HTML feed too.
        page = member_client.get("/feed/")
        assert page.status_code == 200
    wait_for_replica()
    assert str(unseen.pk) in feed_ids(member_client)  # replay resumed: the replica caught up


def test_a_member_who_just_wrote_reads_from_the_primary(
    funded_tenant, manager, employee, other_employee, member_client
):
    with replay_paused():
        response = member_client.post(
            "/api/v1/recognitions/",
            {"to_user_id": str(other_employee.pk), "points": 0, "message": "Thanks"},
            format="json",
        )
        assert response.status_code == 201, response.content
        mine = str(Recognition.objects.get(giver=employee).pk)  # committed on the primary only
        with CaptureQueriesContext(connections[REPLICA]) as on_standby:
            assert mine in feed_ids(member_client)
        assert on_standby.captured_queries == []
        # Another member, with no write of their own, still reads the replica (where it is not yet).
        other = APIClient()
        other.force_login(manager)
        assert mine not in feed_ids(other)


def test_locks_and_services_never_go_to_the_replica(funded_tenant, manager, employee):
    with replay_paused(), replica_reads():
        assert read_alias() == REPLICA
        assert Wallet.objects.all().db == REPLICA
        assert Wallet.objects.select_for_update().db == DEFAULT_DB_ALIAS
        with CaptureQueriesContext(connections[REPLICA]) as on_standby:
            recognition_create(giver=manager, recipient_ids=[employee.pk], points=30, message="On the primary")
        assert on_standby.captured_queries == []
    assert Wallet.objects.get(user=employee).balance == 30


def test_reconcile_runs_on_the_replica_in_one_repeatable_read_snapshot(funded_tenant, manager, employee, award):
    award(manager, [employee], 100)
    wait_for_replica()
    with (
        CaptureQueriesContext(connections[REPLICA]) as on_standby,
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as on_primary,
    ):
        reports = reconcile()
    assert reports and all(report.ok for report in reports), [r.line() for r in reports]
    sql = [q["sql"] for q in on_standby.captured_queries]
    assert sql[:2] == ["BEGIN", "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"]
    assert any("wallet_ledger" in s for s in sql)
    assert on_primary.captured_queries == []
