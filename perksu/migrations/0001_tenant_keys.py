"""Tenant keys for the tables made before the schema editor wrote them (PostgreSQL only).

`perksu.backends.postgresql` writes `(tenant_id, id)` primary keys and foreign keys through the
tenant for every table it makes; this converts the tables an older database already has
(docs/SCALING.md §3). On a large database it rewrites each primary key and validates each foreign
key once: plan it for a quiet hour. Run again, it changes nothing.

Reversing it keeps the keys: they are the backend's, which writes them for every table from the
first migration on, so a database migrated back to before this one is what a fresh migrate to
that point makes.
"""

from django.db import migrations

from perksu.backends.postgresql.schema import convert_to_tenant_keys


def forwards(apps, schema_editor):
    convert_to_tenant_keys(schema_editor, apps)


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0006_tenant_slugs"),
        ("points", "0008_unique_per_tenant"),
        ("wallets", "0006_voucher_codes"),
        ("recognition", "0007_award_function"),
        ("people", "0003_forfeit_unique_per_tenant"),
        ("events", "0004_platform_rows_in_the_platform_tenant"),
        ("insights", "0005_rollup_keys_start_with_tenant"),
        ("webhooks", "0002_attempts_append_only"),
        ("identity", "0004_platform_tokens_in_the_platform_tenant"),
        ("automation", "0001_automated_awards"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False)]
