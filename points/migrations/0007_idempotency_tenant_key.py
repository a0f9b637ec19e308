"""Every tenant's idempotency record has its tenant (0006): make it required and part of the key."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("points", "0006_idempotency_tenant")]

    operations = [
        migrations.AlterField(
            model_name="idempotencyrecord",
            name="tenant",
            field=models.ForeignKey(
                db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="tenants.tenant"
            ),
        ),
        migrations.AddConstraint(
            model_name="idempotencyrecord",
            constraint=models.UniqueConstraint(
                fields=("tenant", "user", "scope", "key"), name="idempotency_one_per_tenant_user_scope_key"
            ),
        ),
        migrations.RemoveConstraint(model_name="idempotencyrecord", name="idempotency_one_per_user_scope_key"),
    ]
