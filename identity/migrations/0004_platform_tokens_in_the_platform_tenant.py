"""A platform admin's API token carries the platform's own tenant (the tenant of the admin's user
row since tenants/0005) instead of NULL, and `tenant_id` is NOT NULL (docs/SCALING.md: Citus
refuses a NULL distribution column)."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def platform_tokens_into_the_platform_tenant(apps, schema_editor):
    """A token without a tenant takes its user's: for staff, the platform tenant."""
    ApiToken = apps.get_model("identity", "ApiToken")
    User = apps.get_model("tenants", "User")
    users_tenant = Subquery(User.objects.filter(pk=OuterRef("user_id")).values("tenant_id")[:1])
    ApiToken.objects.filter(tenant__isnull=True).update(tenant_id=users_tenant)


class Migration(migrations.Migration):
    dependencies = [
        ("identity", "0003_scim_external_id"),
        ("tenants", "0005_platform_staff_in_the_platform_tenant"),
    ]

    operations = [
        # Backwards the tokens keep the platform tenant, which a nullable column allows.
        migrations.RunPython(platform_tokens_into_the_platform_tenant, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="apitoken",
            name="tenant",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="tenants.tenant"),
        ),
    ]
