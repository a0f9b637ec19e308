"""E-mail: the content in the tenant's locale and time zone, preferences, one-click unsubscribe, real SMTP."""

from __future__ import annotations

import socket
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.test import Client, override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from events.emails import read_unsubscribe_token, unsubscribe_token
from events.models import EmailDelivery, EmailOptOut
from events.testing import run_jobs
from recognition.services import recognition_create
from wallets.services import redemption_create, reward_create

pytestmark = pytest.mark.django_db


def test_you_were_recognised_in_html_and_text_in_the_tenants_locale(funded_tenant, allocate, manager, employee):
    funded_tenant.locale = "en-IN"
    funded_tenant.save(update_fields=["locale"])
    allocate(funded_tenant, 200_000)
    mail.outbox.clear()
    message = "Shipped the plant <on time>"
    recognition_create(giver=manager, recipient_ids=[employee.pk], points=150_000, message=message)
    run_jobs()
    [message] = [m for m in mail.outbox if m.to == [employee.email]]
    assert message.subject == f"{manager.full_name} recognised you: +1,50,000 points"  # en-IN groups lakhs
    assert "recognised you with 1,50,000 points" in message.body
    assert '"Shipped the plant <on time>"' in message.body  # plain text is not HTML-escaped
    assert "http://127.0.0.1:8000/feed/" in message.body
    html = message.alternatives[0][0]
    assert "<strong>1,50,000 points</strong>" in html
    assert "Shipped the plant &lt;on time&gt;" in html  # and HTML is
    token = html.split("http://127.0.0.1:8000/unsubscribe/")[1].split("/")[0]
    assert read_unsubscribe_token(token) == (str(employee.pk), "recognition")


def test_the_voucher_email_carries_the_code_and_the_time_in_the_tenants_zone(funded_tenant, manager, employee, award):
    funded_tenant.timezone = "Asia/Kolkata"
    funded_tenant.save(update_fields=["timezone"])
    award(manager, employee, 500)
    reward = reward_create(actor=manager, name="Coffee voucher", points_cost=100, stock=None)
    mail.outbox.clear()
    redemption = redemption_create(user=employee, reward_id=reward.pk).redemption
    run_jobs()
    [message] = [m for m in mail.outbox if "voucher" in m.subject]
    assert message.subject == "Your voucher for Coffee voucher"
    assert redemption.voucher_code in message.body and redemption.voucher_code in message.alternatives[0][0]
    local = timezone.localtime(redemption.created_at, timezone=__import__("zoneinfo").ZoneInfo("Asia/Kolkata"))
    assert local.strftime("%-I:%M") in message.body  # the tenant's clock, not UTC


def test_one_click_unsubscribe_switches_the_category_off(funded_tenant, manager, employee):
    token = unsubscribe_token(employee, "recognition")
    client = Client(enforce_csrf_checks=True)
    confirm = client.get(f"/unsubscribe/{token}/")
    assert confirm.status_code == 200 and "Stop sending" in confirm.content.decode()
    assert not EmailOptOut.objects.exists()  # a GET (a link scanner) changes nothing
    # RFC 8058: the mail client POSTs List-Unsubscribe=One-Click, with no session and no CSRF token.
    done = client.post(f"/unsubscribe/{token}/", {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "You are unsubscribed" in done.content.decode()
    assert client.post(f"/unsubscribe/{token}/").status_code == 200  # twice is harmless
    assert list(EmailOptOut.objects.values_list("user_id", "category")) == [(employee.pk, "recognition")]

    mail.outbox.clear()
    recognition_create(giver=manager, recipient_ids=[employee.pk], points=5, message="Quietly")
    run_jobs()
    assert [m for m in mail.outbox if m.to == [employee.email]] == []
    assert EmailDelivery.objects.get(user=employee).status == EmailDelivery.Status.SKIPPED


def test_a_forged_or_altered_token_is_404(employee):
    token = unsubscribe_token(employee, "recognition")
    assert Client().post(f"/unsubscribe/{token[:-2]}xx/").status_code == 404
    assert Client().post("/unsubscribe/not-a-token/").status_code == 404
    assert not EmailOptOut.objects.exists()


def test_preferences_page_switches_categories(funded_tenant, manager, employee):
    client = Client()
    client.force_login(employee)
    html = client.get("/profile/notifications/").content.decode()
    assert 'value="recognition" checked' in html and "Weekly manager digest" not in html  # not a manager
    client.post("/profile/notifications/", {"on": ["voucher", "comment", "allowance_reminder"]})
    assert set(EmailOptOut.objects.filter(user=employee).values_list("category", flat=True)) == {"recognition"}
    client.post("/profile/notifications/", {"on": ["recognition", "voucher", "comment", "allowance_reminder"]})
    assert not EmailOptOut.objects.exists()


def test_preferences_over_the_api(employee, platform_admin):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(employee)
    url = "/api/v1/notifications/preferences/"
    assert client.get(url).json()["email"]["recognition"] is True
    assert client.patch(url, {"email": {"recognition": False}}, format="json").json()["email"]["recognition"] is False
    bad = client.patch(url, {"email": {"spam": False}}, format="json")
    assert bad.status_code == 400 and "spam" in str(bad.json())
    admin = APIClient()
    admin.force_authenticate(platform_admin)
    assert admin.get(url).json() == {"email": {"books_drift": True}}


def _free_port() -> int:
    for port in range(18500, 18600):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 18500-18599")


class Inbox:
    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


def test_delivered_through_a_real_smtp_server_and_a_failing_one_never_blocks_the_award(
    funded_tenant, manager, employee
):
    port = _free_port()
    smtp = {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": port,
        "EMAIL_TIMEOUT": 5,
    }
    with override_settings(**smtp):
        # The SMTP server is down: the award commits all the same, the e-mail job fails and is retried later.
        result = recognition_create(giver=manager, recipient_ids=[employee.pk], points=40, message="Through SMTP")
        run_jobs()
        assert result.wallet_balances_after[employee.pk] == 40
        failed = DBTaskResult.objects.filter(status="FAILED", task_path="events.consumers.send_event_emails")
        assert failed.count() == 1 and "ConnectionRefusedError" in failed.get().traceback
        retry = DBTaskResult.objects.get(status="READY", task_path="events.consumers.send_event_emails")

        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            DBTaskResult.objects.filter(pk=retry.pk).update(run_after=timezone.now())
            run_jobs()
        finally:
            controller.stop()
    retry.refresh_from_db()
    assert retry.status == "SUCCESSFUL"
    [(rcpt, message)] = inbox.messages
    assert rcpt == [employee.email]
    assert message["Subject"] == f"{manager.full_name} recognised you: +40 points"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # A long header is folded on the wire; unfolded it is the one URL in angle brackets.
    assert str(message["List-Unsubscribe"]).strip().startswith("<http://127.0.0.1:8000/unsubscribe/")
    parts = {part.get_content_type(): part.get_content() for part in message.walk() if not part.is_multipart()}
    assert "Through SMTP" in parts["text/plain"] and "Through SMTP" in parts["text/html"]
    assert EmailDelivery.objects.get(user=employee).status == EmailDelivery.Status.SENT
