"""The daily run: who is paid, when, how much, and never twice."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from automation import services
from automation.models import AutomatedAward, AutomationRun
from events.models import Event
from people.services import profile_update
from points.reconcile import reconcile
from recognition.models import Recognition
from tenants.tests.factories import UserFactory
from wallets.models import Wallet, WalletLedger

DAY = dt.date(2026, 6, 15)
AT_NINE_UTC = dt.datetime(2026, 6, 15, 9, 0, tzinfo=dt.UTC)


def wallet(user) -> int:
    return Wallet.objects.get(user=user).balance


@pytest.fixture
def rules(manager):
    services.rule_update(actor=manager, kind="BIRTHDAY", is_active=True, points=100)
    services.rule_update(actor=manager, kind="ANNIVERSARY", is_active=True, milestones={"1": 100, "5": 1000})
    services.rule_update(actor=manager, kind="NEW_HIRE", is_active=True, points=50, days_after_hire=7)


def member(tenant, *, birthday=None, consent=False, hire_date=None):
    user = UserFactory(tenant=tenant)
    profile_update(user=user, actor=None, birthday=birthday, birthday_consent=consent, hire_date=hire_date)
    return user


@pytest.mark.django_db
def test_birthdays_anniversaries_and_new_hires_are_paid_from_the_pool(funded_tenant, manager, rules):
    birthday = member(funded_tenant, birthday=(6, 15), consent=True)
    no_consent = member(funded_tenant, birthday=(6, 15), consent=False)
    one_year = member(funded_tenant, hire_date=dt.date(2025, 6, 15))
    two_years = member(funded_tenant, hire_date=dt.date(2024, 6, 15))  # not a milestone
    five_years = member(funded_tenant, hire_date=dt.date(2021, 6, 15))
    new_hire = member(funded_tenant, hire_date=dt.date(2026, 6, 8))
    pool_before = funded_tenant.points_allocation_balance

    assert services.run_due(now=AT_NINE_UTC) == 1

    assert (wallet(birthday), wallet(no_consent), wallet(one_year), wallet(two_years)) == (100, 0, 100, 0)
    assert (wallet(five_years), wallet(new_hire)) == (1000, 50)
    funded_tenant.refresh_from_db()
    assert funded_tenant.points_allocation_balance == pool_before - 1250
    run = AutomationRun.objects.get()
    assert (run.run_date, run.status, run.due, run.paid, run.points_paid) == (DAY, "PAID", 4, 4, 1250)
    five = Recognition.objects.get(receiver=five_years)
    assert five.giver is None and five.automated and five.funding_source == "POOL"
    assert five.message.startswith("Happy 5-year work anniversary") and funded_tenant.name in five.message
    credit = WalletLedger.objects.get(recognition=five)
    assert credit.entry_type == "CREDIT" and credit.source == "RECOGNITION" and credit.actor_id is None
    events = Event.objects.filter(name="recognition.created")
    assert events.count() == 4
    assert all(e.payload["giver"] == {"id": None, "name": funded_tenant.name} for e in events)
    assert all(r.ok for r in reconcile())


@pytest.mark.django_db
def test_running_again_the_same_day_pays_nothing_more(funded_tenant, manager, rules):
    user = member(funded_tenant, birthday=(6, 15), consent=True)
    services.run_due(now=AT_NINE_UTC)
    assert services.run_due(now=AT_NINE_UTC + dt.timedelta(hours=3)) == 0  # the day is done
    # Even forced, the occasion's key holds.
    services.run_for_tenant(tenant_id=funded_tenant.pk, day=DAY)
    assert wallet(user) == 100 and AutomatedAward.objects.count() == 1 and Recognition.objects.count() == 1


@pytest.mark.django_db
def test_the_key_refuses_a_second_payment_even_when_the_due_list_is_stale(funded_tenant, manager, rules):
    """Two runs that both computed the occasion as due: the second insert collides and pays nothing."""
    user = member(funded_tenant, birthday=(6, 15), consent=True)
    [occasion] = services.due_occasions(funded_tenant, DAY)
    assert services.pay_occasion(funded_tenant, occasion) is True
    assert services.pay_occasion(funded_tenant, occasion) is False
    assert wallet(user) == 100


@pytest.mark.django_db
def test_nothing_runs_before_nine_in_the_tenants_time_zone(funded_tenant, manager, rules):
    funded_tenant.timezone = "Asia/Kolkata"  # UTC+5:30
    funded_tenant.save(update_fields=["timezone"])
    user = member(funded_tenant, birthday=(6, 15), consent=True)
    assert services.run_due(now=dt.datetime(2026, 6, 15, 3, 29, tzinfo=dt.UTC)) == 0  # 08:59 in Kolkata
    assert wallet(user) == 0
    assert services.run_due(now=dt.datetime(2026, 6, 15, 3, 30, tzinfo=dt.UTC)) == 1  # 09:00
    assert wallet(user) == 100
    # 20:00 UTC on the 14th is already the 15th, 01:30, in Kolkata: not yet 09:00 there.
    assert AutomationRun.objects.get().run_date == DAY


@pytest.mark.django_db
def test_a_29_february_birthday_is_celebrated_on_28_february_of_a_common_year(funded_tenant, manager, rules):
    user = member(funded_tenant, birthday=(2, 29), consent=True)
    services.run_for_tenant(tenant_id=funded_tenant.pk, day=dt.date(2027, 2, 28))
    assert wallet(user) == 100


@pytest.mark.django_db
def test_inactive_rules_and_deactivated_members_get_nothing(funded_tenant, manager, rules):
    from tenants.services import user_set_active

    leaver = member(funded_tenant, birthday=(6, 15), consent=True)
    user_set_active(user=leaver, is_active=False, actor=manager)
    services.rule_update(actor=manager, kind="ANNIVERSARY", is_active=False)
    veteran = member(funded_tenant, hire_date=dt.date(2025, 6, 15))
    services.run_for_tenant(tenant_id=funded_tenant.pk, day=DAY)
    assert wallet(leaver) == 0 and wallet(veteran) == 0
    assert AutomationRun.objects.get().status == "NOTHING_DUE"


@pytest.mark.django_db
def test_a_pool_that_cannot_pay_skips_the_run_and_tells_the_managers_once(
    tenant, manager, rules, allocate, mailoutbox, django_capture_on_commit_callbacks
):
    allocate(tenant, 150)
    a = member(tenant, birthday=(6, 15), consent=True)
    b = member(tenant, hire_date=dt.date(2021, 6, 15))  # 1,000 for five years

    services.run_due(now=AT_NINE_UTC)
    services.run_due(now=AT_NINE_UTC + dt.timedelta(minutes=5))  # retried: still short, told only once

    assert wallet(a) == 0 and wallet(b) == 0  # all or none: nobody's occasion is paid before another's
    tenant.refresh_from_db()
    assert tenant.points_allocation_balance == 150
    run = AutomationRun.objects.get()
    assert (run.status, run.due, run.points_required, run.pool_available) == ("SKIPPED", 2, 1100, 150)
    assert run.detail == "Insufficient company allocation pool. Available: 150, Required: 1100."
    [event] = Event.objects.filter(name="automation.skipped")
    assert event.payload["points_required"] == 1100
    [mail] = mailoutbox
    assert mail.to == [manager.email] and "were not paid" in mail.subject
    assert "Available: 150, Required: 1100" in mail.body

    allocate(tenant, 1000)  # topped up the same day: the next round pays
    services.run_due(now=AT_NINE_UTC + dt.timedelta(hours=2))
    assert wallet(a) == 100 and wallet(b) == 1000
    assert AutomationRun.objects.get().status == "PAID"
    assert all(r.ok for r in reconcile())


@pytest.mark.django_db
def test_rules_are_checked(manager):
    from perksu.errors import DomainError

    for kwargs, field in [
        ({"kind": "BIRTHDAY", "points": 0}, "points"),
        ({"kind": "BIRTHDAY", "message_template": "Hi {password}"}, "message_template"),
        ({"kind": "BIRTHDAY", "message_template": "Hi {name"}, "message_template"),
        ({"kind": "BIRTHDAY", "message_template": "{name.__class__}"}, "message_template"),
        ({"kind": "ANNIVERSARY", "milestones": {"0": 10}}, "milestones"),
        ({"kind": "ANNIVERSARY", "milestones": {"2": -5}}, "milestones"),
        ({"kind": "NEW_HIRE", "days_after_hire": 400}, "days_after_hire"),
    ]:
        with pytest.raises(DomainError) as refused:
            services.rule_update(actor=manager, **kwargs)
        assert refused.value.extra["field"] == field


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_pay_each_occasion_once(funded_tenant, manager, rules):
    users = [member(funded_tenant, birthday=(6, 15), consent=True) for _ in range(5)]
    barrier = threading.Barrier(2)
    errors = []

    def run():
        try:
            barrier.wait(timeout=10)
            services.run_for_tenant(tenant_id=funded_tenant.pk, day=DAY)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert errors == []
    assert [wallet(u) for u in users] == [100] * 5
    assert AutomatedAward.objects.count() == 5 and Recognition.objects.filter(automated=True).count() == 5
    funded_tenant.refresh_from_db()
    assert funded_tenant.points_allocation_balance == 50_000 - 500
    assert AutomationRun.objects.get().status == "PAID"
    assert all(r.ok for r in reconcile())
