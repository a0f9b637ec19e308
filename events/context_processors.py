"""The unread count of the bell in every page's header (templates/base.html): one indexed COUNT, only if shown."""

from __future__ import annotations

from django.utils.functional import SimpleLazyObject

from .selectors import unread_count


def notifications(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not getattr(user, "member_tenant_id", None):
        return {}
    return {"unread_notifications": SimpleLazyObject(lambda: unread_count(user))}
