"""Every write of the webhooks app: endpoints, the deliveries of an event, redelivery."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from django.db import connection, transaction
from django.utils import timezone

from events import event_types
from perksu.errors import DomainError, PermissionDeniedError, get_or_not_found
from tenants.models import Tenant, User

from . import payloads
from .addresses import check_url
from .delivery import retry_window
from .models import WebhookDelivery, WebhookEndpoint

EVENT_TYPES = event_types.ALL
"""The events an endpoint may subscribe to (SPEC §12); `*` subscribes to all of them."""
MAX_ENDPOINTS_PER_TENANT = 20
SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix of every secret, not a secret


def new_secret() -> str:
    """A Standard Webhooks signing secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _require_manager(actor: User) -> None:
    if not (actor.is_active and actor.is_manager):
        raise PermissionDeniedError("Only tenant managers manage webhooks.")


def _events(values: Iterable[str] | None) -> list[str]:
    events = list(dict.fromkeys(values or []))
    if not events:
        raise DomainError("Choose at least one event (or * for every event).", code="required", field="events")
    unknown = [e for e in events if e != "*" and e not in EVENT_TYPES]
    if unknown:
        raise DomainError(
            f"Unknown event {unknown[0]!r}; known events: {', '.join(EVENT_TYPES)}.", code="invalid", field="events"
        )
    return ["*"] if "*" in events else events


def _format(value: str) -> str:
    if value not in WebhookEndpoint.Format.values:
        raise DomainError("The format is json, slack or teams.", code="invalid", field="format")
    return value


@dataclass(frozen=True)
class CreatedEndpoint:
    endpoint: WebhookEndpoint
    secret: str
    """Shown once, in the creation's answer."""


def endpoint_create(
    *, actor: User, url: str, events: Iterable[str], format: str = "json", description: str = ""
) -> CreatedEndpoint:
    _require_manager(actor)
    url = check_url((url or "").strip())
    events = _events(events)
    fmt = _format(format)
    with transaction.atomic():
        # Lock the tenant row so two creations cannot both pass the count.
        Tenant.objects.select_for_update().filter(pk=actor.tenant_id).exists()
        if WebhookEndpoint.objects.filter(tenant_id=actor.tenant_id).count() >= MAX_ENDPOINTS_PER_TENANT:
            raise DomainError(
                f"A company can have at most {MAX_ENDPOINTS_PER_TENANT} webhook endpoints.",
                code="too_many_endpoints",
                maximum=MAX_ENDPOINTS_PER_TENANT,
            )
        secret = new_secret()
        endpoint = WebhookEndpoint.objects.create(
            tenant_id=actor.tenant_id,
            url=url,
            events=events,
            format=fmt,
            description=(description or "").strip()[:200],
            secret=secret,
            created_by=actor,
        )
    return CreatedEndpoint(endpoint, secret)


def endpoint_get(*, actor: User, endpoint_id: UUID | str) -> WebhookEndpoint:
    _require_manager(actor)
    return get_or_not_found(
        WebhookEndpoint.objects.filter(tenant_id=actor.tenant_id), "Webhook not found.", pk=endpoint_id
    )


def endpoint_update(
    *,
    actor: User,
    endpoint_id: UUID | str,
    url: str | None = None,
    events: Iterable[str] | None = None,
    format: str | None = None,
    description: str | None = None,
    is_active: bool | None = None,
) -> WebhookEndpoint:
    """Change an endpoint. Enabling a disabled endpoint clears its failure count; pending deliveries resume."""
    endpoint = endpoint_get(actor=actor, endpoint_id=endpoint_id)
    if url is not None:
        endpoint.url = check_url(url.strip())
    if events is not None:
        endpoint.events = _events(events)
    if format is not None:
        endpoint.format = _format(format)
    if description is not None:
        endpoint.description = description.strip()[:200]
    if is_active is not None and is_active != endpoint.is_active:
        endpoint.is_active = is_active
        if is_active:
            endpoint.consecutive_failures = 0
            endpoint.disabled_at = None
            endpoint.disabled_reason = ""
        else:
            endpoint.disabled_at = timezone.now()
            endpoint.disabled_reason = f"Disabled by {actor.full_name or actor.email}."
    endpoint.updated_at = timezone.now()
    endpoint.save()
    return endpoint


def endpoint_delete(*, actor: User, endpoint_id: UUID | str) -> None:
    """Delete an endpoint with its deliveries and their attempts.

    Attempts are append-only on PostgreSQL (webhooks migration 0002): the trigger lets through
    the DELETE of this endpoint's attempts only, named for this transaction alone."""
    endpoint = endpoint_get(actor=actor, endpoint_id=endpoint_id)
    with transaction.atomic():
        allow_erasing_attempts(endpoint.pk)
        endpoint.delete()


def allow_erasing_attempts(endpoint_id: UUID) -> None:
    """Until the current transaction ends, the append-only trigger lets the attempts of this one endpoint be
    deleted (PostgreSQL; SQLite has no trigger)."""
    if connection.vendor != "postgresql":
        return
    value = str(UUID(str(endpoint_id)))  # a UUID's text only: safe as the literal SET needs
    with connection.cursor() as cursor:
        # SET LOCAL is set_config(…, true). On a Citus cluster the attempts and their trigger are on the
        # workers: with `citus.propagate_set_commands = local` the coordinator sends SET LOCAL to them at the
        # start of their part of this transaction (a function call's setting would stay on the coordinator).
        # On plain PostgreSQL the first line sets an unused placeholder, ended with the transaction.
        cursor.execute("SET LOCAL citus.propagate_set_commands TO 'local'")
        cursor.execute(f"SET LOCAL perksu.webhook_attempts_erasable TO '{value}'")


def endpoint_rotate_secret(*, actor: User, endpoint_id: UUID | str) -> CreatedEndpoint:
    endpoint = endpoint_get(actor=actor, endpoint_id=endpoint_id)
    endpoint.secret = new_secret()
    endpoint.updated_at = timezone.now()
    endpoint.save(update_fields=["secret", "updated_at"])
    return CreatedEndpoint(endpoint, endpoint.secret)


def delivery_redeliver(*, actor: User, delivery_id: UUID | str, now: dt.datetime | None = None) -> WebhookDelivery:
    """Send a delivery again now (same `webhook-id`, same body), with a fresh 24-hour retry window.

    A manager redelivers their tenant's deliveries; a platform admin (the console) any tenant's.
    """
    if actor.is_platform_admin:
        # Any tenant's: the delivery's tenant is read first, so the lock names it (one shard on Citus).
        deliveries = WebhookDelivery.objects.values_list("tenant_id", flat=True)
        tenant_id = get_or_not_found(deliveries, "Delivery not found.", pk=delivery_id)
    else:
        _require_manager(actor)
        tenant_id = actor.tenant_id
    deliveries = WebhookDelivery.objects.select_for_update().filter(tenant_id=tenant_id)
    now = now or timezone.now()
    with transaction.atomic():
        delivery = get_or_not_found(
            deliveries,
            "Delivery not found.",
            pk=delivery_id,
        )
        if not WebhookEndpoint.objects.filter(pk=delivery.endpoint_id, is_active=True).exists():
            raise DomainError("This endpoint is disabled: enable it before redelivering.", code="endpoint_disabled")
        delivery.status = WebhookDelivery.Status.PENDING
        delivery.next_attempt_at = now
        delivery.retry_until = now + retry_window()
        delivery.redeliver_requested = True
        delivery.save(update_fields=["status", "next_attempt_at", "retry_until", "redeliver_requested"])
    return delivery


def deliveries_for_event(event: payloads.EventMessage, *, now: dt.datetime | None = None) -> int:
    """Make one pending delivery of `event` for each active endpoint of its tenant that wants it.

    Safe to run twice: a (tenant, endpoint, event) delivery is made at most once
    (unique key; a second run inserts nothing). Returns the number of endpoints matched.
    """
    now = now or timezone.now()
    # An endpoint hears the events recorded after it was created, not a backlog still waiting for a worker.
    active = WebhookEndpoint.objects.filter(
        tenant_id=event.tenant_id, is_active=True, created_at__lte=event.occurred_at
    )
    endpoints = [e for e in active if e.wants(event.type)]
    if not endpoints:
        return 0
    rendered: dict[str, str] = {}
    rows = []
    for endpoint in endpoints:
        if endpoint.format not in rendered:
            rendered[endpoint.format] = payloads.render(event, endpoint.format)
        rows.append(
            WebhookDelivery(
                tenant_id=event.tenant_id,
                endpoint=endpoint,
                event_id=event.id,
                event_type=event.type,
                body=rendered[endpoint.format],
                next_attempt_at=now,
                retry_until=now + retry_window(),
                created_at=now,
            )
        )
    WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
