"""A small hand-built tenant whose every insights figure is worked out by hand.

Triton Energy, on India time (UTC+05:30), a point worth 0.50 INR. Five active
members — Maya (manager), Leo (lead), Asha, Rahul, Kiran — and Dev, who gives
kudos in March and is deactivated. Teams: Engineering (Leo, Asha) with the
sub-team Platform (Rahul); Sales (Kiran); Maya has no team.

March 2026 in India time (the period the tests read, from 2026-03-01 to 2026-03-31):
    Mon 02 Mar 10:00  Maya → Asha   100 points (pool)
    Thu 05 Mar 10:00  Dev  → Rahul  kudos
    Tue 10 Mar 10:00  Leo  → Rahul   50 points (lead budget)
    Tue 31 Mar 23:59  Asha → Rahul  kudos        (18:29 UTC: still March in India)
outside it:
    Sat 28 Feb 23:59  Maya → Kiran   10 points (pool)
    Wed 01 Apr 00:00  Rahul → Asha  kudos        (18:30 UTC on 31 March: April in India)
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from people.models import Profile, Team
from points.services import lead_delegate
from recognition.services import recognition_create
from tenants.models import Tenant, User
from tenants.services import user_set_active
from tenants.tests.factories import UserFactory

IST = ZoneInfo("Asia/Kolkata")


def ist(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=IST)


@contextmanager
def frozen(monkeypatch, instant: dt.datetime):
    """`timezone.now()` answers `instant` inside the block (the services stamp rows with it)."""
    with monkeypatch.context() as patch:
        patch.setattr(timezone, "now", lambda: instant)
        yield


@dataclass
class Books:
    tenant: Tenant
    maya: User
    leo: User
    asha: User
    rahul: User
    kiran: User
    dev: User
    engineering: Team
    platform: Team
    sales: Team


@pytest.fixture
def books(monkeypatch, tenant, manager, lead, employee, other_employee, allocate):
    Tenant.objects.filter(pk=tenant.pk).update(timezone="Asia/Kolkata", point_value=Decimal("0.50"))
    kiran = UserFactory(tenant=tenant, email="kiran@triton.test", full_name="Kiran Employee")
    dev = UserFactory(tenant=tenant, email="dev@triton.test", full_name="Dev Leaver")
    engineering = Team.objects.create(tenant=tenant, name="Engineering")
    platform = Team.objects.create(tenant=tenant, name="Platform", parent=engineering)
    sales = Team.objects.create(tenant=tenant, name="Sales")
    Profile.objects.filter(user__in=[lead, employee]).update(team=engineering)
    Profile.objects.filter(user=other_employee).update(team=platform)
    Profile.objects.filter(user=kiran).update(team=sales)

    allocate(tenant, 50_000)
    lead_delegate(actor=manager, lead_id=lead.pk, amount=10_000, note="Q1 budget")

    def give(at, giver, receiver, points):
        with frozen(monkeypatch, at.astimezone(dt.UTC)):
            recognition_create(giver=giver, recipient_ids=[receiver.pk], points=points, message="Thank you")

    give(ist(2026, 2, 28, 23, 59), manager, kiran, 10)
    give(ist(2026, 3, 2, 10, 0), manager, employee, 100)
    give(ist(2026, 3, 5, 10, 0), dev, other_employee, 0)
    give(ist(2026, 3, 10, 10, 0), lead, other_employee, 50)
    give(ist(2026, 3, 31, 23, 59), employee, other_employee, 0)
    give(ist(2026, 4, 1, 0, 0), other_employee, employee, 0)
    user_set_active(user=dev, is_active=False)
    tenant.refresh_from_db()
    return Books(tenant, manager, lead, employee, other_employee, kiran, dev, engineering, platform, sales)
