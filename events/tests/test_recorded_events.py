"""Every service records its event in the same transaction as the change (SPEC §12), and only then.

Run on SQLite (the general paths) and on PostgreSQL, where a plain award records
`recognition.created` (and a crossing's `pool.low_balance`) inside its one statement.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test import override_settings

from events import event_types as E
from events.models import Event
from perksu.errors import DomainError
from points.services import lead_delegate, lead_recall, tenant_clawback
from recognition.services import recognition_create, recognition_distribute
from tenants.models import Tenant
from tenants.services import user_create, user_set_active
from wallets.services import redemption_create, redemption_refund, reward_create

pytestmark = pytest.mark.django_db


def names() -> list[str]:
    return list(Event.objects.order_by("created_at", "id").values_list("name", flat=True))


def only(name: str) -> Event:
    return Event.objects.get(name=name)


def test_allocation_clawback_and_delegation(platform_admin, tenant, allocate, manager, lead):
    Event.objects.all().delete()
    allocate(tenant, 5_000, note="Invoice #1")
    assert names() == [E.ALLOCATION_CREATED]
    event = only(E.ALLOCATION_CREATED)
    assert event.tenant_id == tenant.pk and event.actor_id == platform_admin.pk
    assert event.payload["amount"] == 5_000
    assert event.payload["pool_balance_after"] == 5_000
    assert event.payload["note"] == "Invoice #1"

    lead_delegate(actor=manager, lead_id=lead.pk, amount=1_000, note="Q1")
    event = only(E.DELEGATION_CREATED)
    assert event.payload["lead"] == {"id": str(lead.pk), "name": lead.full_name}
    assert (event.payload["amount"], event.payload["lead_budget_after"], event.payload["pool_balance_after"]) == (
        1_000,
        1_000,
        4_000,
    )
    lead_recall(actor=manager, lead_id=lead.pk, amount=500)
    assert names() == [E.ALLOCATION_CREATED, E.DELEGATION_CREATED]  # a recall is no event of §12

    tenant_clawback(actor=platform_admin, tenant_id=tenant.pk, amount=1_000, reason="Refund")
    assert only(E.CLAWBACK_CREATED).payload["amount"] == 1_000


def test_a_refused_movement_records_nothing(tenant, manager, lead, platform_admin):
    Event.objects.all().delete()
    with pytest.raises(DomainError):
        lead_delegate(actor=manager, lead_id=lead.pk, amount=1)  # the pool is empty
    with pytest.raises(DomainError):
        tenant_clawback(actor=platform_admin, tenant_id=tenant.pk, reason="x")
    assert names() == []


def test_an_award_records_one_event_for_its_group(funded_tenant, manager, employee, other_employee):
    Event.objects.all().delete()
    result = recognition_create(
        giver=manager, recipient_ids=[other_employee.pk, employee.pk], points=25, message="Launch"
    )
    event = only(E.RECOGNITION_CREATED)
    assert event.actor_id == manager.pk
    assert event.payload == {
        "group_id": str(result.group_id),
        "giver": {"id": str(manager.pk), "name": manager.full_name},
        "points": 25,
        "funding_source": "POOL",
        "message": "Launch",
        "values": [],
        "recipients": [
            {"id": str(r.receiver_id), "name": n, "recognition_id": str(r.pk)}
            for r, n in zip(result.recognitions, [other_employee.full_name, employee.full_name], strict=True)
        ],
    }


def test_an_award_refused_records_nothing(funded_tenant, manager, employee):
    Event.objects.all().delete()
    with pytest.raises(DomainError):
        recognition_create(giver=manager, recipient_ids=[employee.pk], points=10**8, message="Too much")
    assert names() == []


def test_an_award_inside_a_rolled_back_transaction_leaves_no_event(funded_tenant, manager, employee):
    Event.objects.all().delete()
    with pytest.raises(RuntimeError), transaction.atomic():
        recognition_create(giver=manager, recipient_ids=[employee.pk], points=5, message="Undone")
        raise RuntimeError
    assert names() == []


def test_kudos_and_lead_awards_record_it_too(funded_lead, employee, other_employee):
    Event.objects.all().delete()
    recognition_create(giver=funded_lead, recipient_ids=[employee.pk], points=10, message="Budget")
    recognition_create(giver=employee, recipient_ids=[other_employee.pk], points=0, message="Thanks")
    events = list(Event.objects.filter(name=E.RECOGNITION_CREATED).order_by("created_at"))
    assert [(e.payload["points"], e.payload["funding_source"]) for e in events] == [(10, "LEAD_BUDGET"), (0, "NONE")]


def test_pool_low_balance_is_recorded_once_per_crossing(tenant, allocate, manager, employee, lead):
    tenant.low_balance_threshold = 1_000
    tenant.save(update_fields=["low_balance_threshold"])
    allocate(tenant, 1_500)
    Event.objects.all().delete()

    recognition_create(giver=manager, recipient_ids=[employee.pk], points=400, message="a")  # 1,100: above
    assert E.POOL_LOW_BALANCE not in names()
    recognition_create(giver=manager, recipient_ids=[employee.pk], points=200, message="b")  # 900: crosses
    event = only(E.POOL_LOW_BALANCE)
    assert event.payload == {"pool_balance": 900, "threshold": 1_000}
    recognition_create(giver=manager, recipient_ids=[employee.pk], points=100, message="c")  # 800: still below
    lead_delegate(actor=manager, lead_id=lead.pk, amount=100)  # 700: still below
    assert names().count(E.POOL_LOW_BALANCE) == 1

    allocate(tenant, 1_000)  # 1,700: back above
    lead_delegate(actor=manager, lead_id=lead.pk, amount=800)  # 900: crosses again
    assert names().count(E.POOL_LOW_BALANCE) == 2


def test_distribution_records_one_event_naming_every_recipient(funded_tenant, manager, employee, other_employee):
    Event.objects.all().delete()
    recognition_distribute(giver=manager, amount_per_user=5, message="Everyone")
    event = only(E.RECOGNITION_CREATED)
    assert sorted(r["id"] for r in event.payload["recipients"]) == sorted([str(employee.pk), str(other_employee.pk)])


def test_redemption_and_refund(funded_tenant, manager, employee, award):
    award(manager, employee, 500)
    reward = reward_create(actor=manager, name="Coffee voucher", points_cost=100, stock=None)
    Event.objects.all().delete()
    redemption = redemption_create(user=employee, reward_id=reward.pk).redemption
    issued = only(E.REDEMPTION_ISSUED)
    assert issued.payload["reward"] == {"id": str(reward.pk), "name": "Coffee voucher"}
    assert issued.payload["points"] == 100 and issued.payload["status"] == "ISSUED"
    assert redemption.voucher_code not in str(issued.payload)  # never the code: webhooks leave the company
    redemption_refund(actor=manager, redemption_id=redemption.pk)
    refunded = only(E.REDEMPTION_REFUNDED)
    assert refunded.payload["status"] == "REFUNDED" and refunded.actor_id == manager.pk


def test_user_created_and_deactivated_once(tenant, manager):
    Event.objects.all().delete()
    user = user_create(email="new@triton.test", full_name="New Person", role="employee", password=None, tenant=tenant)
    assert only(E.USER_CREATED).payload["user"]["email"] == "new@triton.test"
    user_set_active(user=user, is_active=False, actor=manager)
    user_set_active(user=user, is_active=False, actor=manager)  # already inactive: no second event
    assert names() == [E.USER_CREATED, E.USER_DEACTIVATED]
    assert only(E.USER_DEACTIVATED).actor_id == manager.pk


def test_platform_staff_are_no_tenant_event(db):
    user_create(email="staff@platform.test", full_name="Staff", role="platform_admin", password=None)
    assert names() == []


@override_settings(EVENTS_ENABLED=False)
def test_events_can_be_switched_off_for_the_benchmark_baseline(funded_tenant, manager, employee):
    Event.objects.all().delete()
    recognition_create(giver=manager, recipient_ids=[employee.pk], points=5, message="quiet")
    assert names() == []


@pytest.mark.postgres
def test_the_one_statement_award_writes_the_same_event_as_the_general_path(
    funded_tenant, manager, employee, monkeypatch
):
    assert connection.vendor == "postgresql"
    Event.objects.all().delete()
    one = recognition_create(giver=manager, recipient_ids=[employee.pk], points=7, message="fast")
    fast = only(E.RECOGNITION_CREATED)
    assert fast.created_at == one.recognitions[0].created_at
    Event.objects.all().delete()
    monkeypatch.setattr("recognition.services._award_in_one_statement", lambda **kwargs: None)
    general = recognition_create(giver=manager, recipient_ids=[employee.pk], points=7, message="fast")
    slow = only(E.RECOGNITION_CREATED)
    assert fast.payload["recipients"][0]["recognition_id"] == str(one.recognitions[0].pk)
    assert slow.payload["recipients"][0]["recognition_id"] == str(general.recognitions[0].pk)

    def strip(payload: dict) -> dict:
        return {
            **payload,
            "group_id": None,
            "recipients": [{**r, "recognition_id": None} for r in payload["recipients"]],
        }

    assert strip(fast.payload) == strip(slow.payload)


def test_a_csv_import_records_its_new_and_deactivated_members(tenant, manager, employee):
    from people.imports import members_import

    Event.objects.all().delete()
    data = (
        "email,full_name,role,title,team,manager_email,hire_date,birthday,active\n"
        f"{manager.email},{manager.full_name},tenant_manager,,,,,,true\n"
        "new1@triton.test,New One,employee,,,,,,true\n"
        "new2@triton.test,New Two,employee,,,,,,true\n"
    ).encode()
    members_import(tenant=tenant, actor=manager, data=data, dry_run=True, deactivate_missing=True)
    assert names() == []  # a dry run records nothing
    result = members_import(tenant=tenant, actor=manager, data=data, dry_run=False, deactivate_missing=True)
    assert not result.errors and result.created == 2 and result.deactivated == 1
    created = Event.objects.filter(name=E.USER_CREATED)
    assert sorted(e.payload["user"]["email"] for e in created) == ["new1@triton.test", "new2@triton.test"]
    assert only(E.USER_DEACTIVATED).payload["user"]["email"] == employee.email
    members_import(tenant=tenant, actor=manager, data=data, dry_run=False, deactivate_missing=True)
    assert len(names()) == 3  # the same file again changes nothing, and records nothing


def test_a_comment_records_comment_created_naming_the_recipients(
    funded_tenant, manager, employee, other_employee, award
):
    from recognition.engagement import comment_create

    result = award(manager, [employee, other_employee], 10)
    Event.objects.all().delete()
    comment = comment_create(author=manager, recognition_id=result.recognitions[1].pk, text="  Well deserved!  ")
    event = only(E.COMMENT_CREATED)
    assert event.tenant_id == funded_tenant.pk and event.actor_id == manager.pk
    assert event.payload == {
        "comment_id": str(comment.pk),
        "group_id": str(result.group_id),
        "author": {"id": str(manager.pk), "name": manager.full_name},
        "text": "Well deserved!",
        "recipients": [
            {"id": str(employee.pk), "name": employee.full_name},
            {"id": str(other_employee.pk), "name": other_employee.full_name},
        ],
    }
    assert names() == [E.COMMENT_CREATED]


def test_a_refused_or_rolled_back_comment_records_nothing(funded_tenant, manager, employee, award):
    from recognition.engagement import comment_create
    from recognition.models import Comment

    result = award(manager, employee, 10)
    Event.objects.all().delete()
    with pytest.raises(DomainError):
        comment_create(author=manager, recognition_id=result.group_id, text="x" * 1001)
    with pytest.raises(RuntimeError), transaction.atomic():
        comment_create(author=manager, recognition_id=result.group_id, text="Undone")
        raise RuntimeError
    assert names() == [] and not Comment.objects.exists()


def test_an_allowance_gift_and_an_add_on_record_their_events(funded_tenant, manager, employee, other_employee):
    from recognition.services import recognition_add_on

    Tenant.objects.filter(pk=funded_tenant.pk).update(allowance_employee=100)
    Event.objects.all().delete()
    # The first gift of a period takes the general path (it creates the usage row), the next the fast one.
    first = recognition_create(giver=employee, recipient_ids=[other_employee.pk], points=10, message="One")
    second = recognition_create(giver=employee, recipient_ids=[other_employee.pk], points=5, message="Two")
    gifts = list(Event.objects.filter(name=E.RECOGNITION_CREATED).order_by("created_at", "id"))
    assert [(e.payload["group_id"], e.payload["points"], e.payload["funding_source"]) for e in gifts] == [
        (str(first.group_id), 10, "ALLOWANCE"),
        (str(second.group_id), 5, "ALLOWANCE"),
    ]
    assert all(e.actor_id == employee.pk for e in gifts)

    add_on = recognition_add_on(giver=manager, recognition_id=first.group_id, points=20)
    event = only(E.RECOGNITION_ADD_ON)
    assert event.payload["parent_group_id"] == str(first.group_id)
    assert event.payload["group_id"] == str(add_on.group_id)
    assert (event.payload["points"], event.payload["funding_source"]) == (20, "POOL")
    assert [r["id"] for r in event.payload["recipients"]] == [str(other_employee.pk)]
    assert names().count(E.RECOGNITION_CREATED) == 2
