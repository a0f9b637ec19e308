"""Reads of the events room: a member's notices (keyset pages) and unread count, e-mail preferences."""

from __future__ import annotations

import base64
import datetime as dt
from uuid import UUID

from django.db.models import Q

from .models import EmailCategory, EmailOptOut, Notification

PAGE = 50


def unread_count(user) -> int:
    if not getattr(user, "member_tenant_id", None):
        return 0
    return Notification.objects.filter(tenant_id=user.tenant_id, user=user, read_at__isnull=True).count()


def encode_cursor(notification: Notification) -> str:
    raw = f"{notification.created_at.isoformat()}|{notification.pk}"
    return base64.urlsafe_b64encode(raw.encode()).decode()


def decode_cursor(cursor: str | None) -> tuple[dt.datetime, UUID] | None:
    if not cursor:
        return None
    try:
        created, pk = base64.urlsafe_b64decode(cursor.encode()).decode().split("|")
        return dt.datetime.fromisoformat(created), UUID(pk)
    except (ValueError, UnicodeDecodeError):
        return None


def notifications_page(user, *, before: str | None = None, limit: int = PAGE) -> tuple[list[Notification], str | None]:
    """The member's notices newest first, `limit` at a time, after the cursor `before`; and the next cursor."""
    rows = Notification.objects.filter(tenant_id=user.tenant_id, user=user).order_by("-created_at", "-id")
    position = decode_cursor(before)
    if position is not None:
        created, pk = position
        rows = rows.filter(Q(created_at__lt=created) | Q(created_at=created, id__lt=pk))
    items = list(rows[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    return items, (encode_cursor(items[-1]) if more and items else None)


def email_preferences(user) -> list[tuple[str, str, bool]]:
    """(category, label, on) for every category the person can receive."""
    off = set(EmailOptOut.objects.filter(tenant_id=user.tenant_id, user=user).values_list("category", flat=True))
    return [(value, label, value not in off) for value, label in categories_for(user)]


def categories_for(user) -> list[tuple[str, str]]:
    if getattr(user, "member_tenant_id", None) is None:
        return [(EmailCategory.BOOKS_DRIFT.value, EmailCategory.BOOKS_DRIFT.label)]
    hidden = {EmailCategory.BOOKS_DRIFT}
    if not user.is_manager:
        hidden |= {EmailCategory.MANAGER_DIGEST, EmailCategory.POOL_LOW_BALANCE, EmailCategory.WEBHOOK_DISABLED}
    return [(c.value, c.label) for c in EmailCategory if c not in hidden]
