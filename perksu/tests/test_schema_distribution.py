"""The schema is distributable by tenant (SPEC §14, docs/SCALING.md "Schema: what is distributable").

Read from PostgreSQL's catalog, not from the models, because the catalog is what Citus checks
when a table is distributed. For every table of a tenant-owned model (a model with a `tenant`
foreign key; `tenants` itself is the root, distributed by its `id`):

- its primary key includes the distribution column;
- every unique constraint and unique index (partial and expression ones too) includes it;
- every foreign key to another tenant-owned table goes through it on both sides, at the same
  position (`(tenant_id, x_id) → t (tenant_id, id)`; to `tenants`: `tenant_id → tenants (id)`);
- the distribution column is NOT NULL (Citus refuses a row without one).

Every model of the project is either tenant-owned or named in `NOT_TENANT_OWNED` with what it is
instead, so a new table without `tenant_id` fails here too. What is not distributable yet is in
`NOT_YET`, one line of reason each; an entry that no longer describes a violation fails the test,
so the list only shrinks.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection

from tenants.models import Tenant

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

# Models without a `tenant` column, and why that is right for each. Their foreign keys into `users`
# (keyed by `(tenant_id, id)`) have no database constraint: they cannot go through a tenant they lack
# (the schema editor's docstring; Django's console log `django_admin_log` is one more).
NO_USERS_CONSTRAINT = "user_id without a database constraint (users is keyed by tenant)"
NOT_TENANT_OWNED = {
    "authtoken.Token": f"DRF's token table, unused since identity.ApiToken (empty); {NO_USERS_CONSTRAINT}",
    "tenants.User_groups": f"Django's permission groups, unused; coordinator; {NO_USERS_CONSTRAINT}",
    "tenants.User_user_permissions": f"Django's per-user permissions, unused; coordinator; {NO_USERS_CONSTRAINT}",
    "django_tasks_database.DBTaskResult": "the task queue's own table; stays on the coordinator",
    "points.PlatformIdempotencyRecord": (
        f"platform staff's keyed requests (no tenant, keys span tenants); coordinator; {NO_USERS_CONSTRAINT}"
    ),
    "tenants.TenantSlug": "reference table: global slug uniqueness (tenant_id a plain column, no foreign key)",
    "wallets.VoucherCode": "reference table: global voucher code uniqueness (plain id columns, no foreign key)",
    "tenants.UserEmail": "reference table: the login e-mail unique across tenants (plain id columns, no foreign key)",
    "identity.TokenKey": "reference table: a token found by its hash before its tenant is known (no foreign key)",
}

# Primary keys not through tenant_id yet, by table.
PK_NOT_YET: dict[str, str] = {}

# Foreign keys to these tables stay single-column, for the reason given.
FK_TARGETS_NOT_YET: dict[str, str] = {}

# Tables whose tenant_id may be NULL (Citus refuses a NULL distribution column).
NULL_NOT_YET: dict[str, str] = {}

# Unique indexes and foreign keys not distributable yet: (kind, table, name) → reason.
NOT_YET: dict[tuple[str, str, str], str] = {}


def tenant_owned_tables() -> dict[str, str]:
    """{table: distribution column} for the root and every tenant-owned table."""
    tables = {Tenant._meta.db_table: "id"}
    for model in apps.get_models(include_auto_created=True):
        fields = {f.name: f for f in model._meta.concrete_fields}
        tenant = fields.get("tenant")
        if tenant is not None and tenant.is_relation and tenant.related_model is Tenant:
            tables[model._meta.db_table] = tenant.column
    return tables


def _catalog(tables: dict[str, str]):
    """Primary keys, unique indexes and foreign keys of `tables`, with column names resolved."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, i.relname, ix.indisprimary,
                   array(SELECT coalesce(a.attname, '<expression>')
                           FROM unnest(ix.indkey) WITH ORDINALITY k(attnum, n)
                           LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
                          ORDER BY k.n)
              FROM pg_index ix
              JOIN pg_class c ON c.oid = ix.indrelid
              JOIN pg_class i ON i.oid = ix.indexrelid
              JOIN pg_namespace ns ON ns.oid = c.relnamespace
             WHERE ns.nspname = current_schema() AND ix.indisunique AND c.relname = ANY(%s)
            """,
            [list(tables)],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            """
            SELECT c.relname, con.conname, r.relname,
                   array(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(attnum, n)
                           JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
                          ORDER BY k.n),
                   array(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(attnum, n)
                           JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
                          ORDER BY k.n)
              FROM pg_constraint con
              JOIN pg_class c ON c.oid = con.conrelid
              JOIN pg_class r ON r.oid = con.confrelid
              JOIN pg_namespace ns ON ns.oid = c.relnamespace
             WHERE ns.nspname = current_schema() AND con.contype = 'f' AND c.relname = ANY(%s)
            """,
            [list(tables)],
        )
        foreign_keys = cursor.fetchall()
        cursor.execute(
            """
            SELECT c.relname, a.attname
              FROM pg_attribute a
              JOIN pg_class c ON c.oid = a.attrelid
              JOIN pg_namespace ns ON ns.oid = c.relnamespace
             WHERE ns.nspname = current_schema() AND c.relname = ANY(%s) AND a.attnum > 0 AND NOT a.attnotnull
            """,
            [list(tables)],
        )
        nullable = set(cursor.fetchall())
    return indexes, foreign_keys, nullable


def distribution_violations() -> dict[tuple[str, str, str], str]:
    """Every primary key, unique index and foreign key that Citus would refuse, as
    (kind, table, name) → what is wrong."""
    tables = tenant_owned_tables()
    indexes, foreign_keys, nullable = _catalog(tables)
    found = {}
    for table, column in tables.items():
        if (table, column) in nullable:
            found[("null", table, column)] = f"{table}.{column} may be NULL"
    for table, name, primary, columns in indexes:
        if tables[table] not in columns:
            kind = "pk" if primary else "unique"
            found[(kind, table, name)] = f"{table} ({', '.join(columns)}) lacks {tables[table]}"
    for table, name, target, columns, target_columns in foreign_keys:
        if target not in tables:
            continue
        through = list(zip(columns, target_columns, strict=True))
        if (tables[table], tables[target]) not in through:
            found[("fk", table, name)] = (
                f"{table} ({', '.join(columns)}) → {target} ({', '.join(target_columns)}) "
                f"does not go through {tables[table]} → {target}.{tables[target]}"
            )
    return found


def _allowed(key: tuple[str, str, str]) -> bool:
    kind, table, _name = key
    return key in NOT_YET or (kind == "pk" and table in PK_NOT_YET) or (kind == "null" and table in NULL_NOT_YET)


def _allowed_fk(key: tuple[str, str, str], message: str) -> bool:
    return key[0] == "fk" and any(f"→ {target} (" in message for target in FK_TARGETS_NOT_YET)


def test_every_model_is_tenant_owned_or_says_why_not():
    owned = tenant_owned_tables()
    unexplained = sorted(
        model._meta.label
        for model in apps.get_models(include_auto_created=True)
        if model._meta.db_table not in owned
        and model._meta.label not in NOT_TENANT_OWNED
        and not model._meta.proxy
        and model._meta.managed
        and model._meta.app_label not in {"auth", "contenttypes", "sessions", "admin"}
    )
    assert unexplained == [], (
        f"tables without tenant_id (SPEC §14): add it, or say why in NOT_TENANT_OWNED: {unexplained}"
    )
    stale = sorted(label for label in NOT_TENANT_OWNED if apps.get_model(label)._meta.db_table in owned)
    assert stale == [], f"now tenant-owned, remove from NOT_TENANT_OWNED: {stale}"


def test_keys_uniques_and_foreign_keys_go_through_tenant_id():
    found = distribution_violations()
    refused = {k: v for k, v in found.items() if not _allowed(k) and not _allowed_fk(k, v)}
    assert refused == {}, "not distributable by tenant (SPEC §14):\n" + "\n".join(
        f"  {k}: {v}" for k, v in sorted(refused.items())
    )
    stale = sorted(set(NOT_YET) - set(found))
    assert stale == [], f"fixed: remove from NOT_YET {stale}"
    stale_pk = sorted(t for t in PK_NOT_YET if not any(k[:2] == ("pk", t) for k in found))
    assert stale_pk == [], f"fixed: remove from PK_NOT_YET {stale_pk}"
    stale_null = sorted(t for t in NULL_NOT_YET if not any(k[:2] == ("null", t) for k in found))
    assert stale_null == [], f"fixed: remove from NULL_NOT_YET {stale_null}"
    stale_fk = sorted(
        target
        for target in FK_TARGETS_NOT_YET
        if not any(f"→ {target} (" in v for k, v in found.items() if k[0] == "fk")
    )
    assert stale_fk == [], f"fixed: remove from FK_TARGETS_NOT_YET {stale_fk}"
