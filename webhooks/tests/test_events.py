"""From the outbox to the receiver: an event recorded in a transaction reaches every subscribed endpoint."""

from __future__ import annotations

import json

import pytest
from django.db import transaction

from events import event_types
from events.services import record_event
from events.testing import run_jobs
from webhooks import delivery, services
from webhooks.models import WebhookDelivery

PAYLOAD = {
    "group_id": "5b7d3a6e-0000-4000-8000-000000000001",
    "giver": {"id": "x", "name": "Maya Manager"},
    "points": 250,
    "funding_source": "POOL",
    "message": "Great launch",
    "recipients": [{"id": "y", "name": "Asha Employee", "recognition_id": "z"}],
    "values": [],
}


@pytest.mark.django_db(transaction=True)
def test_a_recorded_event_reaches_a_slack_endpoint_signed(manager, receiver):
    created = services.endpoint_create(
        actor=manager, url=receiver.url, events=[event_types.RECOGNITION_CREATED], format="slack"
    )
    receiver.secret = created.secret
    with transaction.atomic():
        event = record_event(tenant_id=manager.tenant_id, name=event_types.RECOGNITION_CREATED, payload=PAYLOAD)
        record_event(tenant_id=manager.tenant_id, name=event_types.USER_CREATED, payload={"user": {"name": "N"}})

    run_jobs()
    delivery.deliver_all_due()

    [got] = receiver.requests
    assert got.verified
    message = json.loads(got.body)
    assert message["text"] == "Maya Manager recognised Asha Employee with 250 Points: “Great launch”"
    row = WebhookDelivery.objects.get()
    assert row.event_id == event.id and row.status == "SUCCEEDED"

    # The job run again (a retry, a second worker) makes no second delivery.
    from webhooks.consumers import webhooks_fan_out

    webhooks_fan_out.call(str(event.id))
    assert WebhookDelivery.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_event_of_a_rolled_back_change_is_never_delivered(manager, receiver):
    receiver.secret = services.endpoint_create(actor=manager, url=receiver.url, events=["*"]).secret
    with pytest.raises(RuntimeError), transaction.atomic():
        record_event(tenant_id=manager.tenant_id, name=event_types.USER_CREATED, payload={})
        raise RuntimeError("the change failed")
    run_jobs()
    delivery.deliver_all_due()
    assert receiver.requests == [] and not WebhookDelivery.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_worker_sends_due_deliveries_between_jobs(manager, receiver):
    """The worker's round (registered by the webhooks app) sends without anyone calling delivery."""
    receiver.secret = services.endpoint_create(actor=manager, url=receiver.url, events=["*"]).secret
    record_event(tenant_id=manager.tenant_id, name=event_types.USER_CREATED, payload={})
    run_jobs()  # dispatches and fans out
    run_jobs()  # the next turn's housekeeping sends
    assert [r.answered for r in receiver.requests] == [200]
