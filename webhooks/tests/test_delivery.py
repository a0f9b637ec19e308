"""Deliveries to a real HTTP receiver: signatures, retries with backoff, logging, disabling."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import time
import uuid
from urllib.parse import urlparse

import pytest
from django.test import Client
from django.utils import timezone

from events.emails import read_unsubscribe_token
from events.models import EmailOptOut
from events.testing import run_jobs
from tenants.tests.factories import ManagerFactory
from webhooks import delivery, payloads, services
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.notify import endpoint_disabled


def _event(tenant, type_="recognition.created", **data) -> payloads.EventMessage:
    return payloads.EventMessage(
        id=uuid.uuid4(),
        type=type_,
        tenant_id=tenant.pk,
        occurred_at=timezone.now(),
        data=data
        or {
            "giver": {"name": "Maya Manager"},
            "receivers": [{"name": "Asha Employee"}],
            "points": 100,
            "message": "Great launch",
        },
        tenant_name=tenant.name,
    )


def _endpoint(manager, receiver, *, fmt="json", events=("recognition.created",)) -> WebhookEndpoint:
    created = services.endpoint_create(actor=manager, url=receiver.url, events=list(events), format=fmt)
    receiver.secret = created.secret
    return created.endpoint


def _run_until(predicate, *, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        delivery.deliver_due()
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached")


@pytest.mark.django_db
def test_a_json_delivery_arrives_signed_and_its_attempt_is_logged(manager, receiver):
    endpoint = _endpoint(manager, receiver)
    event = _event(manager.tenant)
    assert services.deliveries_for_event(event) == 1

    assert delivery.deliver_all_due() == 1

    [got] = receiver.requests
    assert got.verified and got.answered == 200
    assert got.path == "/hooks/perksu"
    assert got.headers["content-type"] == "application/json"
    body = got.json
    assert body["id"] == str(event.id) and body["type"] == "recognition.created"
    assert body["tenant_id"] == str(manager.tenant_id) and body["data"]["points"] == 100
    row = WebhookDelivery.objects.get()
    assert got.headers["webhook-id"] == str(row.id)
    assert row.status == "SUCCEEDED" and row.attempt_count == 1 and row.last_status_code == 200
    assert row.next_attempt_at is None
    [attempt] = WebhookAttempt.objects.all()
    assert (attempt.number, attempt.succeeded, attempt.status_code) == (1, True, 200)
    assert attempt.response_excerpt == '{"ok": true}' and attempt.latency_ms >= 0
    assert attempt.endpoint_id == endpoint.pk and attempt.tenant_id == manager.tenant_id


@pytest.mark.django_db
def test_a_tampered_body_or_another_secret_fails_the_receivers_check(manager, receiver):
    """The receiver's verifier is the real one: what we sign passes, anything else does not."""
    from standardwebhooks import Webhook, WebhookVerificationError

    secret = services.new_secret()
    headers = delivery.sign(secret=secret, message_id="msg_1", timestamp=timezone.now(), body='{"a":1}')
    assert Webhook(secret).verify('{"a":1}', headers) == {"a": 1}
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify('{"a":2}', headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(services.new_secret()).verify('{"a":1}', headers)
    assert headers["webhook-signature"].startswith("v1,")


@pytest.mark.django_db
def test_a_failing_receiver_sees_the_retries_arrive_until_it_answers(manager, receiver, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0.1
    receiver.fail_first = 3
    _endpoint(manager, receiver)
    services.deliveries_for_event(_event(manager.tenant))

    _run_until(lambda: WebhookDelivery.objects.get().status == "SUCCEEDED")

    assert [r.answered for r in receiver.requests] == [500, 500, 500, 200]
    assert all(r.verified for r in receiver.requests)
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1  # one message, retried
    assert len({r.body for r in receiver.requests}) == 1
    attempts = list(WebhookAttempt.objects.order_by("number"))
    assert [(a.number, a.status_code, a.succeeded) for a in attempts] == [
        (1, 500, False),
        (2, 500, False),
        (3, 500, False),
        (4, 200, True),
    ]
    assert attempts[0].response_excerpt == "receiver failing on purpose" and attempts[0].error == "HTTP 500"
    # Each retry waited at least twice as long as the one before: 0.1 s, 0.2 s, 0.4 s (less 10 % jitter).
    gaps = [(b.created_at - a.created_at).total_seconds() for a, b in itertools.pairwise(attempts)]
    assert gaps[0] >= 0.09 and gaps[1] >= 0.18 and gaps[2] >= 0.36
    assert WebhookEndpoint.objects.get().consecutive_failures == 0


def test_the_backoff_doubles_and_is_capped(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    delays = [delivery.retry_delay(n).total_seconds() for n in range(1, 16)]
    assert 27 <= delays[0] <= 33 and 54 <= delays[1] <= 66 and 108 <= delays[2] <= 132
    assert max(delays) <= 6 * 3600 * 1.1
    assert delays[-1] >= 6 * 3600 * 0.9


@pytest.mark.django_db
def test_retries_stop_after_24_hours_with_a_last_attempt_at_the_end(manager, receiver):
    receiver.fail_always = True
    _endpoint(manager, receiver)
    start = timezone.now()
    services.deliveries_for_event(_event(manager.tenant), now=start)
    row = WebhookDelivery.objects.get()
    assert row.retry_until == start + dt.timedelta(hours=24)

    # Walk the clock forward attempt by attempt.
    clock = start
    for _ in range(40):
        delivery.deliver_due(now=clock)
        row.refresh_from_db()
        if row.status != "PENDING":
            break
        clock = row.next_attempt_at
    assert row.status == "FAILED" and row.next_attempt_at is None
    attempts = list(WebhookAttempt.objects.order_by("number"))
    assert 10 <= len(attempts) <= 20
    assert len(receiver.requests) == len(attempts)
    # The last attempt was made at the end of the window, none after it.
    assert clock == start + dt.timedelta(hours=24)


@pytest.mark.django_db(transaction=True)
def test_the_endpoint_is_disabled_at_its_50th_consecutive_failure_and_managers_are_told(manager, receiver, mailoutbox):
    receiver.fail_always = True
    endpoint = _endpoint(manager, receiver)
    for _ in range(49):
        services.deliveries_for_event(_event(manager.tenant))
    delivery.deliver_all_due()
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 49 and endpoint.is_active
    assert mailoutbox == []

    services.deliveries_for_event(_event(manager.tenant))
    delivery.deliver_all_due()
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 50 and not endpoint.is_active
    assert endpoint.disabled_reason.startswith("Disabled after 50 consecutive")
    assert mailoutbox == []  # a job sends it, after the disabling commits
    run_jobs()
    run_jobs()  # twice is harmless: one e-mail per manager and disabling
    [mail] = [m for m in mailoutbox if "Webhook disabled" in m.subject]
    assert mail.to == [manager.email] and endpoint.url in mail.subject and endpoint.url in mail.body
    # The same one-click unsubscribe as every other e-mail (RFC 8058), for its own category.
    assert mail.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = mail.extra_headers["List-Unsubscribe"].strip("<>")
    assert unsubscribe in mail.body and unsubscribe in mail.alternatives[0][0]
    token = unsubscribe.rstrip("/").rsplit("/", 1)[1]
    assert read_unsubscribe_token(token) == (str(manager.pk), "webhook_disabled")
    assert Client().post(urlparse(unsubscribe).path, {"List-Unsubscribe": "One-Click"}).status_code == 200
    assert EmailOptOut.objects.filter(user=manager, category="webhook_disabled").exists()

    # A disabled endpoint gets nothing more, even with deliveries due.
    services.deliveries_for_event(_event(manager.tenant))  # not made: the endpoint is inactive
    WebhookDelivery.objects.filter(status="PENDING").update(next_attempt_at=timezone.now())
    before = len(receiver.requests)
    assert delivery.deliver_all_due() == 0 and len(receiver.requests) == before

    # Enabled again, it starts from zero; a success resets the count.
    receiver.fail_always = False
    services.endpoint_update(actor=manager, endpoint_id=endpoint.pk, is_active=True)
    services.deliveries_for_event(_event(manager.tenant))
    delivery.deliver_all_due()
    endpoint.refresh_from_db()
    assert endpoint.is_active and endpoint.consecutive_failures == 0


@pytest.mark.django_db
def test_a_success_between_failures_resets_the_count(manager, receiver, settings):
    receiver.fail_first = 2
    endpoint = _endpoint(manager, receiver)
    for _ in range(3):
        services.deliveries_for_event(_event(manager.tenant))
        delivery.deliver_due()
    endpoint.refresh_from_db()
    assert [r.answered for r in receiver.requests] == [500, 500, 200]
    assert endpoint.consecutive_failures == 0


@pytest.mark.django_db
def test_redeliver_sends_the_same_message_again_and_logs_a_manual_attempt(manager, receiver):
    _endpoint(manager, receiver)
    services.deliveries_for_event(_event(manager.tenant))
    delivery.deliver_all_due()
    row = WebhookDelivery.objects.get()

    services.delivery_redeliver(actor=manager, delivery_id=row.pk)
    delivery.deliver_all_due()

    first, second = receiver.requests
    assert second.verified and second.headers["webhook-id"] == first.headers["webhook-id"]
    assert second.body == first.body
    assert list(WebhookAttempt.objects.order_by("number").values_list("number", "trigger")) == [
        (1, "AUTOMATIC"),
        (2, "MANUAL"),
    ]


@pytest.mark.django_db
def test_an_event_is_delivered_once_per_endpoint_however_often_it_is_fanned_out(manager, receiver):
    _endpoint(manager, receiver)
    _endpoint(manager, receiver, events=["user.created"])  # not subscribed to recognitions
    event = _event(manager.tenant)
    services.deliveries_for_event(event)
    services.deliveries_for_event(event)
    assert WebhookDelivery.objects.count() == 1
    assert delivery.deliver_all_due() == 1


@pytest.mark.django_db
def test_connections_are_reused_between_deliveries(manager, receiver):
    _endpoint(manager, receiver)
    for _ in range(20):
        services.deliveries_for_event(_event(manager.tenant))
    delivery.deliver_all_due()
    assert len(receiver.requests) == 20 and all(r.verified for r in receiver.requests)
    # Keep-alive: far fewer TCP connections than requests (at most one per sending thread).
    assert len(receiver.connections) <= 8


@pytest.mark.django_db
def test_a_receiver_that_is_down_is_a_failed_attempt_not_an_error(manager, receiver):
    endpoint = _endpoint(manager, receiver)
    endpoint.url = "http://127.0.0.1:9/closed"
    endpoint.save()
    services.deliveries_for_event(_event(manager.tenant))
    assert delivery.deliver_due() == 1
    attempt = WebhookAttempt.objects.get()
    assert not attempt.succeeded and attempt.status_code is None and attempt.error
    assert WebhookDelivery.objects.get().status == "PENDING"


def test_the_json_body_is_the_event():
    event = payloads.EventMessage(
        id=uuid.uuid4(), type="user.created", tenant_id=uuid.uuid4(), occurred_at=timezone.now(), data={"a": 1}
    )
    body = json.loads(payloads.render(event, "json"))
    assert body == {
        "id": str(event.id),
        "type": "user.created",
        "timestamp": body["timestamp"],
        "tenant_id": str(event.tenant_id),
        "data": {"a": 1},
    }
    assert body["timestamp"].endswith("Z")


@pytest.mark.django_db
def test_the_disabled_e_mail_respects_each_managers_switch(manager, employee, receiver, mailoutbox):
    """A manager who unsubscribed from the category gets nothing; the other managers still do; employees never."""
    second = ManagerFactory(tenant=manager.tenant, email="second.manager@triton.test")
    EmailOptOut.objects.create(tenant=manager.tenant, user=manager, category="webhook_disabled")
    endpoint = _endpoint(manager, receiver)
    endpoint.disabled_at = timezone.now()
    endpoint_disabled(endpoint)
    run_jobs()
    assert [m.to for m in mailoutbox] == [[second.email]]
    assert mailoutbox[0].extra_headers["X-Perksu-Category"] == "webhook_disabled"
