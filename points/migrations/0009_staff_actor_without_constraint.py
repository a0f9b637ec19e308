"""An allocation log's `actor` and a billing line's `admin` are platform admins, whose user rows are in
the platform's tenant, not the customer's: with `users` keyed by `(tenant_id, id)` their foreign keys
could not go through the row's tenant, so they have no database constraint (docs/SCALING.md).

Reversed on a database that has such rows, the constraints cannot be written back.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("points", "0008_unique_per_tenant"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="allocationlog",
            name="actor",
            field=models.ForeignKey(
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="platformbillinglog",
            name="admin",
            field=models.ForeignKey(
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
