"""The schema's own guarantees, the demo seed and the migrations (both databases)."""

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from rest_framework.test import APIClient

from perksu.errors import NotFoundError
from points.models import AllocationLog, DelegationLog, LeadBudget, PlatformBillingLog
from points.services import tenant_allocate
from recognition.models import Recognition
from tenants.models import PLATFORM_TENANT_ID, Role, Tenant, User, platform_tenant
from wallets.models import Redemption, Reward, Wallet, WalletLedger


@pytest.mark.parametrize(
    ("model", "field"),
    [(Tenant, "points_allocation_balance"), (LeadBudget, "balance"), (Wallet, "balance")],
    ids=["pool", "lead_budget", "wallet"],
)
def test_a_balance_can_never_go_negative_even_by_raw_update(model, field, lead, employee):
    assert model.objects.exists()
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.update(**{field: -1})
    assert not model.objects.filter(**{f"{field}__lt": 0}).exists()


def test_amounts_on_logs_must_be_positive(funded_tenant, platform_admin):
    with pytest.raises(IntegrityError), transaction.atomic():
        AllocationLog.objects.create(
            tenant=funded_tenant, kind="ALLOCATION", amount=0, balance_after=0, actor=platform_admin
        )


def test_a_tenant_member_needs_a_tenant_and_staff_sit_in_the_platform_tenant(tenant):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="x@example.test", role=Role.EMPLOYEE, tenant=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="y@example.test", role=Role.PLATFORM_ADMIN, tenant=tenant)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="z@example.test", role=Role.EMPLOYEE, tenant=platform_tenant())


def test_platform_staff_rows_have_the_platform_tenant_which_no_list_or_lookup_shows(platform_admin, tenant):
    """Every user row has a tenant (so `users` can be distributed by it): staff's is the platform's
    own row, which reads as no tenant in Python and the API, and is never found as a customer."""
    assert platform_admin.tenant_id == PLATFORM_TENANT_ID
    assert platform_admin.member_tenant_id is None
    assert not User.objects.filter(tenant__isnull=True).exists()
    assert list(Tenant.objects.values_list("pk", flat=True)) == [tenant.pk]
    assert Tenant.with_platform.filter(pk=PLATFORM_TENANT_ID).exists()
    assert not Tenant.objects.filter(pk=PLATFORM_TENANT_ID).exists()
    with pytest.raises(NotFoundError):
        tenant_allocate(actor=platform_admin, tenant_id=PLATFORM_TENANT_ID, amount=100)
    client = APIClient()
    client.force_authenticate(platform_admin)
    assert [t["id"] for t in client.get("/api/v1/tenants/").json()["results"]] == [str(tenant.pk)]
    assert client.get(f"/api/v1/tenants/{PLATFORM_TENANT_ID}/").status_code == 404
    me = client.get(f"/api/v1/users/{platform_admin.pk}/").json()
    assert me["tenant_id"] is None


def test_the_platform_tenant_can_hold_no_points(platform_admin):
    with pytest.raises(IntegrityError), transaction.atomic():
        Tenant.with_platform.filter(pk=PLATFORM_TENANT_ID).update(points_allocation_balance=1)


def _snapshot():
    """Everything the demo seed writes, as comparable figures."""
    models = [Tenant, User, Wallet, LeadBudget, AllocationLog, PlatformBillingLog, DelegationLog]
    models += [Recognition, WalletLedger, Reward, Redemption]
    return {
        "counts": {m.__name__: m.objects.count() for m in models},
        "pool": list(Tenant.objects.values_list("slug", "points_allocation_balance")),
        "wallets": sorted(Wallet.objects.values_list("user__email", "balance", "lifetime_earned", "lifetime_spent")),
        "budgets": sorted(LeadBudget.objects.values_list("lead__email", "balance")),
        "stock": sorted(Reward.objects.values_list("name", "stock")),
    }


def test_seed_demo_is_idempotent_and_its_books_reconcile(db, capsys):
    call_command("seed_demo")
    first = _snapshot()
    call_command("seed_demo")
    assert _snapshot() == first
    # 50,000 − 15,000 delegated − 1,000 awarded − 50 given from employees' allowances
    assert first["pool"] == [("triton-energy", 33_950)]
    assert first["counts"]["AllocationLog"] == 1
    assert AllocationLog.objects.get().reference_note == "Invoice #8842"
    assert first["counts"]["Redemption"] == 1
    assert "manager@triton.test" in capsys.readouterr().out
    call_command("reconcile")  # exits 1 (SystemExit) on any drift


def test_new_members_get_a_wallet_and_new_leads_a_budget(lead, employee, platform_admin):
    assert Wallet.objects.get(user=employee).balance == 0
    assert Wallet.objects.get(user=lead).balance == 0
    assert LeadBudget.objects.get(lead=lead).balance == 0
    assert not LeadBudget.objects.filter(lead=employee).exists()
    assert not Wallet.objects.filter(user=platform_admin).exists()


def test_one_wallet_per_member_one_budget_per_lead_one_billing_line_per_allocation(funded_tenant, lead, employee):
    """The uniques that lead with the tenant (SPEC §14) still refuse a second row, on both databases."""
    allocation = AllocationLog.objects.get()
    billing = PlatformBillingLog.objects.get()
    duplicates = [
        lambda: Wallet.objects.create(tenant=funded_tenant, user=employee),
        lambda: LeadBudget.objects.create(tenant=funded_tenant, lead=lead),
        lambda: PlatformBillingLog.objects.create(
            tenant=funded_tenant,
            allocation_log=allocation,
            transaction_type=billing.transaction_type,
            amount=1,
            currency=billing.currency,
            admin=billing.admin,
        ),
    ]
    for duplicate in duplicates:
        with pytest.raises(IntegrityError), transaction.atomic():
            duplicate()
    assert (Wallet.objects.filter(user=employee).count(), LeadBudget.objects.filter(lead=lead).count()) == (1, 1)
    assert PlatformBillingLog.objects.filter(allocation_log=allocation).count() == 1


def test_healthz_answers_when_the_database_does(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


@pytest.mark.django_db(transaction=True)
def test_every_migration_reverses():
    executor = MigrationExecutor(connection)
    leaves = executor.loader.graph.leaf_nodes()
    call_command("migrate", "tenants", "zero", verbosity=0)
    assert "tenants" not in {app for app, _ in MigrationExecutor(connection).loader.applied_migrations}
    assert Tenant._meta.db_table not in connection.introspection.table_names()
    call_command("migrate", verbosity=0)
    applied = MigrationExecutor(connection).loader.applied_migrations
    assert all(leaf in applied for leaf in leaves)
