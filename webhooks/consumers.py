"""How webhooks hear events: a consumer job per event, and the worker's delivery round.

- `webhooks_fan_out(event_id)` (a job the dispatcher enqueues once per event) makes
  one delivery per matching endpoint; run twice, it makes nothing more.
- Every worker sends what is due (`delivery.deliver_all_due`) each second between
  jobs, so a first attempt follows the event within about a second and retries
  follow their backoff. Sending is never part of a money movement's transaction.
"""

from __future__ import annotations

from events.jobs import job
from events.models import Event
from events.registry import register_consumer, register_periodic
from tenants.models import Tenant

from . import delivery, services
from .payloads import EventMessage

DELIVERY_ROUND_SECONDS = 1.0
BATCHES_PER_ROUND = 20


def event_message(event: Event, tenant: Tenant | None = None) -> EventMessage:
    tenant = tenant or Tenant.objects.get(pk=event.tenant_id)
    return EventMessage(
        id=event.id,
        type=event.name,
        tenant_id=event.tenant_id,
        occurred_at=event.created_at,
        data=event.payload,
        tenant_name=tenant.name,
        currency_label=tenant.currency_label,
    )


@job(max_attempts=8, backoff_seconds=10)
def webhooks_fan_out(event_id: str) -> int:
    """Make the deliveries of one event (safe to run twice: one delivery per endpoint and event)."""
    event = Event.objects.filter(pk=event_id).first()
    if event is None:
        return 0
    return services.deliveries_for_event(event_message(event))


def delivery_round() -> int:
    return delivery.deliver_all_due(max_batches=BATCHES_PER_ROUND)


register_consumer("webhooks", webhooks_fan_out, events=None)
register_periodic("webhooks.deliver", delivery_round, every_seconds=DELIVERY_ROUND_SECONDS)
