"""Make the logs and ledgers append-only in the database itself (PostgreSQL).

A trigger refuses UPDATE and DELETE on every log and ledger table, so not even
a raw SQL statement or a bug can rewrite history: a mistake is corrected by a
new, opposite movement. SQLite has no such guard here (its test database is
emptied with DELETE); the services never update these tables on any backend.
"""

from django.db import migrations

APPEND_ONLY_TABLES = ["allocation_logs", "platform_billing_logs", "delegation_logs", "wallet_ledger", "recognitions"]

CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION perksu_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '%% is append-only: %% refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE_FUNCTION)
    for table in APPEND_ONLY_TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION perksu_refuse_change();"
        )


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in APPEND_ONLY_TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
    schema_editor.execute("DROP FUNCTION IF EXISTS perksu_refuse_change();")


class Migration(migrations.Migration):
    dependencies = [
        ("points", "0002_initial"),
        ("wallets", "0001_initial"),
        ("recognition", "0002_initial"),
    ]

    operations = [migrations.RunPython(create_triggers, drop_triggers, elidable=False)]
