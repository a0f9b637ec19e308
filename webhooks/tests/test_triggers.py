"""On PostgreSQL every webhook attempt is append-only in the database itself, like the ledgers: no UPDATE,
and no DELETE except the attempts of the endpoint `endpoint_delete` is deleting, in that transaction only.

Raw SQL on purpose: not even a statement that bypasses the ORM can rewrite the delivery log.
"""

from __future__ import annotations

import uuid

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from webhooks import payloads, services
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _endpoint_with_attempts(manager, url: str) -> WebhookEndpoint:
    endpoint = services.endpoint_create(actor=manager, url=url, events=["*"], format="json").endpoint
    message = payloads.EventMessage(
        id=uuid.uuid4(),
        type="recognition.created",
        tenant_id=manager.tenant_id,
        occurred_at=timezone.now(),
        data={"points": 5},
        tenant_name=manager.tenant.name,
    )
    services.deliveries_for_event(message)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    for number, code in ((1, 500), (2, 200)):
        WebhookAttempt.objects.create(
            tenant_id=endpoint.tenant_id,
            delivery=delivery,
            endpoint=endpoint,
            number=number,
            succeeded=code == 200,
            status_code=code,
            latency_ms=12,
        )
    return endpoint


@pytest.fixture
def endpoints(manager, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    return (
        _endpoint_with_attempts(manager, "http://127.0.0.1:9/a"),
        _endpoint_with_attempts(manager, "http://127.0.0.1:9/b"),
    )


def _refused(sql: str, params: list, *, erasable: WebhookEndpoint | None = None) -> str:
    with pytest.raises(DatabaseError) as caught, transaction.atomic(), connection.cursor() as cursor:
        if erasable is not None:
            services.allow_erasing_attempts(erasable.pk)
        cursor.execute(sql, params)
    return str(caught.value)


def test_update_is_refused(endpoints):
    row = WebhookAttempt.objects.order_by("number").first()
    message = _refused("UPDATE webhook_attempts SET status_code = 200, latency_ms = 1 WHERE id = %s", [row.pk])
    assert "webhook_attempts is append-only: UPDATE refused" in message
    again = WebhookAttempt.objects.get(pk=row.pk)
    assert (again.status_code, again.latency_ms) == (500, 12)
    with pytest.raises(DatabaseError), transaction.atomic():
        WebhookAttempt.objects.filter(pk=row.pk).update(error="rewritten")


def test_delete_is_refused(endpoints):
    count = WebhookAttempt.objects.count()
    message = _refused("DELETE FROM webhook_attempts WHERE endpoint_id = %s", [endpoints[0].pk])
    assert "webhook_attempts is append-only: DELETE refused" in message
    with pytest.raises(DatabaseError), transaction.atomic():
        WebhookAttempt.objects.all().delete()
    assert WebhookAttempt.objects.count() == count == 4


@pytest.mark.django_db(transaction=True)  # a real transaction, to see the setting end with it
def test_the_erasable_endpoint_opens_its_own_attempts_only_and_only_for_its_transaction(endpoints):
    first, second = endpoints
    # Naming the first endpoint does not let the second's attempts go.
    message = _refused(
        "DELETE FROM webhook_attempts WHERE endpoint_id = %s",
        [second.pk],
        erasable=first,
    )
    assert "DELETE refused" in message
    # Nor does it allow an UPDATE of its own.
    message = _refused(
        "UPDATE webhook_attempts SET latency_ms = 0 WHERE endpoint_id = %s",
        [first.pk],
        erasable=first,
    )
    assert "UPDATE refused" in message
    with transaction.atomic():
        services.allow_erasing_attempts(first.pk)
    # The transaction is over: the setting went with it.
    assert "DELETE refused" in _refused("DELETE FROM webhook_attempts WHERE endpoint_id = %s", [first.pk])
    assert WebhookAttempt.objects.count() == 4


def test_deleting_an_endpoint_still_deletes_its_deliveries_and_attempts(endpoints, manager):
    first, second = endpoints
    services.endpoint_delete(actor=manager, endpoint_id=first.pk)
    assert not WebhookEndpoint.objects.filter(pk=first.pk).exists()
    assert not WebhookDelivery.objects.filter(endpoint_id=first.pk).exists()
    assert set(WebhookAttempt.objects.values_list("endpoint_id", flat=True)) == {second.pk}
    assert "DELETE refused" in _refused("DELETE FROM webhook_attempts WHERE endpoint_id = %s", [second.pk])
