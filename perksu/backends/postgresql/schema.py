"""Tenant keys in the database: `(tenant_id, id)` primary keys and foreign keys through the tenant.

SPEC §14 and docs/SCALING.md §3: to distribute the schema by tenant (Citus), a tenant-owned
table's primary key must contain `tenant_id`, and a foreign key between two tenant-owned tables
must join on it too. On PostgreSQL this schema editor writes them so:

- a *tenant-keyed* model (below) gets `PRIMARY KEY (tenant_id, id)` and a plain index on `id`
  (Django still treats `id` as the model's key: `Wallet.objects.get(pk=…)` reads that index; a
  profile, keyed by its member, gets `(tenant_id, user_id)` the same way);
- a foreign key into a tenant-keyed table is `FOREIGN KEY (tenant_id, x_id) REFERENCES
  t (tenant_id, id)`, so the database itself refuses a row that points into another tenant, not
  only the services;
- every other key and foreign key is Django's, unchanged.

A model is tenant-keyed when it has a non-null `tenant` foreign key to `tenants.Tenant`, a
single-column primary key, and is not in `ID_KEYED`. `users` is one: every user row has a tenant
(platform staff: the platform's own).

Tables without a tenant: a foreign key into a tenant-keyed table from a table that has no
`tenant_id` cannot go through the tenant, and `id` alone is not unique there (only indexed), so
it is written without a database constraint; Django still writes, reads and deletes by it. The
tables so are those that point at `users` and stay on the coordinator: the console's log
(`django_admin_log`), Django's permission tables (`users_groups`, `users_user_permissions`),
DRF's old token table (`authtoken_token`, empty) and platform staff's idempotency records
(`platform_idempotency_records`); perksu/tests/test_tenant_keys.py lists them, so one more is
seen. A table given its `tenant` later (a migration that adds it) gets those constraints then,
through the tenant. A column of a tenant-owned table that may name a user of another tenant (a
platform admin's actions on a customer's rows) says so with `db_constraint=False` on its field
(docs/SCALING.md lists them).

Migrations often make a table first and give it its tenant later in the same migration (Django
adds relations after the tables), so nothing here is decided from the model as it stands when a
statement is queued:

- the tables a migration makes or gives a tenant are keyed at its end (`key_by_tenant`), before
  its queued foreign keys are written;
- a foreign key is written as `TenantForeignKey`, which reads the catalog when it runs: through
  the tenant if its target's key holds `tenant_id` by then, Django's single column otherwise;
- a table re- or unkeyed has the foreign keys into it written again, those of the registry's
  models and, migrating back (the registry then holds only the apps migrated before), those of
  tables it does not know, from the catalog;
- before a table's `tenant` is altered, the checks its rows left pending on the foreign keys
  through the tenant are run (PostgreSQL alters no table with checks pending).

`convert_to_tenant_keys` brings a database made before this editor to the same keys (perksu
migrations 0001 and 0002). SQLite keeps Django's single-column keys: it is the development default, and the
same models run on both.

Django keeps its bookkeeping by column: when a migration alters or removes a foreign key it looks
the constraint up by `[x_id]`; `_constraint_names` also answers with the composite
`[tenant_id, x_id]` constraint, so altering such a field drops and recreates the right one.
"""

from __future__ import annotations

from django.core.exceptions import FieldDoesNotExist
from django.db import NotSupportedError
from django.db.backends.ddl_references import Columns, Statement, Table
from django.db.backends.postgresql.schema import DatabaseSchemaEditor

TENANT_MODEL = "tenants.Tenant"
TENANT_COLUMN = "tenant_id"
FK_SUFFIX = "_fk_%(to_table)s_%(to_column)s"

# Tenant-owned models whose key stays `id` alone, and why.
ID_KEYED: set[str] = set()


def tenant_field(model):
    """The model's non-null `tenant` foreign key to the tenant, or None."""
    try:
        field = model._meta.get_field("tenant")
    except FieldDoesNotExist:
        return None
    if not (field.concrete and field.is_relation and field.related_model is not None):
        return None
    if field.related_model._meta.label != TENANT_MODEL or field.null or field.column != TENANT_COLUMN:
        return None
    return field


def is_tenant_keyed(model) -> bool:
    """Whether the model's table has `(tenant_id, id)` as its primary key on PostgreSQL."""
    meta = model._meta
    if meta.label in ID_KEYED or meta.proxy or not meta.managed:
        return False
    pk = meta.pk
    # A key that is the tenant itself, or already has several columns, is left as it is.
    return (
        pk is not None and getattr(pk, "column", None) not in (None, TENANT_COLUMN) and tenant_field(model) is not None
    )


class TenantForeignKey(Statement):
    """Django's foreign key statement, made composite through the tenant when it runs, if its
    target's primary key is `(tenant_id, <target column>)` in the database by then."""

    def __init__(self, editor, model, field, suffix):
        self.editor = editor
        super().__init__(
            editor.sql_create_fk,
            table=Table(model._meta.db_table, editor.quote_name),
            name=editor._fk_constraint_name(model, field, suffix),
            column=Columns(model._meta.db_table, [field.column], editor.quote_name),
            to_table=Table(field.target_field.model._meta.db_table, editor.quote_name),
            to_column=Columns(field.target_field.model._meta.db_table, [field.target_field.column], editor.quote_name),
            deferrable=editor.connection.ops.deferrable_sql(),
        )

    def __str__(self):
        table, to_table = self.parts["table"].table, self.parts["to_table"].table
        (column,), (to_column,) = self.parts["column"].columns, self.parts["to_column"].columns
        if self.editor.primary_key_columns(to_table) != [TENANT_COLUMN, to_column]:
            return super().__str__()
        if TENANT_COLUMN not in self.editor.table_columns(table):
            return ""  # no constraint: see "Tables without a tenant" in the module docstring
        quote = self.editor.quote_name
        return self.template % {
            **self.parts,
            "column": Columns(table, [TENANT_COLUMN, column], quote),
            "to_column": Columns(to_table, [TENANT_COLUMN, to_column], quote),
        }


class TenantKeysSchemaEditor(DatabaseSchemaEditor):
    # With no inline form, add_field queues its foreign key through _create_fk_sql below.
    sql_create_column_inline_fk = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._touched: dict[str, object] = {}
        self._given_tenant: dict[str, object] = {}

    # --- the catalog, as the statements run ---------------------------------------------------

    def table_constraints(self, table: str) -> dict:
        with self.connection.cursor() as cursor:
            return self.connection.introspection.get_constraints(cursor, table)

    def primary_key_columns(self, table: str) -> list[str]:
        return next((c["columns"] for c in self.table_constraints(table).values() if c["primary_key"]), [])

    def table_columns(self, table: str) -> set[str]:
        with self.connection.cursor() as cursor:
            return {c.name for c in self.connection.introspection.get_table_description(cursor, table)}

    def execute(self, sql, params=()):
        if isinstance(sql, TenantForeignKey):
            sql = str(sql)
            if not sql:  # a foreign key written without a constraint (the module docstring)
                return None
        return super().execute(sql, params)

    # --- primary keys ------------------------------------------------------------------------

    def _iter_column_sql(self, column_db_type, params, model, field, *args, **kwargs):
        parts = super()._iter_column_sql(column_db_type, params, model, field, *args, **kwargs)
        if field.primary_key and is_tenant_keyed(model):
            parts = (part for part in parts if part != "PRIMARY KEY")
        yield from parts

    def table_sql(self, model):
        sql, params = super().table_sql(model)
        if is_tenant_keyed(model):
            assert sql.endswith(")"), sql
            sql = f"{sql[:-1]}, {self._tenant_pk_constraint(model)})"
            self.deferred_sql.append(self._id_index_sql(model))
        return sql, params

    def _tenant_pk_constraint(self, model) -> str:
        # PostgreSQL's own name for an inline primary key, so both kinds read the same.
        return "CONSTRAINT {} PRIMARY KEY ({}, {})".format(
            self.quote_name(f"{model._meta.db_table}_pkey"),
            self.quote_name(TENANT_COLUMN),
            self.quote_name(model._meta.pk.column),
        )

    def _id_index_sql(self, model) -> Statement:
        return self._create_index_sql(model, fields=[model._meta.pk], suffix="_by_id")

    # --- foreign keys ------------------------------------------------------------------------

    def _create_fk_sql(self, model, field, suffix):
        return TenantForeignKey(self, model, field, suffix)

    def _constraint_names(self, model, column_names=None, *args, foreign_key=None, **kwargs):
        names = super()._constraint_names(model, column_names, *args, foreign_key=foreign_key, **kwargs)
        if foreign_key and column_names and len(column_names) == 1 and column_names[0] != TENANT_COLUMN:
            names += super()._constraint_names(
                model, [TENANT_COLUMN, column_names[0]], *args, foreign_key=foreign_key, **kwargs
            )
        return names

    # --- tables keyed at the end of their migration ---------------------------------------------

    def create_model(self, model):
        super().create_model(model)
        self._touched[model._meta.label_lower] = model

    def add_field(self, model, field):
        super().add_field(model, field)
        # `field.model` is the model with the field; `model` the one before it.
        self._touched[field.model._meta.label_lower] = field.model
        if field.name == "tenant":
            self._given_tenant[field.model._meta.label_lower] = field.model

    def alter_field(self, model, old_field, new_field, strict=False):
        if new_field.name == "tenant":
            self._check_tenant_foreign_keys_now(model)
        if new_field.name == "tenant" and new_field.null and not old_field.null:
            # A key column cannot become nullable: back to the one-column key first.
            self.key_by_id(model._meta.apps, [model])
        super().alter_field(model, old_field, new_field, strict)
        self._touched[new_field.model._meta.label_lower] = new_field.model
        if new_field.name == "tenant":
            self._given_tenant[new_field.model._meta.label_lower] = new_field.model

    def _check_tenant_foreign_keys_now(self, model) -> None:
        """Run now the checks that rows written earlier in the migration left pending on the table's
        foreign keys through the tenant: writing `tenant_id` (a migration filling it in) queues one
        per foreign key holding it, and PostgreSQL alters no table with checks pending. (Django does
        this for the one foreign key it drops; through the tenant, writing one column queues them all.)"""
        names = sorted(
            name
            for name, c in self.table_constraints(model._meta.db_table).items()
            if c["foreign_key"] and TENANT_COLUMN in c["columns"] and len(c["columns"]) > 1
        )
        if names:
            self.execute(f"SET CONSTRAINTS {', '.join(map(self.quote_name, names))} IMMEDIATE")

    def remove_field(self, model, field):
        if field.name == "tenant":
            # Dropping the column would drop the key with it, and every foreign key into it.
            self.key_by_id(model._meta.apps, [model])
        super().remove_field(model, field)

    def __exit__(self, exc_type, exc_value, traceback):
        if exc_type is None and self._touched:
            models = [m for m in self._touched.values() if m._meta.app_label != "migrations"]
            if models:
                self.key_by_tenant(models[-1]._meta.apps, models)
                self._constrain_through_tenant(models[-1]._meta.apps, list(self._given_tenant.values()))
        self._touched, self._given_tenant = {}, {}
        return super().__exit__(exc_type, exc_value, traceback)

    def _constrain_through_tenant(self, apps, models) -> None:
        """Each of `models`, whose table got its `tenant` in this migration, gets the constraints
        that its foreign keys into tenant-keyed tables could not have without it (`TenantForeignKey`
        wrote them with none), through the tenant."""
        queued = {str(s.parts["name"]) for s in self.deferred_sql if isinstance(s, TenantForeignKey)}
        existing = set(self.connection.introspection.table_names())
        for model in models:
            try:
                model = apps.get_model(model._meta.label)
            except LookupError:
                continue
            table = model._meta.db_table
            if table not in existing or TENANT_COLUMN not in self.table_columns(table):
                continue
            for field in model._meta.local_fields:
                if not (field.concrete and field.remote_field and field.db_constraint):
                    continue
                to_table, to_column = field.target_field.model._meta.db_table, field.target_field.column
                if to_table not in existing or self.primary_key_columns(to_table) != [TENANT_COLUMN, to_column]:
                    continue
                statement = self._create_fk_sql(model, field, FK_SUFFIX)
                if str(statement.parts["name"]) in queued:
                    continue
                if not self._constraint_names(model, [field.column], foreign_key=True):
                    self.execute(statement)

    def key_by_tenant(self, apps, models) -> list[str]:
        """Swap the primary key of each tenant-keyed model of `models` whose key lacks
        `tenant_id` for `(tenant_id, id)`, with an index on `id`. The foreign keys into those
        tables are dropped first (a key cannot be replaced while one depends on it) and written
        again, through the tenant. `apps` is the registry the models' migration left; a model is
        taken from it by label. Returns the tables changed."""
        latest = []
        for model in models:
            try:
                latest.append(apps.get_model(model._meta.label))
            except LookupError:  # not one of the registry's apps (Django's migration recorder)
                continue
        existing = set(self.connection.introspection.table_names())
        to_key = [
            m
            for m in latest
            if is_tenant_keyed(m)
            and m._meta.db_table in existing
            and self.primary_key_columns(m._meta.db_table) != [TENANT_COLUMN, m._meta.pk.column]
        ]
        return self._rekey(apps, to_key, by_tenant=True)

    def key_by_id(self, apps, models) -> list[str]:
        """The way back, for a migration that takes a table's tenant away or makes it nullable:
        each of `models` whose key is `(tenant_id, pk)` gets its one-column key again, and the
        foreign keys into it are written again without the tenant."""
        to_unkey = [
            m
            for m in models
            if m._meta.pk is not None
            and getattr(m._meta.pk, "column", None)
            and self.primary_key_columns(m._meta.db_table) == [TENANT_COLUMN, m._meta.pk.column]
        ]
        return self._rekey(apps, to_unkey, by_tenant=False)

    def _rekey(self, apps, models, *, by_tenant: bool) -> list[str]:
        if not models:
            return []
        tables = [m._meta.db_table for m in models]
        existing = set(self.connection.introspection.table_names())
        fields = [
            (m, f)
            for m in apps.get_models(include_auto_created=True)
            if m._meta.db_table in existing
            for f in m._meta.local_fields
            if f.concrete and f.remote_field and f.db_constraint and f.target_field.model._meta.db_table in tables
        ]
        for model, field in fields:
            for name in self._constraint_names(model, [field.column], foreign_key=True):
                self.execute(self._delete_fk_sql(model, name))
        # Foreign keys of tables that `apps` does not know (migrating back, the registry holds the
        # apps migrated before this one; later apps' tables may still be there): from the catalog.
        known = {m._meta.db_table for m in apps.get_models(include_auto_created=True)}
        strays = self._foreign_keys_into(tables, known)
        for name, table, _column, _to_table, _to_column in strays:
            self.execute(self.sql_delete_fk % {"table": self.quote_name(table), "name": self.quote_name(name)})
        for model in models:
            table = self.quote_name(model._meta.db_table)
            for name in super()._constraint_names(model, primary_key=True):
                self.execute(f"ALTER TABLE {table} DROP CONSTRAINT {self.quote_name(name)}")
            if by_tenant:
                self.execute(f"ALTER TABLE {table} ADD {self._tenant_pk_constraint(model)}")
                index = str(self._id_index_sql(model))
                self.execute(index.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1))
            else:
                name = self.quote_name(f"{model._meta.db_table}_pkey")
                self.execute(
                    f"ALTER TABLE {table} ADD CONSTRAINT {name} PRIMARY KEY ({self.quote_name(model._meta.pk.column)})"
                )
                self.execute(self._delete_index_sql(model, str(self._id_index_sql(model).parts["name"]).strip('"')))
        # A foreign key of a table the migration has yet to finish is written at its end.
        queued = {str(s.parts["name"]) for s in self.deferred_sql if isinstance(s, TenantForeignKey)}
        for model, field in fields:
            statement = self._create_fk_sql(model, field, FK_SUFFIX)
            if str(statement.parts["name"]) not in queued:
                self.execute(statement)
        for name, table, column, to_table, to_column in strays:
            columns, to_columns = [column], [to_column]
            if by_tenant:
                if TENANT_COLUMN not in self.table_columns(table):
                    continue  # no constraint: see "Tables without a tenant" in the module docstring
                columns, to_columns = [TENANT_COLUMN, column], [TENANT_COLUMN, to_column]
            self.execute(
                self.sql_create_fk
                % {
                    "table": self.quote_name(table),
                    "name": self.quote_name(name),
                    "column": ", ".join(map(self.quote_name, columns)),
                    "to_table": self.quote_name(to_table),
                    "to_column": ", ".join(map(self.quote_name, to_columns)),
                    "deferrable": self.connection.ops.deferrable_sql(),
                }
            )
        return sorted(tables)

    def _foreign_keys_into(self, tables: list[str], known: set[str]) -> list[tuple[str, str, str, str, str]]:
        """(name, table, column, target table, target column) of each foreign key into `tables`
        from a table not in `known`, the pair of `tenant_id` columns left out."""
        with self.connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT con.conname, c.relname, r.relname,
                       array(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
                               JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i),
                       array(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
                               JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i)
                  FROM pg_constraint con
                  JOIN pg_class c ON c.oid = con.conrelid
                  JOIN pg_class r ON r.oid = con.confrelid
                 WHERE con.contype = 'f' AND pg_catalog.pg_table_is_visible(c.oid)
                   AND con.confrelid IN (SELECT to_regclass(quote_ident(t)) FROM unnest(%s::text[]) t)
                """,
                [tables],
            )
            rows = cursor.fetchall()
        found = []
        for name, table, to_table, columns, to_columns in rows:
            if table in known:
                continue
            pairs = [p for p in zip(columns, to_columns, strict=True) if p != (TENANT_COLUMN, TENANT_COLUMN)]
            if len(pairs) != 1:
                raise NotSupportedError(
                    f"{table}.{name} → {to_table} ({', '.join(to_columns)}): not a foreign key to rekey"
                )
            found.append((name, table, pairs[0][0], to_table, pairs[0][1]))
        return found


def convert_to_tenant_keys(schema_editor, apps) -> list[str]:
    """Bring a database made before this editor to the tenant keys: every tenant-keyed model of
    `apps` whose key lacks `tenant_id`, and the foreign keys into it. What is already right is
    left alone, so this can run again. Returns the tables changed. PostgreSQL only."""
    if schema_editor.connection.vendor != "postgresql":
        return []
    assert isinstance(schema_editor, TenantKeysSchemaEditor), "settings must use perksu.backends.postgresql"
    return schema_editor.key_by_tenant(apps, apps.get_models(include_auto_created=True))
