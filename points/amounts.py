"""Validation of point amounts, shared by every service (SPEC §3)."""

from __future__ import annotations

from perksu.errors import DomainError
from tenants.models import MAX_AMOUNT


def require_amount(value: object, *, field: str = "amount", minimum: int = 1) -> int:
    """Return `value` as a whole number of points in [minimum, 1,000,000,000] or refuse.

    Booleans, floats and strings are refused here: callers (serializers, forms)
    parse user input; a service only accepts an int.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise DomainError(f"{field} must be a whole number of points.", code="invalid_amount", field=field)
    if value < minimum or value > MAX_AMOUNT:
        raise DomainError(f"{field} must be between {minimum} and {MAX_AMOUNT:,}.", code="invalid_amount", field=field)
    return value
