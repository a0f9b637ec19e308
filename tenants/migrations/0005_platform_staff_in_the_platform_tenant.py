"""Platform staff's user rows move into the platform's own tenant, and `users.tenant_id` becomes
NOT NULL, so every user row has the tenant it would be placed by (docs/SCALING.md)."""

import uuid

import django.db.models.deletion
from django.db import migrations, models

PLATFORM_TENANT_ID = uuid.UUID("00000000-0000-0000-0000-00000000f1a7")


def staff_into_the_platform_tenant(apps, schema_editor):
    Tenant = apps.get_model("tenants", "Tenant")
    User = apps.get_model("tenants", "User")
    Tenant.objects.get_or_create(
        pk=PLATFORM_TENANT_ID, defaults={"name": "Perksu platform staff", "slug": "perksu-platform"}
    )
    User.objects.filter(tenant__isnull=True).update(tenant_id=PLATFORM_TENANT_ID)


def staff_out_of_the_platform_tenant(apps, schema_editor):
    User = apps.get_model("tenants", "User")
    User.objects.filter(tenant_id=PLATFORM_TENANT_ID).update(tenant_id=None)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("tenants", "0004_user_auth_epoch"),
    ]

    operations = [
        migrations.AlterModelOptions(name="tenant", options={"default_manager_name": "objects", "ordering": ["name"]}),
        migrations.RemoveConstraint(
            model_name="user",
            name="user_role_matches_tenant",
        ),
        migrations.RunPython(staff_into_the_platform_tenant, staff_out_of_the_platform_tenant),
        migrations.AlterField(
            model_name="user",
            name="tenant",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="members", to="tenants.tenant"
            ),
        ),
        migrations.AddConstraint(
            model_name="tenant",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("id", uuid.UUID("00000000-0000-0000-0000-00000000f1a7")), _negated=True),
                    ("points_allocation_balance", 0),
                    _connector="OR",
                ),
                name="tenant_platform_holds_nothing",
            ),
        ),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("role", "platform_admin"), ("tenant", uuid.UUID("00000000-0000-0000-0000-00000000f1a7"))),
                    models.Q(
                        ("role__in", ["tenant_manager", "tenant_lead", "employee"]),
                        models.Q(("tenant", uuid.UUID("00000000-0000-0000-0000-00000000f1a7")), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="user_role_matches_tenant",
            ),
        ),
    ]
