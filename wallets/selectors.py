"""Reads of wallets and redemptions that are more than a one-line queryset."""

from __future__ import annotations

from tenants.models import User

from .models import Redemption


def voucher_code_of(user: User, redemption_id: object) -> str | None:
    """The voucher code of one of `user`'s own redemptions (a replayed answer reads it here)."""
    if not redemption_id:
        return None
    return Redemption.objects.filter(pk=redemption_id, user=user).values_list("voucher_code", flat=True).first()
