"""`perksu.db.prepared_read`: a prepared read that is also the request's connection health check."""

from __future__ import annotations

import psycopg
import pytest
from django.db import DataError, connections

from perksu.db import prepared_read

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def db_due(monkeypatch):
    """The default connection, open, with its health check due as at the start of a request."""
    db = connections["default"]
    db.ensure_connection()
    monkeypatch.setattr(db, "health_check_enabled", True)
    db.health_check_done = False
    return db


def backend_pid() -> int:
    [(pid,)] = prepared_read("SELECT pg_backend_pid()", [])
    return pid


def terminate(pid: int) -> None:
    """What a server restart or a failover does to the connection: the server ends it."""
    params = connections["default"].get_connection_params()
    with psycopg.connect(**{**params, "autocommit": True}) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_the_read_is_the_health_check_no_select_1(db_due, monkeypatch):
    checked = []
    monkeypatch.setattr(db_due, "is_usable", lambda: checked.append(True) or True)
    assert prepared_read("SELECT %s::int", [7]) == [(7,)]
    assert checked == []  # no separate round trip
    assert db_due.health_check_done  # the request's later statements are not checked either
    assert prepared_read("SELECT %s::int", [8]) == [(8,)]
    assert checked == []


def test_a_connection_the_server_ended_is_replaced_and_the_read_runs_again(db_due):
    old = backend_pid()
    db_due.health_check_done = False  # the next request
    terminate(old)
    [(new,)] = prepared_read("SELECT pg_backend_pid()", [])
    assert new != old
    assert db_due.health_check_done
    assert not db_due.errors_occurred


def test_a_read_that_fails_on_a_usable_connection_raises_and_keeps_the_connection(db_due):
    pid = backend_pid()
    db_due.health_check_done = False
    with pytest.raises(DataError):
        prepared_read("SELECT 1 / %s::int", [0])
    assert backend_pid() == pid


def test_with_the_check_done_or_disabled_a_dead_connection_fails_as_any_statement_would(db_due):
    """Only a due check is replaced: otherwise the read is an ordinary statement (Django checks a
    connection once per request, at its first statement)."""
    from django.db import OperationalError

    old = backend_pid()
    assert db_due.health_check_done
    terminate(old)
    with pytest.raises(OperationalError):
        prepared_read("SELECT 1", [])
    db_due.close()


def test_inside_a_transaction_the_check_runs_first_as_usual(db_due, monkeypatch):
    from django.db import transaction

    checked = []
    monkeypatch.setattr(db_due, "is_usable", lambda: checked.append(True) or True)
    with transaction.atomic():
        assert prepared_read("SELECT %s::int", [1]) == [(1,)]
    assert checked == [True]
