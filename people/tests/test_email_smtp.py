"""An invitation through a real SMTP server started in the test (aiosmtpd on 127.0.0.1, port 0)."""

import re
import socket

import pytest
from aiosmtpd.controller import Controller
from django.test import override_settings

from people.services import member_invite
from tenants.tests.factories import ManagerFactory


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.django_db
def test_an_invitation_goes_through_smtp(django_capture_on_commit_callbacks):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=controller.port,
            EMAIL_USE_TLS=False,
            EMAIL_HOST_USER="",
            EMAIL_HOST_PASSWORD="",
            EMAIL_TIMEOUT=5,
        ):
            boss = ManagerFactory()
            with django_capture_on_commit_callbacks(execute=True):
                member_invite(
                    tenant=boss.tenant, email="smtp@acme.test", full_name="Via Smtp", role="employee", actor=boss
                )
    finally:
        controller.stop()
    [(_sender, recipients, content)] = inbox.messages
    assert recipients == ["smtp@acme.test"]
    assert "Subject: You are invited to" in content
    assert re.search(r"/accounts/invitation/[^/\s]+/[^/\s]+/", content)
