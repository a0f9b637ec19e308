"""Run a money operation at most once per (user, scope, key) — SPEC §6.

A member's records live with their tenant's rows (`IdempotencyRecord`, keyed by
(tenant, user, scope, key), so every statement below names the tenant); a platform
admin's, who has no tenant, in `PlatformIdempotencyRecord`.

The API passes the `Idempotency-Key` header, the pages a one-time form token.

1. *Claim*: a short transaction inserts an IN_PROGRESS record; the unique
   (user, scope, key) index decides which of several concurrent duplicates
   wins. A loser finds the record: another fingerprint → 422, still in
   progress → 409, done → the stored outcome is replayed.
2. *Run*: the operation and the record's completion (DONE, with the response)
   commit in one transaction, so an effect without its stored outcome, or the
   reverse, cannot exist.
3. A business refusal (`DomainError`) rolls the operation back and is stored as
   the outcome, so a retry gets the same refusal. Any other failure (a lock
   timeout, a lost connection) deletes the claim: nothing moved, and a retry
   with the same key runs again.

A claim left IN_PROGRESS is taken over when its owner is known to be gone: its
operation's transaction cannot have committed without completing the record.

- On PostgreSQL the claim records the database connection that made it (its
  backend's process id and start time, `pg_backend_pid()` and
  `pg_stat_activity.backend_start`); the operation runs on that same connection.
  A duplicate that finds the claim IN_PROGRESS asks `pg_stat_activity` whether
  that backend still exists; if not (the worker was killed, the connection was
  terminated, the server restarted) the claim is taken over at once. This is what
  lets a client retry within seconds after a `503 … retry shortly` answered while
  the database restarted: the release of the claim could not reach the database,
  but its connection is gone, so the retry runs instead of answering 409.
  (Chosen over claiming inside the operation's transaction, which would make a
  concurrent duplicate wait on the first's locks instead of answering 409 at once.)
- Otherwise (SQLite, or a claim whose connection is unknown) after `STALE_AFTER`.

Behind a pooler that hands one server connection to many clients (PgBouncer in
transaction mode) the recorded backend outlives the client, and a stranded claim
falls back to `STALE_AFTER`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from perksu.errors import DomainError, IdempotencyConflictError, IdempotencyReuseError
from tenants.models import User

from .audit import idempotency_key_set
from .models import IdempotencyRecord, KeyedOutcome, PlatformIdempotencyRecord

STALE_AFTER = timedelta(minutes=5)
RETENTION = timedelta(hours=24)
MAX_KEY_LENGTH = 255


def _records(user: User) -> tuple[type[KeyedOutcome], dict]:
    """The user's table and the columns that place a row in it: their tenant's records, or the
    platform's for staff (no customer tenant: `member_tenant_id` is None)."""
    if user.member_tenant_id is None:
        return PlatformIdempotencyRecord, {}
    return IdempotencyRecord, {"tenant_id": user.tenant_id}


def _record(record: KeyedOutcome):
    """`record` alone, by its tenant and id (a single-tenant statement)."""
    if isinstance(record, IdempotencyRecord):
        return IdempotencyRecord.objects.filter(tenant_id=record.tenant_id, pk=record.pk)
    return type(record).objects.filter(pk=record.pk)


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]
    replayed: bool


def fingerprint(payload: Any) -> str:
    """A stable hash of a request body (key order and whitespace do not matter)."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def run_idempotent(
    *,
    user: User,
    scope: str,
    key: str | None,
    request_fingerprint: str,
    operation: Callable[[], tuple[int, dict]],
    self_contained: bool = False,
) -> Outcome:
    """Run `operation` (returning `(status, body)`) once for this key, or replay its outcome.

    Without a key the operation simply runs in a transaction — or, when it is
    `self_contained` (one service call that is atomic on its own, like the award,
    whose one statement commits by itself in autocommit), as it is, which saves the
    BEGIN, SAVEPOINT, RELEASE and COMMIT round trips around it. A first refusal
    raises its `DomainError`; its replay comes back as an `Outcome` carrying the
    same status and body.
    """
    if key is None:
        with nullcontext() if self_contained else transaction.atomic():
            status, body = operation()
        return Outcome(status, body, replayed=False)
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise DomainError(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters.", code="invalid_idempotency_key")

    record, replay = _claim(user, scope, key, request_fingerprint)
    if replay is not None:
        return replay
    try:
        with idempotency_key_set(key), transaction.atomic():
            status, body = operation()
            _complete(record, status, body)
    except DomainError as exc:
        _complete(record, exc.status_code, exc.as_dict())
        raise
    except BaseException:
        _record(record).filter(state=KeyedOutcome.State.IN_PROGRESS).delete()
        raise
    return Outcome(status, body, replayed=False)


def _claimant() -> dict:
    """The columns naming the connection that claims: its backend's pid and start time, read once
    per database connection and kept with it (a new connection reads its own). Plain values, not
    a subquery in the claim's INSERT, which Citus refuses (docs/SCALING.md)."""
    if connection.vendor != "postgresql":
        return {}
    connection.ensure_connection()
    raw = connection.connection
    known = getattr(connection, "_perksu_claimant", None)
    if known is None or known[0] is not raw:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()")
            pid, started = cursor.fetchone()
        known = connection._perksu_claimant = (raw, pid, started)
    return {"backend_pid": known[1], "backend_started_at": known[2]}


def _claimant_gone(record: KeyedOutcome) -> bool:
    """Whether the connection that made `record`'s claim no longer exists (PostgreSQL only)."""
    if connection.vendor != "postgresql" or record.backend_pid is None or record.backend_started_at is None:
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = %s AND backend_start = %s)",
            [record.backend_pid, record.backend_started_at],
        )
        return cursor.fetchone()[0]


def _claim(user: User, scope: str, key: str, request_fingerprint: str) -> tuple[KeyedOutcome, Outcome | None]:
    model, placed = _records(user)
    try:
        with transaction.atomic():
            record = model.objects.create(
                **placed, user=user, scope=scope, key=key, fingerprint=request_fingerprint, **_claimant()
            )
        return record, None
    except IntegrityError:
        pass
    existing = model.objects.filter(**placed, user=user, scope=scope, key=key).first()
    if existing is None:
        # The winner's claim vanished between our insert and this read: its operation
        # failed and released the key. Nothing ran for us; the client retries.
        raise IdempotencyConflictError("A request with this Idempotency-Key is still in progress. Retry shortly.")
    if existing.fingerprint != request_fingerprint:
        raise IdempotencyReuseError("This Idempotency-Key was already used with a different request body.")
    if existing.state == KeyedOutcome.State.DONE:
        return existing, Outcome(existing.response_status, existing.response_body, replayed=True)
    now = timezone.now()
    if existing.updated_at < now - STALE_AFTER or _claimant_gone(existing):
        # Conditional on the claim as read: of several duplicates taking over, one wins;
        # and a claim completed meanwhile (DONE) is not taken.
        taken = (
            _record(existing)
            .filter(state=KeyedOutcome.State.IN_PROGRESS, updated_at=existing.updated_at)
            .update(updated_at=now, **_claimant())
        )
        if taken:
            return existing, None
    raise IdempotencyConflictError("A request with this Idempotency-Key is still in progress. Retry shortly.")


def _complete(record: KeyedOutcome, status: int, body: dict) -> None:
    _record(record).update(
        state=KeyedOutcome.State.DONE, response_status=status, response_body=body, updated_at=timezone.now()
    )


def purge_expired(*, now=None) -> int:
    """Delete completed records past their retention; returns how many."""
    cutoff = (now or timezone.now()) - RETENTION
    deleted = 0
    for model in (IdempotencyRecord, PlatformIdempotencyRecord):
        count, _ = model.objects.filter(state=KeyedOutcome.State.DONE, updated_at__lt=cutoff).delete()
        deleted += count
    return deleted
