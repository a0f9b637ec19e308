# The wallet is one per member by (tenant, user); the unique on user alone goes (SPEC §14, Citus).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("wallets", "0006_voucher_codes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="wallet",
            name="user",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="wallets",
                related_query_name="wallet",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
