"""On PostgreSQL the logs and ledgers are append-only in the database itself (SPEC §3).

Raw SQL on purpose: not even a statement that bypasses the ORM can rewrite history.
"""

import pytest
from django.db import DatabaseError, connection, transaction

from points.models import AllocationLog, DelegationLog, PlatformBillingLog
from recognition.models import Recognition
from wallets.models import WalletLedger

pytestmark = pytest.mark.postgres

TABLES = {
    "allocation_logs": (AllocationLog, "amount = amount + 1"),
    "platform_billing_logs": (PlatformBillingLog, "amount = amount + 1"),
    "delegation_logs": (DelegationLog, "amount = amount + 1"),
    "wallet_ledger": (WalletLedger, "note = 'edited'"),
    "recognitions": (Recognition, "message = 'edited'"),
}


@pytest.fixture
def history(funded_lead, manager, employee, other_employee, award):
    award(manager, employee, 100)
    award(employee, other_employee, 0, message="kudos: no ledger row references it")


def _refused(sql: str, params: list) -> str:
    with pytest.raises(DatabaseError) as caught, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    return str(caught.value)


@pytest.mark.parametrize("table", TABLES.keys())
def test_update_is_refused(history, table):
    model, assignment = TABLES[table]
    row = model.objects.order_by("created_at").first()
    message = _refused(f"UPDATE {table} SET {assignment} WHERE id = %s", [row.pk])
    assert f"{table} is append-only: UPDATE refused" in message
    fields = [f.attname for f in model._meta.concrete_fields]
    assert model.objects.filter(pk=row.pk).values(*fields).get() == {f: getattr(row, f) for f in fields}


@pytest.mark.parametrize("table", TABLES.keys())
def test_delete_is_refused(history, table):
    model, _ = TABLES[table]
    row = model.objects.filter(**({"points": 0} if model is Recognition else {})).first()
    count = model.objects.count()
    message = _refused(f"DELETE FROM {table} WHERE id = %s", [row.pk])
    assert f"{table} is append-only: DELETE refused" in message
    assert model.objects.count() == count


def test_balances_and_idempotency_records_stay_writable(history, employee):
    """The triggers guard history only: balances move by UPDATE, idempotency records are purged."""
    from points.idempotency import purge_expired

    with connection.cursor() as cursor:
        cursor.execute("UPDATE wallets SET balance = balance WHERE user_id = %s", [employee.pk])
        assert cursor.rowcount == 1
    assert purge_expired() == 0


@pytest.mark.django_db
def test_every_append_only_trigger_names_its_own_table():
    """The message names the table even where the trigger fires on a shard of it (Citus names a
    shard `wallet_ledger_102072`): each trigger passes its table's name to the function."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, encode(t.tgargs, 'escape')
              FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
             WHERE t.tgname LIKE '%%append_only' AND NOT t.tgisinternal
            """
        )
        triggers = dict(cursor.fetchall())
    assert set(TABLES) <= set(triggers)
    assert {table: args.removesuffix("\\000") for table, args in triggers.items()} == {t: t for t in triggers}
