"""E-mail opt-outs, e-mail deliveries and scheduled runs of the platform itself carry the platform's
own tenant instead of NULL, so `tenant_id` is NOT NULL on all three and each has one unique key
that starts with it (docs/SCALING.md: Citus refuses a NULL distribution column)."""

import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import Exists, OuterRef, Subquery

PLATFORM_TENANT_ID = uuid.UUID("00000000-0000-0000-0000-00000000f1a7")


def platform_rows_into_the_platform_tenant(apps, schema_editor):
    """Rows without a tenant take their user's (staff's user rows sit in the platform tenant since
    tenants/0005); scheduled runs, which have no user, the platform's. A row that would then repeat
    one already there (an opt-out made twice, before and after staff had a tenant row) is the same
    fact twice: the row without a tenant is dropped."""
    Tenant = apps.get_model("tenants", "Tenant")
    User = apps.get_model("tenants", "User")
    by_user = {"EmailOptOut": ("user", "category"), "EmailDelivery": ("key",)}
    for name, unique in by_user.items():
        model = apps.get_model("events", name)
        stray = model.objects.filter(tenant__isnull=True)
        same = model.objects.filter(tenant_id=OuterRef("user__tenant_id"), **{f: OuterRef(f) for f in unique})
        stray.filter(Exists(same)).delete()
        users_tenant = Subquery(User.objects.filter(pk=OuterRef("user_id")).values("tenant_id")[:1])
        stray.update(tenant_id=users_tenant)
    ScheduledRun = apps.get_model("events", "ScheduledRun")
    stray = ScheduledRun.objects.filter(tenant__isnull=True)
    if stray.exists():
        Tenant.objects.get_or_create(
            pk=PLATFORM_TENANT_ID, defaults={"name": "Perksu platform staff", "slug": "perksu-platform"}
        )
        same = ScheduledRun.objects.filter(tenant_id=PLATFORM_TENANT_ID, job=OuterRef("job"), scope=OuterRef("scope"))
        stray.filter(Exists(same)).delete()
        stray.update(tenant_id=PLATFORM_TENANT_ID)


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0003_tenant_in_unique_keys"),
        ("tenants", "0005_platform_staff_in_the_platform_tenant"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="emaildelivery", name="email_delivery_once"),
        migrations.RemoveConstraint(model_name="emaildelivery", name="email_delivery_once_platform"),
        migrations.RemoveConstraint(model_name="emailoptout", name="email_opt_out_once"),
        migrations.RemoveConstraint(model_name="emailoptout", name="email_opt_out_once_platform"),
        migrations.RemoveConstraint(model_name="scheduledrun", name="scheduled_run_once"),
        migrations.RemoveConstraint(model_name="scheduledrun", name="scheduled_run_once_platform"),
        # Backwards the rows keep the platform tenant, which the old partial keys allow.
        migrations.RunPython(platform_rows_into_the_platform_tenant, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="emaildelivery",
            name="tenant",
            field=models.ForeignKey(
                db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="tenants.tenant"
            ),
        ),
        migrations.AlterField(
            model_name="emailoptout",
            name="tenant",
            field=models.ForeignKey(
                db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="tenants.tenant"
            ),
        ),
        migrations.AlterField(
            model_name="scheduledrun",
            name="tenant",
            field=models.ForeignKey(
                db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name="+", to="tenants.tenant"
            ),
        ),
        migrations.AddConstraint(
            model_name="emaildelivery",
            constraint=models.UniqueConstraint(fields=("tenant", "key"), name="email_delivery_once"),
        ),
        migrations.AddConstraint(
            model_name="emailoptout",
            constraint=models.UniqueConstraint(fields=("tenant", "user", "category"), name="email_opt_out_once"),
        ),
        migrations.AddConstraint(
            model_name="scheduledrun",
            constraint=models.UniqueConstraint(fields=("tenant", "job", "scope"), name="scheduled_run_once"),
        ),
    ]
