"""`redemption_insights_idx` (tenant, created_at) INCLUDE (reward, user, status, points spent): redemptions
by reward read a period of redemptions without the table's heap (it was a bitmap heap scan of 9,663 pages
for a month of the bench tenant). Built CONCURRENTLY on PostgreSQL, like the indexes of 0001; SQLite has
no INCLUDE and needs none."""

from django.db import migrations

NAME = "redemption_insights_idx"
TARGET = "redemptions (tenant_id, created_at) INCLUDE (reward_id, user_id, status, points_spent)"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {NAME} ON {TARGET}")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("insights", "0003_member_last"),
        ("wallets", "0004_ledger_source_forfeit"),
    ]

    operations = [migrations.RunPython(create, drop)]
