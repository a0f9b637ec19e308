"""Telling a tenant's managers that one of their webhook endpoints was disabled."""

from __future__ import annotations

from django.core.mail import send_mail
from django.db import transaction

from tenants.models import Role, User

from .models import WebhookEndpoint


def endpoint_disabled(endpoint: WebhookEndpoint) -> None:
    """E-mail every active manager of the endpoint's tenant, once the disabling commits."""
    recipients = list(
        User.objects.filter(tenant_id=endpoint.tenant_id, role=Role.TENANT_MANAGER, is_active=True).values_list(
            "email", flat=True
        )
    )
    if not recipients:
        return
    subject = f"Webhook disabled: {endpoint.url}"[:200]
    body = (
        f"The webhook endpoint {endpoint.url} of {endpoint.tenant.name} failed "
        f"{endpoint.consecutive_failures} times in a row and was disabled; no further events are sent to it.\n\n"
        "Fix the receiver, then enable the endpoint again on the Webhooks page (/manage/integrations/webhooks/). "
        "Deliveries still pending are retried once it is enabled; failed ones can be redelivered by hand."
    )
    transaction.on_commit(lambda: send_mail(subject, body, None, recipients, fail_silently=True))
