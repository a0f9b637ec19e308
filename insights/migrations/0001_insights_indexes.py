"""The indexes the insights read paths need, on tables other apps own.

They live here, with the queries that use them (`insights.selectors`,
`insights.payroll`), rather than in the owning models: they serve only these reads.

- `recognition_insights_idx` (tenant, created_at) INCLUDE (giver, receiver, points,
  funding source, group): every period figure is an index-only range scan of it.
- `recognition_receiver_idx` (tenant, receiver, created_at): a member's newest
  recognition received is one probe (members not recognised in 30/60/90 days).
- `ledger_insights_idx` (tenant, created_at) INCLUDE (wallet, source, entry type,
  amount): the payroll export sums a period of the ledger without its heap.

PostgreSQL builds them CONCURRENTLY (the migration is not atomic), so a live
ledger keeps taking awards while they build. SQLite (development, tests) has no
INCLUDE: it gets the receiver index only; its planner needs no more.
"""

from django.db import migrations

POSTGRES = [
    (
        "recognition_insights_idx",
        "recognitions (tenant_id, created_at) INCLUDE (giver_id, receiver_id, points, funding_source, group_id)",
    ),
    ("recognition_receiver_idx", "recognitions (tenant_id, receiver_id, created_at)"),
    ("ledger_insights_idx", "wallet_ledger (tenant_id, created_at) INCLUDE (wallet_id, source, entry_type, amount)"),
]
SQLITE = [("recognition_receiver_idx", "recognitions (tenant_id, receiver_id, created_at)")]


def create(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for name, target in POSTGRES if postgres else SQLITE:
        concurrently = "CONCURRENTLY " if postgres else ""
        schema_editor.execute(f"CREATE INDEX {concurrently}IF NOT EXISTS {name} ON {target}")


def drop(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    for name, _ in POSTGRES if postgres else SQLITE:
        concurrently = "CONCURRENTLY " if postgres else ""
        schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("recognition", "0005_peer_recognition"),
        ("wallets", "0003_drop_duplicate_indexes"),
    ]

    operations = [migrations.RunPython(create, drop)]
