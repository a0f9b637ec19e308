"""Make `webhook_attempts` append-only in the database itself (PostgreSQL), like the ledgers.

A trigger refuses every UPDATE, and every DELETE except of the attempts of the one endpoint
that `webhooks.services.endpoint_delete` is deleting: that service names the endpoint in the
transaction-local setting `perksu.webhook_attempts_erasable` (`set_config(…, true)`), so the
setting ends with the transaction and a stray DELETE of any other endpoint's attempts is still
refused. Nothing else deletes attempts (there is no retention purge; a tenant with members
cannot be deleted, its profiles PROTECT it). TRUNCATE, which the test runner's flush uses,
fires no row trigger. SQLite has no such guard; the services never update these rows.
"""

from django.db import migrations

CREATE_FUNCTION = """
CREATE OR REPLACE FUNCTION perksu_webhook_attempts_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE'
       AND OLD.endpoint_id::text = current_setting('perksu.webhook_attempts_erasable', true) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '%% is append-only: %% refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CREATE_FUNCTION)
    schema_editor.execute(
        "CREATE TRIGGER webhook_attempts_append_only BEFORE UPDATE OR DELETE ON webhook_attempts "
        "FOR EACH ROW EXECUTE FUNCTION perksu_webhook_attempts_append_only();"
    )


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP TRIGGER IF EXISTS webhook_attempts_append_only ON webhook_attempts;")
    schema_editor.execute("DROP FUNCTION IF EXISTS perksu_webhook_attempts_append_only();")


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0001_webhooks")]

    operations = [migrations.RunPython(create_trigger, drop_trigger, elidable=False)]
