"""Sending deliveries: claim the due ones, call the endpoints, record every attempt.

`deliver_due()` is the worker's unit of work and safe to run on many machines at
once: it claims up to `limit` due deliveries in one short transaction
(`SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite serialises writers),
pushing their due time a lease ahead, so no two workers send the same attempt;
then it calls the endpoints outside any transaction, several at a time, over
pooled keep-alive connections; then it records every attempt and the new state
of each delivery and endpoint in one transaction. A worker that dies after the
claim loses nothing: the lease expires and the delivery is attempted again
(a receiver may see a `webhook-id` twice, which Standard Webhooks receivers
deduplicate). No money movement ever waits on a webhook: deliveries are rows
made after the event's transaction, sent here.

Retries: after a failed attempt the next one is due after an exponentially
growing delay (`WEBHOOK_RETRY_BASE_SECONDS` × 2ⁿ⁻¹, at most 6 h, with ±10 %
jitter), until `retry_until` (24 h after the delivery was made or redelivered);
the last attempt is made at that moment, after which the delivery is FAILED.
An endpoint is disabled at its `WEBHOOK_DISABLE_AFTER`th (50th) consecutive
failed attempt, and its tenant's managers are told by e-mail.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import urllib3
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from standardwebhooks import Webhook

from perksu.errors import DomainError

from .addresses import Target, resolve_for_delivery
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

log = logging.getLogger("perksu.webhooks")

EXCERPT_CHARS = 1000
MAX_DELAY = dt.timedelta(hours=6)
USER_AGENT = "Perksu-Webhooks/1.0"


def _setting(name: str, default):
    return getattr(settings, name, default)


def retry_window() -> dt.timedelta:
    return dt.timedelta(seconds=_setting("WEBHOOK_RETRY_WINDOW_SECONDS", 24 * 3600))


def disable_after() -> int:
    return int(_setting("WEBHOOK_DISABLE_AFTER", 50))


def retry_delay(failed_attempts: int) -> dt.timedelta:
    """How long after the `failed_attempts`th failure the next attempt is due."""
    base = float(_setting("WEBHOOK_RETRY_BASE_SECONDS", 30))
    seconds = min(base * 2 ** max(failed_attempts - 1, 0), MAX_DELAY.total_seconds())
    return dt.timedelta(seconds=seconds * random.uniform(0.9, 1.1))  # noqa: S311 - jitter, not a secret


def sign(*, secret: str, message_id: str, timestamp: dt.datetime, body: str) -> dict[str, str]:
    """The three Standard Webhooks headers of one attempt."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, timestamp, body),
    }


# --- HTTP ------------------------------------------------------------------------------------------------------------

_pools: OrderedDict[tuple, urllib3.HTTPConnectionPool] = OrderedDict()
_pools_lock = threading.Lock()
MAX_POOLS = 256


def _pool(target: Target) -> urllib3.HTTPConnectionPool:
    """A keep-alive connection pool to one checked address, for one host name."""
    key = (target.scheme, target.address, target.port, target.host)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is not None:
            _pools.move_to_end(key)
            return pool
        size = int(_setting("WEBHOOK_CONCURRENCY", 8))
        if target.scheme == "https":
            pool = urllib3.HTTPSConnectionPool(
                target.address,
                target.port,
                maxsize=size,
                server_hostname=target.host,
                assert_hostname=target.host,
                cert_reqs="CERT_REQUIRED",
            )
        else:
            pool = urllib3.HTTPConnectionPool(target.address, target.port, maxsize=size)
        _pools[key] = pool
        while len(_pools) > MAX_POOLS:
            _, old = _pools.popitem(last=False)
            old.close()
        return pool


@dataclass
class Job:
    delivery_id: object
    tenant_id: object
    endpoint_id: object
    url: str
    secret: str
    body: str
    number: int
    manual: bool
    retry_until: dt.datetime


@dataclass
class Outcome:
    job: Job
    started_at: dt.datetime
    succeeded: bool
    status_code: int | None
    latency_ms: int
    error: str
    excerpt: str


def _host_header(target: Target) -> str:
    default = 443 if target.scheme == "https" else 80
    host = f"[{target.host}]" if ":" in target.host else target.host
    return host if target.port == default else f"{host}:{target.port}"


def send(job: Job) -> Outcome:
    """One attempt: resolve and check the host, sign, POST, read at most a short excerpt."""
    started_at = timezone.now()
    clock = time.monotonic()
    status_code, error, excerpt = None, "", ""
    try:
        target = resolve_for_delivery(job.url)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "Host": _host_header(target),
            **sign(secret=job.secret, message_id=str(job.delivery_id), timestamp=started_at, body=job.body),
        }
        timeout = float(_setting("WEBHOOK_TIMEOUT_SECONDS", 10))
        response = _pool(target).urlopen(
            "POST",
            target.path,
            body=job.body.encode(),
            headers=headers,
            retries=False,
            redirect=False,
            assert_same_host=False,
            preload_content=False,
            timeout=urllib3.Timeout(connect=min(timeout, 5), read=timeout),
        )
        try:
            status_code = response.status
            raw = response.read(64 * 1024)
            excerpt = raw.decode("utf-8", "replace")[:EXCERPT_CHARS]
        finally:
            response.release_conn()
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
    except DomainError as exc:
        error = exc.message
    except urllib3.exceptions.TimeoutError:
        error = "Timed out"
    except urllib3.exceptions.NewConnectionError as exc:
        error = "Could not connect: " + str(exc).rsplit(": ", 1)[-1]
    except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    latency_ms = int((time.monotonic() - clock) * 1000)
    succeeded = status_code is not None and 200 <= status_code < 300
    return Outcome(job, started_at, succeeded, status_code, latency_ms, error[:300], excerpt)


_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _send_all(jobs: list[Job]) -> list[Outcome]:
    global _executor
    if len(jobs) <= 1:
        return [send(job) for job in jobs]
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(
                max_workers=int(_setting("WEBHOOK_CONCURRENCY", 8)), thread_name_prefix="webhook"
            )
    return list(_executor.map(send, jobs))


# --- Claim and record ------------------------------------------------------------------------------------------------


def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=2 * float(_setting("WEBHOOK_TIMEOUT_SECONDS", 10)) + 30)


def claim(*, limit: int, now: dt.datetime) -> list[Job]:
    """Take up to `limit` due deliveries of active endpoints for this worker (one short transaction).

    Tenant by tenant, the tenant with the longest-due delivery first: its due deliveries are locked
    and leased by their tenant (on Citus a row lock must name one tenant's shard, docs/SCALING.md)."""
    with transaction.atomic():
        due = WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now, endpoint__is_active=True
        ).order_by("next_attempt_at")
        tenants = list(dict.fromkeys(due.values_list("tenant_id", flat=True)[:limit]))
        rows: list[tuple] = []
        for tenant_id in tenants:
            if len(rows) >= limit:
                break
            mine = due.filter(tenant_id=tenant_id)
            if connection.features.has_select_for_update_skip_locked:
                mine = mine.select_for_update(skip_locked=True, of=("self",))
            taken = list(
                mine.values_list(
                    "id", "tenant_id", "endpoint_id", "endpoint__url", "endpoint__secret", "body",
                    "attempt_count", "redeliver_requested", "retry_until",
                )[: limit - len(rows)]
            )  # fmt: skip
            if taken:
                WebhookDelivery.objects.filter(tenant_id=tenant_id, pk__in=[r[0] for r in taken]).update(
                    next_attempt_at=now + _lease(), attempt_count=F("attempt_count") + 1, redeliver_requested=False
                )
            rows += taken
        if not rows:
            return []
    return [
        Job(id_, tenant_id, endpoint_id, url, secret, body, count + 1, manual, retry_until)
        for id_, tenant_id, endpoint_id, url, secret, body, count, manual, retry_until in rows
    ]


def record(outcomes: list[Outcome], *, now: dt.datetime) -> list[WebhookEndpoint]:
    """Write the attempts and the new state of their deliveries and endpoints; returns the endpoints it disabled."""
    if not outcomes:
        return []
    disabled: list[WebhookEndpoint] = []
    with transaction.atomic():
        WebhookAttempt.objects.bulk_create(
            [
                WebhookAttempt(
                    tenant_id=o.job.tenant_id,
                    delivery_id=o.job.delivery_id,
                    endpoint_id=o.job.endpoint_id,
                    number=o.job.number,
                    trigger=WebhookAttempt.Trigger.MANUAL if o.job.manual else WebhookAttempt.Trigger.AUTOMATIC,
                    succeeded=o.succeeded,
                    status_code=o.status_code,
                    latency_ms=o.latency_ms,
                    error=o.error,
                    response_excerpt=o.excerpt,
                    created_at=o.started_at,
                )
                for o in outcomes
            ],
            ignore_conflicts=True,  # an attempt recorded twice (a lease that expired mid-call) keeps the first
        )
        updates = [
            WebhookDelivery(
                pk=o.job.delivery_id,
                tenant_id=o.job.tenant_id,
                status=WebhookDelivery.Status.SUCCEEDED,
                next_attempt_at=None,
                last_attempt_at=o.started_at,
                last_status_code=o.status_code,
            )
            for o in outcomes
            if o.succeeded
        ]
        for o in (o for o in outcomes if not o.succeeded):
            due = now + retry_delay(o.job.number)
            if now >= o.job.retry_until:
                status, due = WebhookDelivery.Status.FAILED, None
            else:
                status, due = WebhookDelivery.Status.PENDING, min(due, o.job.retry_until)
            updates.append(
                WebhookDelivery(
                    pk=o.job.delivery_id,
                    tenant_id=o.job.tenant_id,
                    status=status,
                    next_attempt_at=due,
                    last_attempt_at=o.started_at,
                    last_status_code=o.status_code,
                )
            )
        # A batch spans tenants: each tenant's rows are updated by (tenant_id, id), one statement per tenant,
        # so on a cluster every statement goes to that tenant's shard alone (docs/SCALING.md).
        by_tenant: dict[object, list[WebhookDelivery]] = {}
        for delivery in updates:
            by_tenant.setdefault(delivery.tenant_id, []).append(delivery)
        for tenant_id, deliveries in by_tenant.items():
            WebhookDelivery.objects.filter(tenant_id=tenant_id).bulk_update(
                deliveries, ["status", "next_attempt_at", "last_attempt_at", "last_status_code"]
            )

        by_endpoint: dict[tuple[object, object], list[Outcome]] = {}
        for o in sorted(outcomes, key=lambda o: o.started_at):
            by_endpoint.setdefault((o.job.tenant_id, o.job.endpoint_id), []).append(o)
        for (tenant_id, endpoint_id), results in by_endpoint.items():
            last_success = max((i for i, o in enumerate(results) if o.succeeded), default=None)
            endpoints = WebhookEndpoint.objects.filter(tenant_id=tenant_id, pk=endpoint_id)
            if last_success is not None:
                endpoints.update(consecutive_failures=len(results) - last_success - 1)
            else:
                endpoints.update(consecutive_failures=F("consecutive_failures") + len(results))
            disabled += _disable_if_failing(tenant_id, endpoint_id, now=now)
    return disabled


def _disable_if_failing(tenant_id, endpoint_id, *, now: dt.datetime) -> list[WebhookEndpoint]:
    limit = disable_after()
    reason = f"Disabled after {limit} consecutive failed deliveries."
    changed = WebhookEndpoint.objects.filter(
        tenant_id=tenant_id, pk=endpoint_id, is_active=True, consecutive_failures__gte=limit
    ).update(is_active=False, disabled_at=now, disabled_reason=reason, updated_at=now)
    if not changed:
        return []
    endpoint = WebhookEndpoint.objects.select_related("tenant").get(tenant_id=tenant_id, pk=endpoint_id)
    from .notify import endpoint_disabled

    endpoint_disabled(endpoint)
    return [endpoint]


def deliver_due(*, limit: int = 100, now: dt.datetime | None = None) -> int:
    """Claim, send and record one batch of due deliveries; the number of attempts made."""
    jobs = claim(limit=limit, now=now or timezone.now())
    if not jobs:
        return 0
    outcomes = _send_all(jobs)
    record(outcomes, now=now or timezone.now())
    for o in outcomes:
        if not o.succeeded:
            log.debug("webhook attempt %s of %s failed: %s", o.job.number, o.job.delivery_id, o.error)
    return len(outcomes)


def deliver_all_due(*, limit: int = 100, max_batches: int = 1000) -> int:
    """Run batches until nothing is due (or `max_batches`); the number of attempts made."""
    total = 0
    for _ in range(max_batches):
        made = deliver_due(limit=limit)
        if not made:
            break
        total += made
    return total
