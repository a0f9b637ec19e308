"""/api/v1/webhooks/: managers only, tenant-scoped, the secret shown once."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from webhooks import delivery, payloads, services
from webhooks.models import WebhookEndpoint

URL = "/api/v1/webhooks/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.django_db
def test_create_answers_the_secret_once_and_lists_without_it(manager):
    api = client_for(manager)
    response = api.post(
        URL, {"url": "https://8.8.8.8/hook", "events": ["recognition.created"], "format": "slack"}, format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["secret"].startswith("whsec_") and len(body["secret"]) > 40
    assert body["events"] == ["recognition.created"] and body["format"] == "slack" and body["is_active"] is True
    assert WebhookEndpoint.objects.get().secret == body["secret"]

    listed = api.get(URL).json()
    assert [e["id"] for e in listed["results"]] == [body["id"]]
    assert "secret" not in listed["results"][0]
    assert "secret" not in api.get(f"{URL}{body['id']}/").json()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"url": "https://8.8.8.8/h", "events": ["nope.event"]}, "events"),
        ({"url": "https://8.8.8.8/h", "events": []}, "events"),
        ({"url": "https://8.8.8.8/h", "events": ["*"], "format": "xml"}, "format"),
        ({"url": "https://8.8.8.8/h", "events": ["*"], "tenant_id": str(uuid.uuid4())}, "tenant_id"),
        ({"events": ["*"]}, "url"),
    ],
)
def test_bad_input_is_a_field_error_and_creates_nothing(manager, payload, field):
    response = client_for(manager).post(URL, payload, format="json")
    assert response.status_code == 400 and field in response.json()
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/x", "http://169.254.169.254/", "http://10.0.0.1/"])
def test_private_urls_are_refused_with_a_clear_error(manager, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    response = client_for(manager).post(URL, {"url": url, "events": ["*"]}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "webhook_url_refused" and response.json()["field"] == "url"
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
def test_only_managers_manage_webhooks(lead, employee, platform_admin):
    for user in (lead, employee, platform_admin):
        api = client_for(user)
        assert api.get(URL).status_code == 403
        assert api.post(URL, {"url": "https://8.8.8.8/", "events": ["*"]}, format="json").status_code == 403
    assert APIClient().get(URL).status_code == 401


@pytest.mark.django_db
def test_another_tenants_endpoint_answers_404(manager, other_tenant):
    from tenants.tests.factories import ManagerFactory

    theirs = services.endpoint_create(
        actor=ManagerFactory(tenant=other_tenant), url="https://8.8.8.8/", events=["*"]
    ).endpoint
    api = client_for(manager)
    for response in (
        api.get(f"{URL}{theirs.pk}/"),
        api.patch(f"{URL}{theirs.pk}/", {"description": "mine"}, format="json"),
        api.delete(f"{URL}{theirs.pk}/"),
        api.get(f"{URL}{theirs.pk}/deliveries/"),
        api.post(f"{URL}{theirs.pk}/rotate-secret/"),
    ):
        assert response.status_code == 404
    assert api.get(URL).json()["results"] == []
    theirs.refresh_from_db()
    assert theirs.description == ""


@pytest.mark.django_db
def test_update_rotate_and_delete(manager):
    api = client_for(manager)
    created = api.post(URL, {"url": "https://8.8.8.8/a", "events": ["*"]}, format="json").json()
    changed = api.patch(
        f"{URL}{created['id']}/", {"events": ["user.created"], "format": "teams", "is_active": False}, format="json"
    )
    assert changed.status_code == 200
    assert changed.json()["events"] == ["user.created"] and changed.json()["is_active"] is False
    rotated = api.post(f"{URL}{created['id']}/rotate-secret/").json()
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
    assert api.patch(f"{URL}{created['id']}/", {}, format="json").status_code == 400
    assert api.delete(f"{URL}{created['id']}/").status_code == 204
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.django_db
def test_deliveries_show_every_attempt_and_redeliver_sends_again(manager, receiver):
    api = client_for(manager)
    created = api.post(URL, {"url": receiver.url, "events": ["*"]}, format="json").json()
    receiver.secret = created["secret"]
    receiver.fail_first = 1
    event = payloads.EventMessage(uuid.uuid4(), "user.created", manager.tenant_id, timezone.now(), {"email": "x@y.z"})
    services.deliveries_for_event(event)
    delivery.deliver_due()

    [row] = api.get(f"{URL}{created['id']}/deliveries/").json()["results"]
    assert row["status"] == "PENDING" and row["attempt_count"] == 1 and row["event_type"] == "user.created"
    [attempt] = row["attempts"]
    assert attempt["status_code"] == 500 and attempt["succeeded"] is False
    assert attempt["response_excerpt"] == "receiver failing on purpose" and attempt["latency_ms"] >= 0

    response = api.post(f"{URL}deliveries/{row['id']}/redeliver/")
    assert response.status_code == 202
    delivery.deliver_due()
    [row] = api.get(f"{URL}{created['id']}/deliveries/").json()["results"]
    assert row["status"] == "SUCCEEDED"
    assert [(a["number"], a["status_code"], a["trigger"]) for a in row["attempts"]] == [
        (1, 500, "AUTOMATIC"),
        (2, 200, "MANUAL"),
    ]
    assert [r.answered for r in receiver.requests] == [500, 200]


@pytest.mark.django_db
def test_redeliver_of_another_tenants_delivery_is_404(manager, outsider):
    assert client_for(manager).post(f"{URL}deliveries/{uuid.uuid4()}/redeliver/").status_code == 404
