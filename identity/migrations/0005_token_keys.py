"""Token hashes become unique through `token_keys` (hash → tenant, token), a table Citus can keep as
a reference table, and no longer through unique indexes on the token tables (docs/SCALING.md).
Every API and SCIM token gets its row before those indexes are dropped."""

from django.db import migrations, models


def key_rows(apps, schema_editor):
    ApiToken = apps.get_model("identity", "ApiToken")
    ScimToken = apps.get_model("identity", "ScimToken")
    TokenKey = apps.get_model("identity", "TokenKey")
    for model in (ApiToken, ScimToken):
        rows = [
            TokenKey(key_hash=key_hash, tenant_id=tenant_id, token_id=pk)
            for pk, tenant_id, key_hash in model.objects.values_list("pk", "tenant_id", "key_hash").iterator()
        ]
        TokenKey.objects.bulk_create(rows, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("identity", "0004_platform_tokens_in_the_platform_tenant"),
    ]

    operations = [
        migrations.CreateModel(
            name="TokenKey",
            fields=[
                ("key_hash", models.CharField(max_length=64, primary_key=True, serialize=False)),
                ("tenant_id", models.UUIDField()),
                ("token_id", models.UUIDField(unique=True)),
            ],
            options={
                "db_table": "token_keys",
            },
        ),
        # Reversed: the table goes with its rows (the unique indexes are back by then).
        migrations.RunPython(key_rows, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="apitoken",
            name="key_hash",
            field=models.CharField(max_length=64),
        ),
        migrations.AlterField(
            model_name="scimtoken",
            name="key_hash",
            field=models.CharField(max_length=64),
        ),
    ]
