"""The built-in consumers: in-app notices and e-mail, each safe to run twice."""

from __future__ import annotations

import pytest
from django.core import mail

from events import event_types, payloads
from events.consumers import notify_in_app, send_event_emails
from events.models import EmailDelivery, Notification
from events.services import record_event
from events.testing import run_jobs

pytestmark = pytest.mark.django_db


def test_in_app_notice_is_written_once_however_often_the_job_runs(manager, employee):
    event = record_event(
        tenant_id=manager.tenant_id,
        name=event_types.POOL_LOW_BALANCE,
        payload=payloads.pool_low_balance(pool_balance=40, threshold=100),
    )
    run_jobs()
    notice = Notification.objects.get()
    assert (notice.user, notice.title) == (manager, "The company pool is low: 40 points left")
    assert notice.read_at is None
    # The same job again (a retry, or a worker that died after writing): nothing new.
    notify_in_app.call(event_id=str(event.pk))
    assert Notification.objects.count() == 1


def test_email_is_sent_once_per_key_with_one_click_unsubscribe_headers(manager, employee):
    event = record_event(
        tenant_id=manager.tenant_id,
        name=event_types.POOL_LOW_BALANCE,
        payload=payloads.pool_low_balance(pool_balance=40, threshold=100),
    )
    run_jobs()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [manager.email]
    assert message.subject == "The company pool is low: 40 points left"
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.extra_headers["List-Unsubscribe"].startswith("<http://127.0.0.1:8000/unsubscribe/")
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "40 points" in html and "100" in html
    assert "40 points" in message.body

    send_event_emails.call(event_id=str(event.pk))
    assert len(mail.outbox) == 1
    assert EmailDelivery.objects.get().status == EmailDelivery.Status.SENT
