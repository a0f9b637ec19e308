"""Slugs become unique through `tenant_slugs` (slug → tenant), a table Citus can keep as a reference
table, and no longer through a unique index on `tenants` (docs/SCALING.md). Every tenant, the
platform's own included, gets its row before the unique index is dropped."""

from django.db import migrations, models


def slug_rows(apps, schema_editor):
    Tenant = apps.get_model("tenants", "Tenant")
    TenantSlug = apps.get_model("tenants", "TenantSlug")
    rows = [TenantSlug(slug=slug, tenant_id=pk) for pk, slug in Tenant._base_manager.values_list("pk", "slug")]
    TenantSlug.objects.bulk_create(rows, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0005_platform_staff_in_the_platform_tenant"),
    ]

    operations = [
        migrations.CreateModel(
            name="TenantSlug",
            fields=[
                ("slug", models.SlugField(max_length=80, primary_key=True, serialize=False)),
                ("tenant_id", models.UUIDField(unique=True)),
            ],
            options={
                "db_table": "tenant_slugs",
            },
        ),
        # Reversed: the table goes with its rows (the unique index is back by then).
        migrations.RunPython(slug_rows, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="tenant",
            name="slug",
            field=models.SlugField(max_length=80),
        ),
    ]
