"""Telling a tenant's managers that one of their webhook endpoints was disabled.

The disabling enqueues `webhook_disabled_emails` in its own transaction, so the e-mail is
never lost and never sent for a disabling that rolled back; the job sends through
`events.emails.send_email` like every other e-mail (HTML and text in the tenant's locale,
the one-click unsubscribe link and RFC 8058 headers, category `webhook_disabled`, switched
off per manager on /profile/), once per manager and disabling however often it runs.
"""

from __future__ import annotations

from django.urls import reverse

from events.emails import send_email
from events.jobs import job
from events.models import EmailCategory
from tenants.models import Role, User

from .models import WebhookEndpoint


def endpoint_disabled(endpoint: WebhookEndpoint) -> None:
    """Enqueue the managers' e-mail in the caller's transaction (the one that disabled the endpoint)."""
    webhook_disabled_emails.enqueue(
        endpoint_id=str(endpoint.pk), disabled_at=(endpoint.disabled_at.isoformat() if endpoint.disabled_at else "")
    )


@job(max_attempts=8, backoff_seconds=60)
def webhook_disabled_emails(endpoint_id: str, disabled_at: str) -> int:
    """E-mail every active manager of the endpoint's tenant; safe to run twice (one key per manager and disabling)."""
    endpoint = WebhookEndpoint.objects.select_related("tenant").filter(pk=endpoint_id).first()
    if endpoint is None:  # deleted since: nothing left to fix
        return 0
    sent = 0
    managers = User.objects.filter(tenant_id=endpoint.tenant_id, role=Role.TENANT_MANAGER, is_active=True)
    for manager in managers.select_related("tenant"):
        send_email(
            user=manager,
            tenant=endpoint.tenant,
            category=EmailCategory.WEBHOOK_DISABLED,
            key=f"webhook-disabled:{endpoint.pk}:{disabled_at}:{manager.pk}",
            subject=f"Webhook disabled: {endpoint.url}"[:200],
            template="webhook_disabled",
            context={
                "endpoint": endpoint,
                "failures": endpoint.consecutive_failures,
                "link": reverse("webhooks:deliveries", args=[endpoint.pk]),
            },
        )
        sent += 1
    return sent
