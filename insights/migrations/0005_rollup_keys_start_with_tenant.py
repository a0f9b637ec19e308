"""The rollup tables' primary keys start with the tenant, and none draws from a sequence (SPEC §14).

Django cannot turn a single-column primary key into a composite one in place, so the tables are
dropped and created again. They hold derived data only: every missing day and month is rebuilt
from the ledger and the recognitions on its first read (or by `manage.py insights_rollups` and the
nightly job), and `reconcile` checks what is built.
"""

import uuid

import django.db.models.deletion
from django.db import migrations, models


def _tenant(**extra):
    return models.ForeignKey(
        db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="tenants.tenant", **extra
    )


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0004_redemption_insights_index"),
        ("tenants", "0004_user_auth_epoch"),
    ]

    operations = [
        *[
            migrations.DeleteModel(name=name)
            for name in ("RollupDay", "TeamDay", "ValueDay", "PayrollMonth", "PayrollWalletMonth", "MemberRollup")
        ],
        migrations.DeleteModel(name="MemberLast"),
        migrations.CreateModel(
            name="RollupDay",
            fields=[
                ("pk", models.CompositePrimaryKey("tenant", "day", blank=True, editable=False, serialize=False)),
                ("tenant", _tenant()),
                ("day", models.DateField()),
                ("teams_key", models.CharField(max_length=64)),
                ("built_at", models.DateTimeField()),
            ],
            options={"db_table": "insights_rollup_days"},
        ),
        migrations.CreateModel(
            name="TeamDay",
            fields=[
                ("pk", models.CompositePrimaryKey("tenant", "id", blank=True, editable=False, serialize=False)),
                ("tenant", _tenant()),
                ("id", models.UUIDField(default=uuid.uuid4, editable=False)),
                ("day", models.DateField()),
                ("team_id", models.UUIDField(null=True)),
                ("funding_source", models.CharField(max_length=16)),
                ("recognitions", models.BigIntegerField()),
                ("points", models.BigIntegerField()),
            ],
            options={
                "db_table": "insights_team_days",
                "indexes": [models.Index(fields=["tenant", "day"], name="insights_team_day_idx")],
            },
        ),
        migrations.CreateModel(
            name="ValueDay",
            fields=[
                ("pk", models.CompositePrimaryKey("tenant", "id", blank=True, editable=False, serialize=False)),
                ("tenant", _tenant()),
                ("id", models.UUIDField(default=uuid.uuid4, editable=False)),
                ("day", models.DateField()),
                ("team_id", models.UUIDField(null=True)),
                ("value_id", models.UUIDField()),
                ("recognitions", models.BigIntegerField()),
                ("points", models.BigIntegerField()),
            ],
            options={
                "db_table": "insights_value_days",
                "indexes": [models.Index(fields=["tenant", "day"], name="insights_value_day_idx")],
            },
        ),
        migrations.CreateModel(
            name="PayrollMonth",
            fields=[
                ("pk", models.CompositePrimaryKey("tenant", "month", blank=True, editable=False, serialize=False)),
                ("tenant", _tenant()),
                ("month", models.DateField()),
                ("built_at", models.DateTimeField()),
            ],
            options={"db_table": "insights_payroll_months"},
        ),
        migrations.CreateModel(
            name="PayrollWalletMonth",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "tenant", "month", "wallet_id", blank=True, editable=False, serialize=False
                    ),
                ),
                ("tenant", _tenant()),
                ("month", models.DateField()),
                ("wallet_id", models.UUIDField()),
                ("received_recognition", models.BigIntegerField()),
                ("received_adjustment", models.BigIntegerField()),
                ("redemptions", models.BigIntegerField()),
                ("redeemed_points", models.BigIntegerField()),
                ("refunded_points", models.BigIntegerField()),
                ("other_debits", models.BigIntegerField()),
            ],
            options={"db_table": "insights_payroll_wallet_months"},
        ),
        migrations.CreateModel(
            name="MemberRollup",
            fields=[
                (
                    "tenant",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="tenants.tenant",
                    ),
                ),
                ("through", models.DateField()),
            ],
            options={"db_table": "insights_member_rollups"},
        ),
        migrations.CreateModel(
            name="MemberLast",
            fields=[
                ("pk", models.CompositePrimaryKey("tenant", "user_id", blank=True, editable=False, serialize=False)),
                ("tenant", _tenant()),
                ("user_id", models.UUIDField()),
                ("last_received_at", models.DateTimeField()),
            ],
            options={"db_table": "insights_member_last"},
        ),
    ]
