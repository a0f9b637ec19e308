"""The PostgreSQL schema editor's tenant keys (perksu/backends/postgresql/schema.py).

- The database itself refuses a row that points into another tenant's rows.
- A database made before the editor, converted by `convert_to_tenant_keys`, ends with exactly the
  keys a fresh migrate writes (built side by side in a scratch schema with Django's stock editor).
- Django's later migrations of such a foreign key find the composite constraint.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, models, transaction
from django.db.backends.postgresql.schema import DatabaseSchemaEditor

from people.models import Profile, Team
from perksu.backends.postgresql.schema import (
    TenantKeysSchemaEditor,
    convert_to_tenant_keys,
    is_tenant_keyed,
)
from tenants.models import User
from tenants.tests.factories import TenantFactory, UserFactory
from wallets.models import Wallet

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SCRATCH = "perksu_keys_scratch"


def _constraints(schema: str, tables: list[str]) -> dict[tuple[str, str], str]:
    """Every constraint and index of `tables` in `schema`, by (table, name), as PostgreSQL writes it."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, con.conname, pg_get_constraintdef(con.oid)
              FROM pg_constraint con
              JOIN pg_class c ON c.oid = con.conrelid
              JOIN pg_namespace ns ON ns.oid = c.relnamespace
             WHERE ns.nspname = %s AND c.relname = ANY(%s)
            UNION ALL
            SELECT tablename, 'index ' || indexname, indexdef
              FROM pg_indexes WHERE schemaname = %s AND tablename = ANY(%s)
            """,
            [schema, tables, schema, tables],
        )
        return {(table, name): definition.replace(f"{schema}.", "") for table, name, definition in cursor.fetchall()}


def _immediately():
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_the_models_that_are_keyed_by_tenant():
    assert is_tenant_keyed(Wallet) and is_tenant_keyed(Team) and is_tenant_keyed(Profile)
    assert not is_tenant_keyed(User)  # ID_KEYED: see the schema editor's docstring
    assert not is_tenant_keyed(apps.get_model("tenants", "Tenant"))
    assert not is_tenant_keyed(apps.get_model("insights", "RollupDay"))  # its key starts with the tenant already


def test_the_keys_in_the_database():
    keys = _constraints("public", ["wallets", "profiles", "teams", "wallet_ledger"])
    assert keys["wallets", "wallets_pkey"] == "PRIMARY KEY (tenant_id, id)"
    assert keys["profiles", "profiles_pkey"] == "PRIMARY KEY (tenant_id, user_id)"
    ledger_wallet = next(v for (t, n), v in keys.items() if t == "wallet_ledger" and "wallet_id" in n and "fk" in n)
    assert ledger_wallet.startswith("FOREIGN KEY (tenant_id, wallet_id) REFERENCES wallets(tenant_id, id)")
    parent = next(v for (t, n), v in keys.items() if t == "teams" and "parent_id" in n)
    assert parent.startswith("FOREIGN KEY (tenant_id, parent_id) REFERENCES teams(tenant_id, id)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'wallets' AND indexname LIKE '%%by_id'")
        assert [d.split(" USING ")[1] for (d,) in cursor.fetchall()] == ["btree (id)"]


def test_a_row_pointing_into_another_tenant_is_refused_by_the_database():
    mine, theirs = TenantFactory(), TenantFactory()
    their_team = Team.objects.create(tenant=theirs, name="Theirs")
    my_team = Team.objects.create(tenant=mine, name="Mine")
    with transaction.atomic():
        Team.objects.create(tenant=mine, name="Child", parent=my_team)
        _immediately()  # the same tenant: accepted
    with pytest.raises(IntegrityError, match="teams_parent_id"), transaction.atomic():
        Team.objects.create(tenant=mine, name="Stray", parent=their_team)
        _immediately()
    member = UserFactory(tenant=mine)
    with pytest.raises(IntegrityError, match="profiles_team_id"), transaction.atomic():
        Profile.objects.filter(user=member).delete()
        Profile.objects.create(user=member, tenant=mine, team=their_team)
        _immediately()
    assert not Team.objects.filter(name="Stray").exists()


@pytest.fixture
def scratch_schema():
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA {SCRATCH}")
        cursor.execute(f"SET LOCAL search_path TO {SCRATCH}, public")
    yield SCRATCH
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL search_path TO public")
        cursor.execute(f"DROP SCHEMA {SCRATCH} CASCADE")


def test_an_older_database_converts_to_what_a_fresh_migrate_writes(scratch_schema):
    """Teams and profiles are made in a scratch schema by Django's stock editor (id keys,
    single-column foreign keys), then converted; they must end like the project's own."""
    tables = [Team._meta.db_table, Profile._meta.db_table]
    stock = DatabaseSchemaEditor(connection, atomic=False)
    with stock:
        stock.create_model(Team)
        stock.create_model(Profile)
    before = _constraints(scratch_schema, tables)
    assert before["teams", "teams_pkey"] == "PRIMARY KEY (id)"
    assert before["profiles", "profiles_pkey"] == "PRIMARY KEY (user_id)"

    editor = TenantKeysSchemaEditor(connection, atomic=False)
    with editor:
        assert editor.key_by_tenant(apps, [Team, Profile]) == ["profiles", "teams"]
    assert _constraints(scratch_schema, tables) == _constraints("public", tables)
    with editor:
        assert editor.key_by_tenant(apps, [Team, Profile]) == []  # nothing left to change


def test_altering_a_foreign_key_finds_the_composite_constraint(scratch_schema):
    editor = TenantKeysSchemaEditor(connection, atomic=False)
    with editor:
        editor.create_model(Team)
        editor.create_model(Profile)
    name = next(n for (t, n) in _constraints(scratch_schema, ["profiles"]) if "team_id" in n and "fk" in n)
    team = Profile._meta.get_field("team")
    unconstrained = models.ForeignKey(
        Team, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False, db_constraint=False
    )
    unconstrained.set_attributes_from_name("team")
    unconstrained.model = Profile
    with editor:
        editor.alter_field(Profile, team, unconstrained)
    assert ("profiles", name) not in _constraints(scratch_schema, ["profiles"])
    with editor:
        editor.alter_field(Profile, unconstrained, team)
    assert _constraints(scratch_schema, ["profiles"])["profiles", name].startswith(
        "FOREIGN KEY (tenant_id, team_id) REFERENCES teams(tenant_id, id)"
    )


def test_converting_the_project_database_again_changes_nothing():
    with connection.schema_editor() as editor:
        assert convert_to_tenant_keys(editor, apps) == []
