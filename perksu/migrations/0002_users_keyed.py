"""`users` keyed by `(tenant_id, id)`, and the foreign keys into it through the tenant (PostgreSQL only).

Every user row has a tenant (platform staff: the platform's own, `tenants/0005`), and the columns
that may name a platform admin on a customer's row have no database constraint any more (the
migrations just before this one), so `users` is keyed like every other tenant-owned table: this
converts an older database's `users` key and rewrites each foreign key into it as
`(tenant_id, x_id) → users (tenant_id, id)`; those from tables without `tenant_id` (the console's
log, Django's permission tables, DRF's old tokens, platform staff's idempotency records) are
written without a constraint (docs/SCALING.md). A fresh migrate already has these keys; run
again, it changes nothing. On a large database it rewrites the key and validates each foreign
key once: plan it for a quiet hour.

Reversing it keeps the keys, as `0001_tenant_keys` does.
"""

from django.db import migrations

from perksu.backends.postgresql.schema import convert_to_tenant_keys


def forwards(apps, schema_editor):
    convert_to_tenant_keys(schema_editor, apps)


class Migration(migrations.Migration):
    dependencies = [
        ("perksu", "0001_tenant_keys"),
        ("tenants", "0007_staff_actor_without_constraint"),
        ("points", "0009_staff_actor_without_constraint"),
        ("wallets", "0007_wallet_user_foreign_key"),
        ("recognition", "0007_award_function"),
        ("people", "0003_forfeit_unique_per_tenant"),
        ("events", "0004_platform_rows_in_the_platform_tenant"),
        ("insights", "0005_rollup_keys_start_with_tenant"),
        ("webhooks", "0002_attempts_append_only"),
        ("identity", "0006_staff_actor_without_constraint"),
        ("automation", "0001_automated_awards"),
        ("admin", "0003_logentry_add_action_flag_choices"),
        ("authtoken", "0004_alter_tokenproxy_options"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=False)]
