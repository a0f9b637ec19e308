"""Reads that tolerate a second of lag, on a streaming replica (DATABASE_REPLICA_URL).

Everything goes to the primary ("default") unless all of these hold:

- a replica is configured (the "replica" alias exists);
- the code runs inside `replica_reads()`, which only the chosen read paths enter:
  the feed, wallet ledgers, the log lists, insights and reconcile;
- the member has not written recently: any non-safe HTTP method by a member pins
  their requests to the primary for REPLICA_PIN_SECONDS (a timestamp in the cache,
  keyed by the user, so it holds for session and token clients alike), and a
  non-safe request never reads from the replica at all;
- no transaction is open on the primary: a read inside one must see its writes.

Writes, `select_for_update()` (Django routes it as a write), services,
idempotency records, authentication, token checks and throttles never enter
`replica_reads()`, so they stay on the primary.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})

_request: ContextVar = ContextVar("perksu_replica_request", default=None)
_reading: ContextVar[bool] = ContextVar("perksu_replica_reading", default=False)


def pin_seconds() -> float:
    return float(getattr(settings, "REPLICA_PIN_SECONDS", 5))


def _pin_key(user_id) -> str:
    return f"replica-pin:{user_id}"


def pin_to_primary(user_id) -> None:
    """The member just wrote: their next requests read from the primary for a few seconds."""
    cache.set(_pin_key(user_id), time.time(), timeout=max(int(pin_seconds()) + 1, 1))


def recently_wrote(user_id) -> bool:
    wrote_at = cache.get(_pin_key(user_id))
    return wrote_at is not None and time.time() - wrote_at < pin_seconds()


def _request_pinned() -> bool:
    """Whether the current request must read from the primary (memoised per request and user)."""
    request = _request.get()
    if request is None:
        return False
    if request.method not in SAFE_METHODS:
        return True
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    memo = getattr(request, "_replica_pin", None)
    if memo is None or memo[0] != user.pk:
        memo = (user.pk, recently_wrote(user.pk))
        request._replica_pin = memo
    return memo[1]


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


@contextmanager
def replica_reads():
    """Let the reads inside go to the replica, when one is configured and the member has no recent write.

    Usable as a decorator. The member is looked up before reads are switched, so
    authentication itself is always answered by the primary.
    """
    allowed = replica_configured() and not _request_pinned()
    token = _reading.set(allowed)
    try:
        yield
    finally:
        _reading.reset(token)


def read_alias() -> str:
    """The alias a read goes to right now."""
    if not _reading.get() or connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    return REPLICA


class ReplicaRouter:
    """DATABASE_ROUTERS entry: reads inside `replica_reads()` to the replica, everything else to the primary."""

    def db_for_read(self, model, **hints):
        return read_alias()

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same data on both

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == DEFAULT_DB_ALIAS


class ReplicaPinMiddleware:
    """Make the request visible to the router; after a non-safe request by a member, pin them to the primary."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(request)
        try:
            response = self.get_response(request)
        finally:
            _request.reset(token)
        if request.method not in SAFE_METHODS and replica_configured():
            user = getattr(request, "user", None)  # DRF's token authentication sets it on the request too
            if user is not None and user.is_authenticated:
                pin_to_primary(user.pk)
        return response


class ReplicaListMixin:
    """A DRF viewset whose list reads from the replica; authentication, permissions and throttles ran before."""

    def list(self, request, *args, **kwargs):
        with replica_reads():
            return super().list(request, *args, **kwargs)
