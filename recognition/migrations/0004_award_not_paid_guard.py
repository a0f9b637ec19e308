"""The guard of the one-statement award (PostgreSQL): `perksu_award_not_paid()`.

`recognition.services` pays a plain award with one statement that credits the
recipients and debits the pool (or lead budget) last. If the debit finds the
balance gone (another award took it between the statement's snapshot and its
lock), the statement calls this function, which raises SQLSTATE PK001, so the
whole statement — credits, recognitions, ledger rows — is undone, even when it
runs in autocommit. The service then takes the general path, which refuses
with the precise reason.
"""

from django.db import migrations

CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION perksu_award_not_paid() RETURNS bigint AS $$
BEGIN
    RAISE EXCEPTION 'award not paid: the paying balance no longer covers it' USING ERRCODE = 'PK001';
END;
$$ LANGUAGE plpgsql;
"""


def create_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE_FUNCTION)


def drop_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS perksu_award_not_paid();")


class Migration(migrations.Migration):
    dependencies = [("recognition", "0003_drop_duplicate_indexes")]

    operations = [migrations.RunPython(create_function, drop_function, elidable=False)]
