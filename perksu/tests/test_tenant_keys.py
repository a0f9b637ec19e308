"""The PostgreSQL schema editor's tenant keys (perksu/backends/postgresql/schema.py).

- The database itself refuses a row that points into another tenant's rows.
- A database made before the editor, converted by `convert_to_tenant_keys`, ends with exactly the
  keys a fresh migrate writes (built side by side in a scratch schema with Django's stock editor).
- Django's later migrations of such a foreign key find the composite constraint.
- A foreign key into a tenant-keyed table from a table without a tenant has no constraint (these
  are listed here), and gets one through the tenant when its table is given a tenant.
- The columns that may name a platform admin on a customer's row have no constraint either
  (`db_constraint=False`, listed here and in docs/SCALING.md); every other one into `users` does.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import IntegrityError, InternalError, connection, models, transaction
from django.db.backends.postgresql.schema import DatabaseSchemaEditor
from django.db.migrations.loader import MigrationLoader

from identity.services import scim_token_create
from people.models import Profile, Team
from perksu import citus
from perksu.backends.postgresql.schema import (
    TenantKeysSchemaEditor,
    convert_to_tenant_keys,
    is_tenant_keyed,
)
from points.services import tenant_allocate
from recognition.models import Recognition
from tenants.models import PLATFORM_TENANT_ID, User
from tenants.services import tenant_settings_update
from tenants.tests.factories import PlatformAdminFactory, TenantFactory, UserFactory
from wallets.models import Wallet

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SCRATCH = "perksu_keys_scratch"

# Tables without tenant_id whose foreign keys into `users` have no constraint (the schema
# editor's docstring): Django's and DRF's tables, and platform staff's idempotency records.
NO_TENANT_INTO_USERS = {
    "admin.LogEntry.user",
    "authtoken.Token.user",
    "points.PlatformIdempotencyRecord.user",
    "tenants.User_groups.user",
    "tenants.User_user_permissions.user",
}

# Columns of tenant-owned tables that may name a platform admin, whose row is in the platform's
# tenant: `db_constraint=False` (docs/SCALING.md, "Schema: what is distributable").
MAY_NAME_STAFF = {
    "identity.ScimToken.created_by",
    "points.AllocationLog.actor",
    "points.PlatformBillingLog.admin",
    "tenants.SettingsChangeLog.actor",
}


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


def _refused(constraint: str):
    """The database refusing a row that points into another tenant. On one server: an IntegrityError naming the
    key, at `SET CONSTRAINTS ALL IMMEDIATE`. On Citus the shard's key is checked on its worker at commit:
    a transaction on several shards (two-phase) gets the worker's IntegrityError naming the key; one on a
    single shard gets the coordinator's InternalError "could not commit transaction for shard …", without
    the key's name (the worker logs it; docs/SCALING.md 3.4)."""
    if citus.worker_urls():
        return pytest.raises((IntegrityError, InternalError), match=f"{constraint}|could not commit transaction")
    return pytest.raises(IntegrityError, match=constraint)


def _immediately():
    """Check the deferred foreign keys now (plain PostgreSQL). A Citus coordinator does not pass SET CONSTRAINTS
    on to the workers, where the shards' keys are checked at commit: so the tests that expect a refusal commit
    (`transaction=True`), and see it at the latest when their block commits."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def test_the_models_that_are_keyed_by_tenant():
    assert is_tenant_keyed(Wallet) and is_tenant_keyed(Team) and is_tenant_keyed(Profile)
    assert is_tenant_keyed(User)  # staff's rows are in the platform's own tenant
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
    users = _constraints("public", ["users", "recognitions"])
    assert users["users", "users_pkey"] == "PRIMARY KEY (tenant_id, id)"
    receiver = next(v for (t, n), v in users.items() if t == "recognitions" and "receiver_id" in n and "fk" in n)
    assert receiver.startswith("FOREIGN KEY (tenant_id, receiver_id) REFERENCES users(tenant_id, id)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'wallets' AND indexname LIKE '%%by_id'")
        assert [d.split(" USING ")[1] for (d,) in cursor.fetchall()] == ["btree (id)"]


@pytest.mark.django_db(transaction=True)
def test_a_row_pointing_into_another_tenant_is_refused_by_the_database():
    mine, theirs = TenantFactory(), TenantFactory()
    their_team = Team.objects.create(tenant=theirs, name="Theirs")
    my_team = Team.objects.create(tenant=mine, name="Mine")
    with transaction.atomic():
        Team.objects.create(tenant=mine, name="Child", parent=my_team)
        _immediately()  # the same tenant: accepted
    with _refused("teams_parent_id"), transaction.atomic():
        Team.objects.create(tenant=mine, name="Stray", parent=their_team)
        _immediately()
    member = UserFactory(tenant=mine)
    with _refused("profiles_team_id"), transaction.atomic():
        Profile.objects.filter(user=member).delete()
        Profile.objects.create(user=member, tenant=mine, team=their_team)
        _immediately()
    assert not Team.objects.filter(name="Stray").exists()


def _foreign_keys_into_users() -> dict[str, tuple[bool, list[list[str]]]]:
    """{model field into users, as label: (whether the field asks for a constraint, the columns of
    each foreign key constraint on its column)}."""
    found = {}
    with connection.cursor() as cursor:
        for model in apps.get_models(include_auto_created=True):
            for field in model._meta.local_fields:
                if field.concrete and field.remote_field and field.related_model is User:
                    constraints = connection.introspection.get_constraints(cursor, model._meta.db_table).values()
                    held = [c["columns"] for c in constraints if c["foreign_key"] and field.column in c["columns"]]
                    found[f"{model._meta.label}.{field.name}"] = (field.db_constraint, held)
    return found


def test_every_foreign_key_into_users_goes_through_the_tenant_or_is_listed():
    found = _foreign_keys_into_users()
    through_tenant = {
        label for label, (_, held) in found.items() if held == [["tenant_id", label.split(".")[-1] + "_id"]]
    }
    assert set(found) - through_tenant == NO_TENANT_INTO_USERS | MAY_NAME_STAFF
    assert {label for label, (_, held) in found.items() if not held} == NO_TENANT_INTO_USERS | MAY_NAME_STAFF
    assert {label for label, (wanted, _) in found.items() if not wanted} == MAY_NAME_STAFF
    no_tenant = {
        label
        for label in found
        if "tenant_id" not in {f.column for f in apps.get_model(label.rsplit(".", 1)[0])._meta.local_fields}
    }
    assert no_tenant == NO_TENANT_INTO_USERS


@pytest.mark.django_db(transaction=True)
def test_a_row_naming_a_user_of_another_tenant_is_refused_by_the_database():
    mine, theirs = TenantFactory(), TenantFactory()
    giver, stranger = UserFactory(tenant=mine), UserFactory(tenant=theirs)
    with _refused("recognitions_receiver_id"), transaction.atomic():
        Recognition.objects.create(tenant=mine, giver=giver, receiver=stranger, message="Thanks", funding_source="NONE")
        _immediately()
    assert not Recognition.objects.filter(receiver=stranger).exists()


def test_a_platform_admins_rows_on_a_customer_are_accepted_by_the_database():
    admin, customer = PlatformAdminFactory(), TenantFactory()
    assert admin.tenant_id == PLATFORM_TENANT_ID
    with transaction.atomic():
        result = tenant_allocate(actor=admin, tenant_id=customer.pk, amount=500, reference_note="Invoice 1")
        (change,) = tenant_settings_update(actor=admin, tenant=customer, changes={"allowance_employee": 50})
        token, _secret = scim_token_create(tenant=customer, name="Okta", actor=admin)
        _immediately()
    assert (
        result.allocation_log.actor_id
        == result.billing_log.admin_id
        == change.actor_id
        == token.created_by_id
        == admin.pk
    )
    assert result.allocation_log.tenant_id == customer.pk != admin.tenant_id


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
    """Users (with Django's permission tables), teams and profiles are made in a scratch schema by
    Django's stock editor (id keys, single-column foreign keys), then converted; they must end
    like the project's own. (The public tables' foreign keys into `users` are written again too,
    at the scratch `users` first on the search path, inside the test's transaction.)"""
    tables = ["users", "users_groups", "users_user_permissions", Team._meta.db_table, Profile._meta.db_table]
    stock = DatabaseSchemaEditor(connection, atomic=False)
    with stock:
        stock.create_model(User)
        stock.create_model(Team)
        stock.create_model(Profile)
    before = _constraints(scratch_schema, tables)
    assert before["users", "users_pkey"] == "PRIMARY KEY (id)"
    assert before["teams", "teams_pkey"] == "PRIMARY KEY (id)"
    assert before["profiles", "profiles_pkey"] == "PRIMARY KEY (user_id)"
    assert any(t == "users_groups" and "REFERENCES users(id)" in v for (t, _n), v in before.items())

    editor = TenantKeysSchemaEditor(connection, atomic=False)
    with editor:
        assert editor.key_by_tenant(apps, [User, Team, Profile]) == ["profiles", "teams", "users"]
    assert _constraints(scratch_schema, tables) == _constraints("public", tables)
    with editor:
        assert editor.key_by_tenant(apps, [User, Team, Profile]) == []  # nothing left to change


def test_a_table_given_its_tenant_gets_its_foreign_keys_into_users_through_it(scratch_schema):
    """Idempotency records had no tenant before points/0006: made as they were then, their
    `user_id` has no constraint (users is keyed); given their tenant, it goes through it."""
    loader = MigrationLoader(connection)
    before = loader.project_state(("points", "0005_idempotency_claim_backend"))
    after = loader.project_state(("points", "0006_idempotency_tenant"))
    (add_tenant,) = [
        op
        for op in loader.get_migration("points", "0006_idempotency_tenant").operations
        if getattr(op, "model_name", "") == "idempotencyrecord" and op.name == "tenant"
    ]
    editor = TenantKeysSchemaEditor(connection, atomic=False)
    with editor:
        editor.create_model(before.apps.get_model("points", "IdempotencyRecord"))
    foreign_keys = {
        n: v for (t, n), v in _constraints(scratch_schema, ["idempotency_records"]).items() if "FOREIGN" in v
    }
    assert foreign_keys == {}
    with editor:
        add_tenant.database_forwards("points", editor, before, after)
    foreign_keys = {
        n: v for (t, n), v in _constraints(scratch_schema, ["idempotency_records"]).items() if "FOREIGN" in v
    }
    assert sorted(v.split(" DEFERRABLE")[0] for v in foreign_keys.values()) == [
        "FOREIGN KEY (tenant_id) REFERENCES tenants(id)",
        "FOREIGN KEY (tenant_id, user_id) REFERENCES users(tenant_id, id)",
    ]


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
