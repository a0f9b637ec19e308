"""The dispatcher: pending events → consumer jobs.

Run by every worker between jobs (`manage.py worker`). It takes a batch of
pending events with `SELECT … FOR UPDATE SKIP LOCKED` (workers on several
machines split the batches), enqueues one job per matching consumer and marks
the events dispatched — all in one transaction, so an event is dispatched
exactly once and its jobs exist exactly when it is marked.

The batch is locked and marked tenant by tenant: the tenants with the oldest
pending events are read first, without a lock, then each tenant's pending
events are locked by its tenant (docs/SCALING.md: on Citus a row lock must
name one tenant's shard; a lock across tenants is refused).
"""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.utils import exclusive_transaction

from .models import Event
from .registry import consumers

BATCH = 200


def dispatch_pending(*, limit: int = BATCH) -> int:
    """Dispatch up to `limit` pending events, the tenant with the oldest first; returns how many."""
    atomic = exclusive_transaction() if connection.vendor == "sqlite" else transaction.atomic()
    with atomic:
        pending = Event.objects.filter(dispatched_at__isnull=True).order_by("created_at", "id")
        tenants = list(dict.fromkeys(pending.values_list("tenant_id", flat=True)[:limit]))
        events: list[Event] = []
        for tenant_id in tenants:
            if len(events) >= limit:
                break
            rows = pending.filter(tenant_id=tenant_id)
            if connection.features.has_select_for_update_skip_locked:
                rows = rows.select_for_update(skip_locked=True)
            events += rows.only("id", "tenant_id", "name", "created_at")[: limit - len(events)]
        if not events:
            return 0
        events.sort(key=lambda e: (e.created_at, e.id))
        listeners = consumers()
        for event in events:
            for consumer in listeners:
                if consumer.hears(event.name):
                    consumer.job.enqueue(event_id=str(event.id))
        now = timezone.now()
        for tenant_id in dict.fromkeys(e.tenant_id for e in events):
            marked = [e.pk for e in events if e.tenant_id == tenant_id]
            Event.objects.filter(tenant_id=tenant_id, pk__in=marked).update(dispatched_at=now)
    return len(events)
