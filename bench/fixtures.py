"""Fixtures of the bench: tenants, managers and pools through the services.

Every point is put in place by `tenant_allocate` and moved by the award and
distribution services, never by writing a balance. The one shortcut is the
members themselves: thousands of employees are created set-based with
`bulk_create` (a user row and its empty wallet, as `user_create` would write
them, minus the password hash), which is fixture setup, not a money movement.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from django.db import transaction

from people.models import Profile
from points.services import tenant_allocate
from tenants.models import Role, Tenant, User
from tenants.services import tenant_create, user_create
from wallets.models import Wallet

PASSWORD = "perksu-bench-2026"  # noqa: S105 - a throwaway login on a throwaway database
UNUSABLE_PASSWORD = "!bench-member-cannot-log-in"  # noqa: S105 - "!" marks it unusable, as Django does
MAX_ALLOCATION = 1_000_000_000


@dataclass(frozen=True)
class BenchTenant:
    tenant_id: UUID
    slug: str
    manager_id: UUID
    manager_email: str
    member_ids: list[UUID]


def platform_admin() -> User:
    existing = User.objects.filter(email="admin@bench.test").first()
    if existing is not None:
        return existing
    return user_create(email="admin@bench.test", full_name="Bench Admin", role=Role.PLATFORM_ADMIN, password=None)


def bench_tenant(slug: str, *, members: int, pool: int, manager_password: str | None = None) -> BenchTenant:
    """A tenant with a manager, `members` employees and `pool` points allocated to it."""
    admin = platform_admin()
    tenant = tenant_create(name=f"Bench {slug}", slug=slug)
    manager = user_create(
        email=f"manager@{slug}.bench.test",
        full_name=f"Manager of {slug}",
        role=Role.TENANT_MANAGER,
        password=manager_password,
        tenant=tenant,
    )
    while pool > 0:
        step = min(pool, MAX_ALLOCATION)
        tenant_allocate(actor=admin, tenant_id=tenant.pk, amount=step, reference_note=f"Bench invoice for {slug}")
        pool -= step
    member_ids = bulk_members(tenant, members, prefix=f"m{{}}@{slug}.bench.test")
    return BenchTenant(tenant.pk, slug, manager.pk, manager.email, member_ids)


def bulk_members(tenant: Tenant, count: int, *, prefix: str, batch_size: int = 5000) -> list[UUID]:
    """`count` active employees with empty wallets, set-based (fixture setup only)."""
    users = [
        User(
            email=prefix.format(i),
            full_name=f"Member {i}",
            tenant=tenant,
            role=Role.EMPLOYEE,
            password=UNUSABLE_PASSWORD,
        )
        for i in range(count)
    ]
    with transaction.atomic():
        User.objects.bulk_create(users, batch_size=batch_size)
        Wallet.objects.bulk_create([Wallet(tenant=tenant, user=u) for u in users], batch_size=batch_size)
        Profile.objects.bulk_create([Profile(tenant=tenant, user=u) for u in users], batch_size=batch_size)
    return [u.pk for u in users]
