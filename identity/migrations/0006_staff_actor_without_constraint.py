"""A SCIM token's `created_by` may be a platform admin (the console, the API with `tenant_id`), whose
user row is in the platform's tenant, not the token's: with `users` keyed by `(tenant_id, id)` its
foreign key could not go through the token's tenant, so it has no database constraint (docs/SCALING.md).

Reversed on a database that has such a token, the constraint cannot be written back.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("identity", "0005_token_keys"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="scimtoken",
            name="created_by",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
    ]
