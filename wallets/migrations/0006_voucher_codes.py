"""Voucher codes become unique through `voucher_codes` (code → tenant, redemption), a table Citus can
keep as a reference table, and no longer through a unique index on `redemptions`
(docs/SCALING.md). Every redemption's code gets its row before the unique index is dropped."""

from django.db import migrations, models


def code_rows(apps, schema_editor):
    Redemption = apps.get_model("wallets", "Redemption")
    VoucherCode = apps.get_model("wallets", "VoucherCode")
    rows = (
        VoucherCode(code=code, tenant_id=tenant_id, redemption_id=pk)
        for pk, tenant_id, code in Redemption._base_manager.values_list("pk", "tenant_id", "voucher_code").iterator()
    )
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == 1000:
            VoucherCode.objects.bulk_create(batch)
            batch = []
    VoucherCode.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [
        ("wallets", "0005_unique_per_tenant"),
    ]

    operations = [
        migrations.CreateModel(
            name="VoucherCode",
            fields=[
                ("code", models.CharField(max_length=32, primary_key=True, serialize=False)),
                ("tenant_id", models.UUIDField()),
                ("redemption_id", models.UUIDField(unique=True)),
            ],
            options={
                "db_table": "voucher_codes",
            },
        ),
        # Reversed: the table goes with its rows (the unique index is back by then).
        migrations.RunPython(code_rows, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="redemption",
            name="voucher_code",
            field=models.CharField(max_length=32),
        ),
    ]
