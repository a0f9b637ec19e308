"""TenantForeignKey: joins along a foreign key between two of a tenant's rows match the tenant too
(tenants/fields.py), so Citus can run them on one worker; the rows found are the same."""

import re

import pytest
from django.apps import apps
from django.db.models import Exists, OuterRef

from perksu.backends.postgresql.schema import is_tenant_keyed, tenant_field
from points.models import AllocationLog
from points.services import tenant_allocate
from recognition.models import Recognition
from recognition.services import recognition_create
from tenants.fields import TenantJoin, TenantRow
from tenants.models import PLATFORM_TENANT_ID, User
from wallets.models import Wallet, WalletLedger

pytestmark = pytest.mark.django_db


def _joins_on_tenant(queryset, table: str, other: str) -> bool:
    sql = re.sub(r"[()]", "", str(queryset.query))
    return f'"{table}"."tenant_id" = "{other}"."tenant_id"' in sql or (
        f'"{other}"."tenant_id" = "{table}"."tenant_id"' in sql
    )


def test_every_foreign_key_between_two_tenant_keyed_tables_joins_on_the_tenant():
    """The fields whose database key goes through the tenant on PostgreSQL are the ones whose
    joins do: a new one declared as a plain ForeignKey fails here."""
    plain = sorted(
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.local_fields
        if field.is_relation
        and field.concrete
        and field.name != "tenant"
        and field.db_constraint
        and tenant_field(model) is not None
        and is_tenant_keyed(field.related_model)
        and not isinstance(field, TenantJoin)
    )
    assert plain == [], f"declare these with tenants.fields.TenantForeignKey: {plain}"


def test_joins_to_members_match_the_tenant_and_a_platform_admins_column_does_not(
    funded_tenant, manager, employee, platform_admin
):
    recognition_create(giver=manager, recipient_ids=[employee.pk], points=10, message="Thanks")
    received = Recognition.objects.select_related("receiver").filter(tenant=funded_tenant)
    assert _joins_on_tenant(received, "users", "recognitions")
    assert [r.receiver for r in received] == [employee]
    given = User.objects.filter(recognitions_received__points=10)
    assert _joins_on_tenant(given, "users", "recognitions")
    assert list(given) == [employee]
    # An allocation's actor is a platform admin, in the platform's tenant: a join along that column keeps to
    # the id (the SQL only: on Citus such a join crosses tenants and is refused), so the code reads it apart.
    tenant_allocate(actor=platform_admin, tenant_id=funded_tenant.pk, amount=5, reference_note="Top-up")
    joined = AllocationLog.objects.select_related("actor").filter(tenant=funded_tenant, amount=5)
    assert not _joins_on_tenant(joined, "users", "allocation_logs")
    logs = AllocationLog.objects.prefetch_related("actor").filter(tenant=funded_tenant, amount=5)
    assert [(log.actor, log.actor.tenant_id) for log in logs] == [(platform_admin, PLATFORM_TENANT_ID)]


def test_joins_both_ways_match_the_tenant_and_find_the_same_rows(funded_tenant, manager, employee, other_employee):
    recognition_create(giver=manager, recipient_ids=[employee.pk, other_employee.pk], points=10, message="Thanks")
    forward = WalletLedger.objects.filter(wallet__user=employee)
    assert _joins_on_tenant(forward, "wallets", "wallet_ledger")
    assert [e.amount for e in forward] == [10]
    selected = WalletLedger.objects.select_related("wallet").filter(tenant=funded_tenant)
    assert _joins_on_tenant(selected, "wallets", "wallet_ledger")
    assert sorted(e.wallet.user_id for e in selected) == sorted([employee.pk, other_employee.pk])
    backward = Wallet.objects.filter(entries__amount=10, tenant=funded_tenant)
    assert _joins_on_tenant(backward, "wallets", "wallet_ledger")
    assert sorted(w.user_id for w in backward) == sorted([employee.pk, other_employee.pk])
    # The same question as a subquery that names the tenant: what code asks when it needs "has none".
    has_one = Exists(WalletLedger.objects.filter(tenant=OuterRef("tenant"), wallet=OuterRef("pk"), amount=10))
    everyone = set(Wallet.objects.filter(tenant=funded_tenant))
    assert set(Wallet.objects.filter(tenant=funded_tenant).exclude(has_one)) == everyone - set(backward)


def test_an_exclude_across_the_relation_is_right_on_one_server(funded_tenant, manager, employee, other_employee):
    """exclude() across a relation is a subquery Django builds from one side, correlated by the id alone
    (TenantJoin cannot add the tenant to it): the rows are right, and on Citus it is refused (conftest)."""
    recognition_create(giver=manager, recipient_ids=[employee.pk], points=10, message="Thanks")
    everyone = set(Wallet.objects.filter(tenant=funded_tenant))
    paid = set(Wallet.objects.filter(tenant=funded_tenant, entries__amount=10))
    assert set(Wallet.objects.filter(tenant=funded_tenant).exclude(entries__amount=10)) == everyone - paid


def test_in_migrations_it_is_a_plain_foreign_key():
    field = WalletLedger._meta.get_field("wallet")
    assert field.deconstruct()[1] == "django.db.models.ForeignKey"


def test_every_tenant_owned_model_keyed_by_one_column_saves_through_its_tenant():
    """A new tenant-owned model without `TenantRow` fails here (its saves would update by id alone)."""
    missing = sorted(
        model._meta.label
        for model in apps.get_models()
        if tenant_field(model) is not None
        and model._meta.pk.name != "tenant"
        and len(getattr(model._meta.pk, "fields", [model._meta.pk])) == 1
        and not issubclass(model, TenantRow)
    )
    assert missing == [], f"add tenants.fields.TenantRow to these models: {missing}"


def test_a_save_updates_by_tenant_and_id_and_never_sets_the_tenant(tenant, manager):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from webhooks.models import WebhookEndpoint

    endpoint = WebhookEndpoint.objects.create(tenant=tenant, url="https://hooks.example.test/a", created_by=manager)
    endpoint.description = "Renamed"
    with CaptureQueriesContext(connection) as ctx:
        endpoint.save()
    (update,) = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("UPDATE")]
    set_part, where = update.split(" WHERE ")
    assert '"tenant_id"' not in set_part, update
    assert '"tenant_id" = ' in where and '"id" = ' in where, update
    endpoint.refresh_from_db()
    assert endpoint.description == "Renamed" and endpoint.tenant_id == tenant.pk


def test_a_save_that_would_move_a_row_to_another_tenant_is_refused(tenant, other_tenant, manager):
    from django.db import transaction

    from webhooks.models import WebhookEndpoint

    endpoint = WebhookEndpoint.objects.create(tenant=tenant, url="https://hooks.example.test/a", created_by=manager)
    endpoint.tenant = other_tenant
    endpoint.created_by = None
    with pytest.raises(ValueError, match="a row's tenant never changes"), transaction.atomic():
        endpoint.save()
    assert list(WebhookEndpoint.objects.filter(pk=endpoint.pk).values_list("tenant_id", flat=True)) == [tenant.pk]
