"""Tenant and user services: creation, roles, deactivation, and their refusals."""

import pytest

from perksu.errors import DomainError, PermissionDeniedError
from points.models import LeadBudget
from points.services import lead_delegate
from tenants.models import Role
from tenants.services import tenant_create, tenant_set_status, user_change_role, user_create, user_set_active
from tenants.tests.factories import PASSWORD


def test_tenant_defaults(db):
    tenant = tenant_create(name="Acme", slug="Acme")
    assert (tenant.slug, tenant.currency, tenant.currency_label, tenant.points_allocation_balance) == (
        "acme",
        "INR",
        "Points",
        0,
    )
    assert tenant.low_balance_threshold == 100
    with pytest.raises(DomainError) as exc:
        tenant_create(name="Acme again", slug="acme")
    assert exc.value.code == "duplicate_slug"


def test_bad_currency_is_refused(db):
    with pytest.raises(DomainError) as exc:
        tenant_create(name="Acme", slug="acme", currency="RUPEES")
    assert exc.value.extra["field"] == "currency"


def test_user_email_is_unique_and_lowercased(tenant):
    user = user_create(
        email="Asha@Example.TEST", full_name="Asha", role=Role.EMPLOYEE, password=PASSWORD, tenant=tenant
    )
    assert user.email == "asha@example.test"
    with pytest.raises(DomainError) as exc:
        user_create(email="asha@example.test", full_name="Other", role=Role.EMPLOYEE, password=PASSWORD, tenant=tenant)
    assert exc.value.code == "duplicate_email"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"email": "not-an-email"}, "invalid_email"),
        ({"role": "owner"}, "invalid_role"),
        ({"tenant": None}, "tenant_required"),
        ({"password": "123"}, "invalid_password"),
    ],
)
def test_user_create_refusals(tenant, kwargs, code):
    base = {"email": "new@example.test", "full_name": "New", "role": Role.EMPLOYEE, "password": PASSWORD}
    with pytest.raises(DomainError) as exc:
        user_create(**{**base, "tenant": tenant, **kwargs})
    assert exc.value.code == code


def test_promoting_to_lead_opens_a_budget_and_demoting_a_funded_lead_is_refused(funded_tenant, manager, employee):
    user_change_role(user=employee, role=Role.TENANT_LEAD)
    assert LeadBudget.objects.get(lead=employee).balance == 0
    lead_delegate(actor=manager, lead_id=employee.pk, amount=300)
    with pytest.raises(DomainError) as exc:
        user_change_role(user=employee, role=Role.EMPLOYEE)
    assert exc.value.code == "lead_budget_not_empty"
    assert exc.value.extra["available"] == 300
    employee.refresh_from_db()
    assert employee.role == Role.TENANT_LEAD


def test_deactivation_keeps_the_wallet_and_cannot_target_oneself(manager, employee):
    user_set_active(user=employee, is_active=False, actor=manager)
    employee.refresh_from_db()
    assert employee.is_active is False
    assert employee.wallets.get().balance == 0
    with pytest.raises(PermissionDeniedError):
        user_set_active(user=manager, is_active=False, actor=manager)


def test_suspend_and_reactivate(tenant):
    tenant_set_status(tenant=tenant, status="SUSPENDED")
    tenant.refresh_from_db()
    assert tenant.status == "SUSPENDED"
    tenant_set_status(tenant=tenant, status="ACTIVE")
    tenant.refresh_from_db()
    assert tenant.status == "ACTIVE"


def test_nobody_changes_their_own_role(manager):
    with pytest.raises(PermissionDeniedError):
        user_change_role(user=manager, role=Role.EMPLOYEE, actor=manager)
    manager.refresh_from_db()
    assert manager.role == Role.TENANT_MANAGER
