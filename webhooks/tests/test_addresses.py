"""Private, loopback and link-local addresses are refused, when saved and again at every attempt."""

from __future__ import annotations

import socket
import uuid

import pytest
from django.utils import timezone

from perksu.errors import DomainError
from webhooks import delivery, payloads, services
from webhooks.addresses import check_url, is_public
from webhooks.models import WebhookAttempt, WebhookDelivery

REFUSED = [
    "http://127.0.0.1/hook",
    "http://127.1.2.3:8080/hook",
    "http://localhost/hook",
    "http://api.localhost/hook",
    "http://10.0.0.5/hook",
    "http://172.16.3.4/hook",
    "http://192.168.1.10/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/hook",
    "http://0.0.0.0/hook",
    "http://[::1]/hook",
    "http://[fe80::1]/hook",
    "http://[fd00::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://224.0.0.1/hook",
]


@pytest.fixture
def strict(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False


@pytest.mark.parametrize("url", REFUSED)
def test_private_loopback_and_link_local_addresses_are_refused(strict, url):
    with pytest.raises(DomainError) as refused:
        check_url(url)
    assert refused.value.code == "webhook_url_refused" and refused.value.extra["field"] == "url"


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "javascript:alert(1)", "https://user:pw@example.com/x", "https:///nohost", "x"]
)
def test_urls_of_the_wrong_form_are_refused_even_in_development(url):
    with pytest.raises(DomainError):
        check_url(url)


def test_a_public_address_is_accepted(strict):
    assert check_url("https://8.8.8.8/hook") == "https://8.8.8.8/hook"
    assert is_public("1.1.1.1") and not is_public("127.0.0.1") and not is_public("::ffff:10.0.0.1")


def _fake_dns(monkeypatch, address):
    def getaddrinfo(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def test_a_name_resolving_to_a_private_address_is_refused(strict, monkeypatch):
    _fake_dns(monkeypatch, "10.1.2.3")
    with pytest.raises(DomainError, match=r"resolves to 10\.1\.2\.3"):
        check_url("https://hooks.example.com/x")


def test_every_address_of_a_name_is_checked(strict, monkeypatch):
    def getaddrinfo(host, port, *args, **kwargs):
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(DomainError, match=r"127\.0\.0\.1"):
        check_url("https://mixed.example.com/x")


@pytest.mark.django_db
def test_a_rebinding_name_is_refused_at_delivery_and_nothing_is_sent(strict, manager, receiver, monkeypatch):
    """Public when saved, loopback when called: the attempt is refused before any connection."""
    _fake_dns(monkeypatch, "93.184.216.34")
    url = receiver.url.replace("127.0.0.1", "rebind.example.com")
    services.endpoint_create(actor=manager, url=url, events=["*"])
    _fake_dns(monkeypatch, "127.0.0.1")
    event = payloads.EventMessage(uuid.uuid4(), "user.created", manager.tenant_id, timezone.now(), {})
    services.deliveries_for_event(event)

    assert delivery.deliver_due() == 1
    attempt = WebhookAttempt.objects.get()
    assert not attempt.succeeded and "127.0.0.1" in attempt.error and attempt.status_code is None
    assert receiver.requests == []
    assert WebhookDelivery.objects.get().status == "PENDING"


@pytest.mark.django_db
def test_the_service_refuses_a_private_url(strict, manager):
    with pytest.raises(DomainError):
        services.endpoint_create(actor=manager, url="http://192.168.0.1/x", events=["*"])
