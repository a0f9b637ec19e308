"""The one error type for business rules.

Services raise `DomainError` (or a subclass) with a stable `code` and the
figures a caller needs (`available`, `required`, ...). The API's exception
handler turns it into the JSON of SPEC §6; pages and the admin turn it into a
Django message or a form error. Raising one always means nothing was written:
services raise before they write, or inside their transaction so it rolls back.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refused operation. HTTP 400 with `{"detail", "code", **extra}`."""

    status_code = 400
    default_code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.extra = extra

    def as_dict(self) -> dict[str, Any]:
        return {"detail": self.message, "code": self.code, **self.extra}


class NotFoundError(DomainError):
    """Unknown id, or an id of another tenant: the two are indistinguishable (404)."""

    status_code = 404
    default_code = "not_found"


class PermissionDeniedError(DomainError):
    """The actor's role may not do this (403)."""

    status_code = 403
    default_code = "permission_denied"


def insufficient(label: str, *, available: int, required: int) -> DomainError:
    """The refusal for a balance that does not cover an amount (SPEC §4 wording)."""
    return DomainError(
        f"Insufficient {label}. Available: {available}, Required: {required}.",
        code="insufficient_balance",
        available=available,
        required=required,
    )


class IdempotencyConflictError(DomainError):
    """The same Idempotency-Key is still being processed (409)."""

    status_code = 409
    default_code = "idempotency_key_in_progress"


class IdempotencyReuseError(DomainError):
    """The same Idempotency-Key was sent with another request body (422)."""

    status_code = 422
    default_code = "idempotency_key_reused"


def get_or_not_found(queryset, message: str, **lookup):
    """`queryset.get(**lookup)`, with an unknown id, a malformed id or another tenant's id
    all answering the same `NotFoundError` (SPEC §2: indistinguishable)."""
    from django.core.exceptions import ObjectDoesNotExist, ValidationError

    try:
        return queryset.get(**lookup)
    except (ObjectDoesNotExist, ValidationError, ValueError, TypeError) as exc:
        raise NotFoundError(message) from exc
