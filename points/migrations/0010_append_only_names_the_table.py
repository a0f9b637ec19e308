"""The append-only triggers name their table by an argument, not by the table they fire on.

On Citus the trigger fires on a shard, whose name is the table's with a number (`wallet_ledger_102072`),
so "… is append-only" named the shard (docs/SCALING.md §3). Each trigger now passes its table's name
to the function; the function falls back to the firing table's name without one.
"""

from django.db import migrations

# Every table guarded by perksu_refuse_change() (points 0003, recognition 0005, people 0002).
TABLES = [
    "allocation_logs",
    "platform_billing_logs",
    "delegation_logs",
    "wallet_ledger",
    "recognitions",
    "allowance_boosts",
    "settings_change_logs",
    "forfeit_log",
]

REFUSE_CHANGE = """
CREATE OR REPLACE FUNCTION perksu_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '%% is append-only: %% refused', coalesce(TG_ARGV[0], TG_TABLE_NAME), TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
"""

ATTEMPTS = """
CREATE OR REPLACE FUNCTION perksu_webhook_attempts_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND OLD.endpoint_id::text = current_setting('perksu.webhook_attempts_erasable', true) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '%% is append-only: %% refused', coalesce(TG_ARGV[0], TG_TABLE_NAME), TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
"""


def _triggers(schema_editor, *, named: bool) -> None:
    for table in TABLES:
        argument = f"'{table}'" if named else ""
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION perksu_refuse_change({argument});"
        )
    argument = "'webhook_attempts'" if named else ""
    schema_editor.execute("DROP TRIGGER IF EXISTS webhook_attempts_append_only ON webhook_attempts;")
    schema_editor.execute(
        "CREATE TRIGGER webhook_attempts_append_only BEFORE UPDATE OR DELETE ON webhook_attempts "
        f"FOR EACH ROW EXECUTE FUNCTION perksu_webhook_attempts_append_only({argument});"
    )


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(REFUSE_CHANGE)
    schema_editor.execute(ATTEMPTS)
    _triggers(schema_editor, named=True)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    _triggers(schema_editor, named=False)


class Migration(migrations.Migration):
    dependencies = [
        ("points", "0009_staff_actor_without_constraint"),
        ("recognition", "0007_award_function"),
        ("people", "0003_forfeit_unique_per_tenant"),
        ("webhooks", "0002_attempts_append_only"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
