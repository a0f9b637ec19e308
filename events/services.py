"""Writes of the events room: recording events, marking notices read, e-mail preferences.

`record_event` is the whole API a service needs:

    with transaction.atomic():
        ...the change...
        record_event(tenant_id=..., name=event_types.REDEMPTION_ISSUED, payload=payloads.redemption(r), actor=user)

It inserts one row in the same transaction as the change (the outbox), so the
event exists exactly when the change committed. Nothing else happens there: a
worker's dispatcher (`events.dispatch`) turns pending events into consumer jobs.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from perksu.db import copy_rows
from perksu.errors import DomainError, NotFoundError

from . import event_types
from .models import EmailCategory, EmailOptOut, Event, Notification


def events_enabled() -> bool:
    """EVENTS_ENABLED=False records nothing (the benchmark's baseline); on everywhere else."""
    return getattr(settings, "EVENTS_ENABLED", True)


def json_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as plain JSON (UUIDs, dates and decimals as strings), as it is stored and delivered."""
    return json.loads(json.dumps(payload, cls=DjangoJSONEncoder))


def record_event(
    *, tenant_id: UUID, name: str, payload: dict[str, Any], actor_id: UUID | None = None, event_id: UUID | None = None
) -> Event | None:
    """Record one event in the caller's transaction (call it inside the change's `transaction.atomic()`)."""
    if name not in event_types.ALL:
        raise ValueError(f"Unknown event {name!r}: add it to events.event_types first.")
    if not events_enabled():
        return None
    return Event.objects.create(
        id=event_id or uuid.uuid4(),
        tenant_id=tenant_id,
        name=name,
        payload=json_payload(payload),
        actor_id=actor_id,
        created_at=timezone.now(),
    )


def record_events(*, tenant_id: UUID, name: str, payloads: list[dict[str, Any]], actor_id: UUID | None = None) -> int:
    """Record many events of one name in one statement (a CSV import's users: `COPY` on PostgreSQL), in the
    caller's transaction."""
    if name not in event_types.ALL:
        raise ValueError(f"Unknown event {name!r}: add it to events.event_types first.")
    if not events_enabled() or not payloads:
        return 0
    now = timezone.now()
    if connection.vendor == "postgresql":
        # One COPY of plain rows, whose JSON encoder (Django's) stores exactly what `json_payload` would.
        columns = ["id", "tenant_id", "name", "payload", "actor_id", "created_at", "dispatched_at"]
        return copy_rows(Event, columns, ((uuid.uuid4(), tenant_id, name, p, actor_id, now, None) for p in payloads))
    rows = [
        Event(
            id=uuid.uuid4(), tenant_id=tenant_id, name=name, payload=json_payload(p), actor_id=actor_id, created_at=now
        )
        for p in payloads
    ]
    Event.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def notification_mark_read(*, user, notification_id: UUID | str) -> Notification:
    """Mark one of the member's notices read (idempotent). Another member's id is a 404."""
    try:
        notification = Notification.objects.get(pk=notification_id, tenant_id=user.tenant_id, user=user)
    except (Notification.DoesNotExist, ValidationError, ValueError, TypeError) as exc:
        raise NotFoundError("Notification not found.") from exc
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(tenant_id=user.tenant_id, pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def notification_mark_all_read(*, user) -> int:
    """Mark every unread notice of the member read; returns how many changed."""
    return Notification.objects.filter(tenant_id=user.tenant_id, user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def email_preferences_set(*, user, enabled: dict[str, bool]) -> set[str]:
    """Switch e-mail categories on or off for the member; returns the categories now off."""
    unknown = set(enabled) - set(EmailCategory.values)
    if unknown:
        raise DomainError(f"Unknown e-mail category {sorted(unknown)[0]!r}.", code="invalid", field="category")
    with transaction.atomic():
        for category, on in enabled.items():
            if on:
                EmailOptOut.objects.filter(tenant_id=user.tenant_id, user=user, category=category).delete()
            else:
                email_opt_out(user=user, category=category)
    return set(EmailOptOut.objects.filter(tenant_id=user.tenant_id, user=user).values_list("category", flat=True))


def email_opt_out(*, user, category: str) -> None:
    """Switch one category off (the unsubscribe link); doing it twice is harmless."""
    try:
        with transaction.atomic():
            EmailOptOut.objects.get_or_create(tenant_id=user.tenant_id, user=user, category=category)
    except IntegrityError:
        pass  # a concurrent opt-out of the same category won: the category is off either way
