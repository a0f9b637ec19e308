"""The dispatcher: pending events → consumer jobs.

Run by every worker between jobs (`manage.py worker`). It takes a batch of
pending events with `SELECT … FOR UPDATE SKIP LOCKED` (workers on several
machines split the batches), enqueues one job per matching consumer and marks
the events dispatched — all in one transaction, so an event is dispatched
exactly once and its jobs exist exactly when it is marked.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone
from django_tasks_db.utils import exclusive_transaction

from .models import Event
from .registry import consumers

BATCH = 200


def dispatch_pending(*, limit: int = BATCH) -> int:
    """Dispatch up to `limit` pending events, oldest first; returns how many."""
    atomic = exclusive_transaction() if connection.vendor == "sqlite" else transaction.atomic()
    with atomic:
        pending = Event.objects.filter(dispatched_at__isnull=True).order_by("created_at", "id")
        if connection.features.has_select_for_update_skip_locked:
            pending = pending.select_for_update(skip_locked=True)
        events = list(pending.only("id", "name")[:limit])
        if not events:
            return 0
        listeners = consumers()
        for event in events:
            for consumer in listeners:
                if consumer.hears(event.name):
                    consumer.job.enqueue(event_id=str(event.id))
        Event.objects.filter(pk__in=[e.pk for e in events]).update(dispatched_at=timezone.now())
    return len(events)
