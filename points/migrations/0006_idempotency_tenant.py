"""Idempotency records carry their tenant (SPEC §14); platform staff's are kept apart.

A member's records take the member's tenant. A platform admin's (no tenant) move to
`platform_idempotency_records` as they are, so a retry still replays them. The NOT NULL and the
new unique key follow in 0007, in a transaction of their own (PostgreSQL refuses to alter a
table with deferred foreign-key checks pending from the rows updated here).
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.db.models import OuterRef, Q, Subquery

MOVED = [
    "user_id", "scope", "key", "fingerprint", "state", "response_status", "response_body",
    "created_at", "updated_at", "backend_pid", "backend_started_at",
]  # fmt: skip


def place_records(apps, schema_editor):
    Record = apps.get_model("points", "IdempotencyRecord")
    PlatformRecord = apps.get_model("points", "PlatformIdempotencyRecord")
    User = apps.get_model("tenants", "User")
    # Staff have no tenant, or (after tenants 0005) the platform's own; either way their role says so.
    staff = Record.objects.filter(Q(user__tenant__isnull=True) | Q(user__role="platform_admin"))
    PlatformRecord.objects.bulk_create(PlatformRecord(**row) for row in staff.values(*MOVED).iterator())
    staff.delete()
    Record.objects.update(tenant_id=Subquery(User.objects.filter(pk=OuterRef("user_id")).values("tenant_id")[:1]))


def unplace_records(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # Check the foreign keys now, not at COMMIT: the columns are dropped next in this transaction.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    Record = apps.get_model("points", "IdempotencyRecord")
    PlatformRecord = apps.get_model("points", "PlatformIdempotencyRecord")
    Record.objects.bulk_create(Record(**row) for row in PlatformRecord.objects.values(*MOVED).iterator())
    PlatformRecord.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("points", "0005_idempotency_claim_backend"),
        ("tenants", "0004_user_auth_epoch"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="PlatformIdempotencyRecord",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                ("scope", models.CharField(help_text="The endpoint or form the key was sent to.", max_length=100)),
                ("key", models.CharField(max_length=255)),
                ("fingerprint", models.CharField(help_text="SHA-256 of the request body.", max_length=64)),
                (
                    "state",
                    models.CharField(
                        choices=[("IN_PROGRESS", "In progress"), ("DONE", "Done")], default="IN_PROGRESS", max_length=16
                    ),
                ),
                ("response_status", models.PositiveSmallIntegerField(null=True)),
                ("response_body", models.JSONField(null=True)),
                ("created_at", models.DateTimeField(db_index=True, default=django.utils.timezone.now)),
                ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "backend_pid",
                    models.IntegerField(
                        blank=True,
                        help_text="PostgreSQL: the process id of the database connection holding the claim.",
                        null=True,
                    ),
                ),
                (
                    "backend_started_at",
                    models.DateTimeField(
                        blank=True,
                        help_text="PostgreSQL: when that connection started (a process id can be reused).",
                        null=True,
                    ),
                ),
            ],
            options={
                "db_table": "platform_idempotency_records",
            },
        ),
        migrations.AddField(
            model_name="idempotencyrecord",
            name="tenant",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="tenants.tenant",
            ),
        ),
        migrations.AddField(
            model_name="platformidempotencyrecord",
            name="user",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.AddConstraint(
            model_name="platformidempotencyrecord",
            constraint=models.UniqueConstraint(
                fields=("user", "scope", "key"), name="platform_idempotency_one_per_user_scope_key"
            ),
        ),
        migrations.RunPython(place_records, unplace_records),
    ]
