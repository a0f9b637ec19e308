"""Fixtures shared by every app's tests.

Balances are put in place by calling the services (allocate, delegate, award),
never by writing balance fields.
"""

import pytest
from django.core.cache import cache
from django.db import connection

from points.services import lead_delegate, tenant_allocate
from recognition.services import recognition_create
from tenants.tests.factories import (
    PASSWORD,
    LeadFactory,
    ManagerFactory,
    PlatformAdminFactory,
    TenantFactory,
    UserFactory,
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters (wrong passwords, money POSTs) live in the cache: each test starts with none."""
    cache.clear()


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def platform_admin(db):
    return PlatformAdminFactory(email="admin@platform.test", full_name="Platform Admin")


@pytest.fixture
def tenant(db):
    return TenantFactory(name="Triton Energy", slug="triton-energy")


@pytest.fixture
def manager(tenant):
    return ManagerFactory(tenant=tenant, email="manager@triton.test", full_name="Maya Manager")


@pytest.fixture
def lead(tenant):
    return LeadFactory(tenant=tenant, email="lead@triton.test", full_name="Leo Lead")


@pytest.fixture
def employee(tenant):
    return UserFactory(tenant=tenant, email="employee@triton.test", full_name="Asha Employee")


@pytest.fixture
def other_employee(tenant):
    return UserFactory(tenant=tenant, email="rahul@triton.test", full_name="Rahul Employee")


@pytest.fixture
def other_tenant(db):
    return TenantFactory(name="Other Corp", slug="other-corp")


@pytest.fixture
def outsider(other_tenant):
    """A member of another tenant: must never see or touch `tenant`'s data."""
    return UserFactory(tenant=other_tenant, email="outsider@other.test", full_name="Olga Outsider")


@pytest.fixture
def allocate(platform_admin):
    def _allocate(tenant, amount, note="Invoice #8842"):
        return tenant_allocate(actor=platform_admin, tenant_id=tenant.pk, amount=amount, reference_note=note)

    return _allocate


@pytest.fixture
def funded_tenant(tenant, allocate):
    """`tenant` with 50,000 points in its pool."""
    allocate(tenant, 50_000)
    tenant.refresh_from_db()
    return tenant


@pytest.fixture
def funded_lead(funded_tenant, manager, lead):
    """`lead` with a 10,000-point budget delegated from the pool (pool left: 40,000)."""
    lead_delegate(actor=manager, lead_id=lead.pk, amount=10_000, note="Q4 budget")
    lead.refresh_from_db()
    return lead


@pytest.fixture
def award():
    def _award(giver, recipients, points, message="Great work", **kwargs):
        ids = [r.pk for r in (recipients if isinstance(recipients, list | tuple) else [recipients])]
        return recognition_create(giver=giver, recipient_ids=ids, points=points, message=message, **kwargs)

    return _award


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"


def pytest_collection_modifyitems(config, items):
    """Tests marked `postgres` need PostgreSQL; on SQLite they skip, saying why."""
    if connection.vendor == "postgresql":
        return
    reason = (
        "needs PostgreSQL: SQLite serialises all writers, so row locks, triggers and real "
        "concurrency are proven on PostgreSQL (set DATABASE_URL=postgres://…)"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))
