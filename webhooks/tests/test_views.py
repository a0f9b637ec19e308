"""/manage/integrations/: managers add, disable, rotate and delete webhooks, see deliveries and redeliver."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from webhooks import delivery, payloads, services
from webhooks.models import WebhookDelivery, WebhookEndpoint

BASE = "/manage/integrations/"
PAGE = f"{BASE}webhooks/"


@pytest.mark.django_db
def test_a_manager_adds_a_webhook_and_sees_its_secret_once(client, manager):
    client.force_login(manager)
    response = client.post(
        PAGE, {"url": "https://8.8.8.8/hook", "format": "slack", "events": ["recognition.created"]}, follow=True
    )
    endpoint = WebhookEndpoint.objects.get()
    page = response.content.decode()
    assert endpoint.secret in page and "Webhook added" in page
    assert endpoint.secret not in client.get(PAGE).content.decode()  # once only
    assert endpoint.format == "slack" and endpoint.events == ["recognition.created"]


@pytest.mark.django_db
def test_a_private_url_is_refused_on_the_form(client, manager, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    client.force_login(manager)
    response = client.post(PAGE, {"url": "http://169.254.169.254/", "format": "json", "events": ["*"]})
    assert response.status_code == 400
    assert "private, loopback or link-local" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
@pytest.mark.django_db
def test_the_integrations_page_links_to_webhooks_and_automated_awards(client, manager):
    client.force_login(manager)
    page = client.get(BASE).content.decode()
    assert 'href="/manage/integrations/webhooks/"' in page and 'href="/manage/settings/automation/"' in page


def test_other_roles_get_403(client, employee, lead):
    for user in (employee, lead):
        client.force_login(user)
        assert client.get(PAGE).status_code == 403
        assert client.get("/manage/settings/automation/").status_code == 403


@pytest.mark.django_db
def test_actions_and_deliveries_with_redeliver(client, manager, receiver):
    client.force_login(manager)
    created = services.endpoint_create(actor=manager, url=receiver.url, events=["*"])
    receiver.secret = created.secret
    receiver.fail_first = 1
    services.deliveries_for_event(
        payloads.EventMessage(uuid.uuid4(), "user.created", manager.tenant_id, timezone.now(), {})
    )
    delivery.deliver_due()

    page = client.get(f"{BASE}webhooks/{created.endpoint.pk}/").content.decode()
    assert "user.created" in page and "HTTP 500" in page and "receiver failing on purpose" in page
    row = WebhookDelivery.objects.get()
    client.post(f"{BASE}deliveries/{row.pk}/redeliver/")
    delivery.deliver_due()
    assert [r.answered for r in receiver.requests] == [500, 200]

    client.post(f"{BASE}webhooks/{created.endpoint.pk}/disable/")
    assert not WebhookEndpoint.objects.get().is_active
    old = created.secret
    response = client.post(f"{BASE}webhooks/{created.endpoint.pk}/rotate/", follow=True)
    new = WebhookEndpoint.objects.get().secret
    assert new != old and new in response.content.decode()
    client.post(f"{BASE}webhooks/{created.endpoint.pk}/delete/")
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
def test_another_tenants_endpoint_is_404_on_the_pages(client, manager, other_tenant):
    from tenants.tests.factories import ManagerFactory

    theirs = services.endpoint_create(actor=ManagerFactory(tenant=other_tenant), url="https://8.8.8.8/", events=["*"])
    client.force_login(manager)
    assert client.get(f"{BASE}webhooks/{theirs.endpoint.pk}/").status_code == 404
    client.post(f"{BASE}webhooks/{theirs.endpoint.pk}/delete/")
    assert WebhookEndpoint.objects.filter(pk=theirs.endpoint.pk).exists()


@pytest.mark.django_db
def test_the_automation_page_saves_a_rule(client, manager):
    client.force_login(manager)
    assert client.get("/manage/settings/automation/").status_code == 200
    response = client.post(
        "/manage/settings/automation/",
        {"kind": "ANNIVERSARY", "is_active": "on", "milestones": "1: 150, 5: 1000", "message_template": "Yay {name}"},
    )
    assert response.status_code == 302
    from automation.models import AwardRule

    rule = AwardRule.objects.get(kind="ANNIVERSARY")
    assert rule.is_active and rule.milestones == {"1": 150, "5": 1000} and rule.message_template == "Yay {name}"
    bad = client.post(
        "/manage/settings/automation/",
        {"kind": "BIRTHDAY", "is_active": "on", "points": "10", "message_template": "Hi {boss}"},
    )
    assert bad.status_code == 400 and "Unknown placeholder" in bad.content.decode()


@pytest.mark.django_db
def test_the_console_lists_deliveries_and_redelivers(client, platform_admin, manager, receiver):
    created = services.endpoint_create(actor=manager, url=receiver.url, events=["*"])
    receiver.secret = created.secret
    services.deliveries_for_event(
        payloads.EventMessage(uuid.uuid4(), "user.created", manager.tenant_id, timezone.now(), {})
    )
    delivery.deliver_due()
    row = WebhookDelivery.objects.get()
    client.force_login(platform_admin)
    assert client.get("/admin/webhooks/webhookdelivery/").status_code == 200
    detail = client.get(f"/admin/webhooks/webhookdelivery/{row.pk}/change/").content.decode()
    assert "user.created" in detail and '{"ok": true}' in detail.replace("&quot;", '"')
    assert (
        created.secret
        not in client.get(f"/admin/webhooks/webhookendpoint/{created.endpoint.pk}/change/").content.decode()
    )
    client.post(
        "/admin/webhooks/webhookdelivery/", {"action": "redeliver", "_selected_action": [str(row.pk)]}, follow=True
    )
    delivery.deliver_due()
    assert len(receiver.requests) == 2 and receiver.requests[1].headers["webhook-id"] == str(row.pk)
