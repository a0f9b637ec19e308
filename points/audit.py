"""One structured log line per money movement (logger ``perksu.money``).

Every money service calls `log_movement` inside its transaction; the line is
emitted by `transaction.on_commit`, so a movement that rolls back (a refusal, a
fault, a lost race) logs nothing, and one that commits logs exactly once.

The line is JSON, one object per line, e.g.::

    {"event":"money_movement","operation":"award","tenant":"…","actor":"…",
     "amount":300,"funding_source":"POOL","pool_after":49700,…,"idempotency_key":"…"}

Only ids, figures and the idempotency key are logged: never notes or messages
(free text typed by users), never emails, passwords or tokens.

The idempotency key is known only to the caller (the API's header, the pages'
one-time form token). `points.idempotency.run_idempotent` puts it in the
`idempotency_key` context variable for the duration of the operation, so every
caller that goes through it gets the key in the line for free.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from uuid import UUID

from django.db import transaction

logger = logging.getLogger("perksu.money")

idempotency_key: ContextVar[str | None] = ContextVar("perksu_idempotency_key", default=None)


@contextmanager
def idempotency_key_set(key: str | None) -> Iterator[None]:
    """Carry `key` into the money lines logged while the block runs."""
    token = idempotency_key.set(key)
    try:
        yield
    finally:
        idempotency_key.reset(token)


def _plain(value: Any) -> Any:
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def log_movement(operation: str, *, tenant_id: UUID | None, actor_id: UUID | None, amount: int, **after: Any) -> None:
    """Log one money movement once the surrounding transaction commits.

    `after` carries the balances after the movement (`pool_after`,
    `lead_budget_after`, `wallet_after`, …) and any ids that identify it.
    Issues no SQL: it adds nothing to the statements of the hot path. With `perksu.money`
    below INFO (`LOG_LEVEL=WARNING`, as the bench runs) the line would be dropped, so neither
    it nor its on-commit callback is made.
    """
    if not logger.isEnabledFor(logging.INFO):
        return
    record = {
        "event": "money_movement",
        "operation": operation,
        "tenant": _plain(tenant_id),
        "actor": _plain(actor_id),
        "amount": amount,
        **{key: _plain(value) for key, value in after.items()},
        "idempotency_key": idempotency_key.get(),
    }
    line = json.dumps(record, separators=(",", ":"), default=str)
    transaction.on_commit(lambda: logger.info("%s", line, extra={"money": record}))
