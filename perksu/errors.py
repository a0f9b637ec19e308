"""The one error type for business rules.

Services raise `DomainError` (or a subclass) with a stable `code` and the
figures a caller needs (`available`, `required`, ...). The API's exception
handler turns it into the JSON of SPEC §6; pages and the admin turn it into a
Django message or a form error. Raising one always means nothing was written:
services raise before they write, or inside their transaction so it rolls back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class DomainError(Exception):
    """A refused operation. HTTP 400 with `{"detail", "code", **extra}`.

    `message` is the API's wording (SPEC §4: raw figures). `readable`, when given, builds the wording a person
    reads on a page: it receives a number formatter (the tenant's locale) and returns the sentence.
    """

    status_code = 400
    default_code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        readable: Callable[[Callable[[int], str]], str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.readable = readable
        self.extra = extra

    @property
    def field(self) -> str | None:
        """The input the refusal concerns, when the service names it."""
        return self.extra.get("field")

    def readable_message(self) -> str:
        """The message with its figures in the tenant's locale ("Available: 37,400"), for pages and the console."""
        if self.readable is None:
            return self.message
        from perksu.formatting import format_number  # the formatting module imports Django settings lazily

        return self.readable(format_number)

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


def readable_detail(body: dict[str, Any]) -> str:
    """The `detail` of a stored refusal (an idempotent replay) with its figures in the tenant's locale: each
    integer figure of the body that appears in the sentence as a whole number is formatted."""
    import re

    from perksu.formatting import format_number

    detail = str(body.get("detail", ""))
    figures = {value for value in body.values() if isinstance(value, int) and not isinstance(value, bool)}
    for value in sorted(figures, reverse=True):
        detail = re.sub(rf"(?<![\d.,]){value}(?![\d.,]\d)", format_number(value), detail)
    return detail


def insufficient(label: str, *, available: int, required: int) -> DomainError:
    """The refusal for a balance that does not cover an amount (SPEC §4 wording)."""
    return DomainError(
        f"Insufficient {label}. Available: {available}, Required: {required}.",
        code="insufficient_balance",
        readable=lambda n: f"Insufficient {label}. Available: {n(available)}, Required: {n(required)}.",
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
