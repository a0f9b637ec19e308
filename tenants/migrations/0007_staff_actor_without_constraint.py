"""A settings change's `actor` may be a platform admin (the console), whose user row is in the
platform's tenant, not the customer's: with `users` keyed by `(tenant_id, id)` its foreign key could
not go through the row's tenant, so it has no database constraint (docs/SCALING.md).

Reversed on a database that has such a change, the constraint cannot be written back.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0006_tenant_slugs"),
    ]

    operations = [
        migrations.AlterField(
            model_name="settingschangelog",
            name="actor",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
