"""In-app notifications: the bell on every page, the list, mark one or all read — pages and API, one tenant each."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from events.models import Notification
from events.testing import run_jobs
from recognition.services import recognition_create

pytestmark = pytest.mark.django_db

API = "/api/v1/notifications/"


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def page(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def recognised(funded_tenant, manager, employee):
    """Three recognitions for `employee`, their notices written by the worker."""
    for n in range(3):
        recognition_create(giver=manager, recipient_ids=[employee.pk], points=10 + n, message=f"Thanks {n}")
    run_jobs()
    return employee


def test_a_recognition_becomes_a_notice_for_each_recipient(recognised, manager):
    titles = list(Notification.objects.filter(user=recognised).values_list("title", flat=True))
    assert titles == [
        f"{manager.full_name} recognised you (+12 points)",
        f"{manager.full_name} recognised you (+11 points)",
        f"{manager.full_name} recognised you (+10 points)",
    ]
    assert not Notification.objects.filter(kind="recognition.created").exclude(user=recognised).exists()


def test_the_api_lists_counts_and_marks_read(recognised):
    client = api(recognised)
    assert client.get(f"{API}unread-count/").json() == {"unread": 3}
    body = client.get(API).json()
    assert [n["title"].split("(")[1] for n in body["results"]] == ["+12 points)", "+11 points)", "+10 points)"]
    assert all(n["is_read"] is False for n in body["results"])

    first = body["results"][0]["id"]
    marked = client.post(f"{API}{first}/read/")
    assert marked.status_code == 200 and marked.json()["is_read"] is True
    assert client.get(f"{API}unread-count/").json() == {"unread": 2}
    assert client.post(f"{API}{first}/read/").status_code == 200  # twice is harmless
    assert client.post(f"{API}read-all/").json() == {"marked": 2}
    assert client.get(f"{API}unread-count/").json() == {"unread": 0}


def test_the_list_is_paged_by_keyset(recognised):
    client = api(recognised)
    one = client.get(API, {"page_size": 2}).json()
    assert len(one["results"]) == 2 and one["next"]
    two = client.get(one["next"]).json()
    assert [n["title"].split("(")[1] for n in two["results"]] == ["+10 points)"]
    assert "offset" not in one["next"] and "page=" not in one["next"]


def test_another_members_notice_is_404(recognised, other_employee, outsider):
    notice = Notification.objects.filter(user=recognised).first()
    for someone in (other_employee, outsider):
        response = api(someone).post(f"{API}{notice.pk}/read/")
        assert response.status_code == 404
        assert api(someone).get(API).json()["results"] == []
    assert api(recognised).post(f"{API}not-a-uuid/read/").status_code == 404
    notice.refresh_from_db()
    assert notice.read_at is None


def test_the_bell_shows_the_unread_count_on_every_page(recognised, other_employee):
    client = page(recognised)
    for path in ("/wallet/", "/feed/", "/rewards/", "/notifications/"):
        html = client.get(path).content.decode()
        assert 'data-testid="bell"' in html, path
        assert '<span class="bell-count" data-testid="unread-count">3</span>' in html, path
    html = page(other_employee).get("/feed/").content.decode()
    assert 'data-testid="bell"' in html and "bell-count" not in html


def test_the_page_marks_one_and_all_read(recognised):
    client = page(recognised)
    html = client.get("/notifications/").content.decode()
    assert html.count('data-testid="notification"') == 3 and "3 unread" in html
    notice = Notification.objects.filter(user=recognised).first()
    response = client.post(f"/notifications/{notice.pk}/read/", {"next": "open"})
    assert response.status_code == 302 and response["Location"] == "/feed/"
    assert "2 unread" in client.get("/notifications/").content.decode()
    client.post("/notifications/read-all/")
    assert "0 unread" in client.get("/notifications/").content.decode()
    assert not Notification.objects.filter(user=recognised, read_at__isnull=True).exists()


def test_platform_admins_have_no_notices(platform_admin):
    assert api(platform_admin).get(API).status_code == 403
