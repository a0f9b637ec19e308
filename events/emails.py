"""E-mail: rendering (HTML and plain text from templates), preferences, one-click unsubscribe, sending.

`send_email(...)` is safe to run twice: each e-mail has a `key` (an event id and
a person, or a person and a period) and an `EmailDelivery` row under a unique
constraint; a key already SENT or SKIPPED is not sent again. A failure before
the row is marked SENT leaves it PENDING and the job's retry sends it then (at
least once; a crash between the SMTP answer and the mark sends it twice).

Every e-mail carries a link to switch its category off in one click, and the
RFC 8058 headers `List-Unsubscribe` and `List-Unsubscribe-Post` so mail clients
offer the same: the link holds a signed token naming the person and category.
"""

from __future__ import annotations

import contextlib
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from .models import EmailCategory, EmailDelivery, EmailOptOut

UNSUBSCRIBE_SALT = "perksu.events.unsubscribe"


def absolute_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def unsubscribe_token(user, category: str) -> str:
    return signing.dumps({"u": str(user.pk), "c": category}, salt=UNSUBSCRIBE_SALT, compress=True)


def read_unsubscribe_token(token: str) -> tuple[str, str]:
    """(user id, category) of a token; raises `signing.BadSignature` if it was not made here."""
    data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    if not isinstance(data, dict) or data.get("c") not in EmailCategory.values:
        raise signing.BadSignature("Not an unsubscribe token.")
    return str(data["u"]), data["c"]


def unsubscribe_url(user, category: str) -> str:
    return absolute_url(reverse("events:unsubscribe", args=[unsubscribe_token(user, category)]))


def is_opted_out(user, category: str) -> bool:
    return EmailOptOut.objects.filter(tenant_id=user.tenant_id, user=user, category=category).exists()


def formatting_for(tenant):
    """The tenant's locale and time zone in force for the block (perksu.formatting), or nothing to do."""
    try:
        from perksu import formatting
    except ImportError:  # pragma: no cover - formatting helpers not installed
        return contextlib.nullcontext()
    return formatting.override(tenant)


def send_email(
    *,
    user,
    category: str,
    key: str,
    subject: str,
    template: str,
    context: dict[str, Any],
    tenant=None,
) -> EmailDelivery:
    """Send `templates/events/email/<template>.txt` and `.html` to `user`, once per `key`.

    Skipped (and recorded so) when the member switched the category off, or is deactivated.
    The row carries the tenant of the user's row: a platform admin's is the platform's own.
    """
    delivery, _ = EmailDelivery.objects.get_or_create(
        tenant_id=user.tenant_id,
        key=key[:200],
        defaults={
            "user": user,
            "category": category,
            "subject": subject,
        },
    )
    if delivery.status != EmailDelivery.Status.PENDING:
        return delivery
    if not user.is_active or is_opted_out(user, category):
        this_delivery(delivery).update(status=EmailDelivery.Status.SKIPPED)
        delivery.status = EmailDelivery.Status.SKIPPED
        return delivery

    unsubscribe = unsubscribe_url(user, category)
    full_context = {
        **context,
        "user": user,
        "tenant": tenant,
        "subject": subject,
        "category_label": EmailCategory(category).label,
        "unsubscribe_url": unsubscribe,
        "preferences_url": absolute_url(reverse("events:preferences")),
        "site_url": settings.SITE_URL.rstrip("/"),
    }
    with formatting_for(tenant):
        text = render_to_string(f"events/email/{template}.txt", full_context)
        html = render_to_string(f"events/email/{template}.html", full_context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-Perksu-Category": category,
        },
    )
    message.attach_alternative(html, "text/html")
    message.send()
    this_delivery(delivery).update(status=EmailDelivery.Status.SENT, sent_at=timezone.now())
    delivery.status = EmailDelivery.Status.SENT
    return delivery


def this_delivery(delivery: EmailDelivery):
    """The delivery's row by tenant and id: one shard on Citus."""
    return EmailDelivery.objects.filter(tenant_id=delivery.tenant_id, pk=delivery.pk)
