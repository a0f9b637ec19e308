"""API requests authenticated by a token skip the session, session-user and message middleware
(perksu/middleware.py); every check that applies to them still happens, and every other request keeps
that middleware."""

from __future__ import annotations

import json

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from rest_framework.test import APIClient

from identity.services import api_token_issue
from perksu.middleware import token_api_request
from points.tests.test_api import AWARD, books

pytestmark = pytest.mark.django_db


def _body(employee, **changes) -> dict:
    return {"to_user_id": str(employee.pk), "amount": 10, "recognition_message": "Thanks", **changes}


def _token_client(user, keyword: str = "Bearer") -> APIClient:
    _, secret = api_token_issue(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {secret}")
    return client


@pytest.mark.parametrize("keyword", ["Bearer", "Token", "bearer"])
def test_a_token_award_sets_no_cookie_and_stores_no_session(funded_tenant, manager, employee, keyword):
    client = _token_client(manager, keyword)
    sessions = Session.objects.count()
    response = client.post(AWARD, _body(employee), format="json")
    assert response.status_code == 200, response.json()
    assert "Set-Cookie" not in response.headers
    assert not response.cookies
    assert Session.objects.count() == sessions


def test_a_token_request_keeps_the_security_headers(funded_tenant, manager, employee):
    response = _token_client(manager).post(AWARD, _body(employee), format="json")
    for header in (
        "Content-Security-Policy",
        "X-Frame-Options",
        "X-Content-Type-Options",
        "Referrer-Policy",
        "Cross-Origin-Opener-Policy",
    ):
        assert response.headers.get(header), header


def test_a_session_cookie_does_not_authenticate_a_token_request(funded_lead, manager, employee):
    """A signed-in browser's cookie next to someone's token: the token decides, a bad token is a 401,
    never the session's user."""
    client = APIClient()
    client.force_login(manager)
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    before = books()
    response = client.post(AWARD, _body(employee), format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert books() == before
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=funded_lead)[1]}")
    response = client.post(AWARD, _body(employee), format="json")
    assert response.status_code == 200
    assert response.json()["funding_source"] == "LEAD_BUDGET"  # the lead's token, not the manager's session


def test_a_session_api_post_still_needs_the_csrf_token(funded_tenant, manager, employee):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(manager)
    before = books()
    response = client.post(AWARD, _body(employee), format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert books() == before


def test_a_page_post_with_a_bearer_header_still_needs_the_csrf_token(funded_tenant, manager):
    """Only /api/ skips the middleware: a page keeps sessions and CSRF whatever the headers say."""
    client = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION="Bearer anything")
    client.force_login(manager)
    response = client.post("/accounts/logout/")
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        ('{"to_user_id": "x", "amount": 1, "recognition_message": "a\\u0000b"}', 400, "parse_error"),
        ("[" * 100 + "]" * 100, 400, "parse_error"),
        ("{not json", 400, "parse_error"),
    ],
)
def test_the_edge_and_parser_checks_hold_for_token_requests(funded_tenant, manager, employee, raw, status, code):
    before = books()
    response = _token_client(manager).post(AWARD, raw, content_type="application/json")
    assert response.status_code == status
    assert response.json()["code"] == code
    assert books() == before


def test_an_oversized_token_request_is_refused_at_the_edge(funded_tenant, manager, employee, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000
    body = json.dumps(_body(employee, recognition_message="x" * 2_000))
    response = _token_client(manager).post(AWARD, body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


@pytest.mark.parametrize(
    ("path", "header", "expected"),
    [
        ("/api/v1/points/award-to-user", "Bearer abc", True),
        ("/api/v1/points/award-to-user", "Token abc", True),
        ("/api/v1/points/award-to-user", "TOKEN abc", True),
        ("/api/v1/points/award-to-user", "Basic abc", False),
        ("/api/v1/points/award-to-user", "", False),
        ("/api/v1/points/award-to-user", None, False),
        ("/wallet/", "Bearer abc", False),
        ("/admin/", "Bearer abc", False),
    ],
)
def test_which_requests_skip_the_session_middleware(rf, path, header, expected):
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    assert token_api_request(rf.post(path, **extra)) is expected


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_token_read_is_the_requests_connection_health_check(funded_tenant, manager, employee, monkeypatch):
    """No `SELECT 1` before a token request's first statement (the token read stands in for it:
    perksu.db.prepared_read), and a connection the server ended since the last request is replaced,
    the request answered as if nothing happened — what Django's health check does."""
    import psycopg
    from django.db import connections

    connection = connections["default"]
    client = _token_client(manager)
    assert client.post(AWARD, _body(employee), format="json").status_code == 200
    monkeypatch.setattr(connection, "health_check_enabled", True)
    checked = []
    usable = connection.is_usable
    monkeypatch.setattr(connection, "is_usable", lambda: checked.append(True) or usable())

    connection.health_check_done = False  # a request starts (close_old_connections)
    response = client.post(AWARD, _body(employee), format="json")
    assert response.status_code == 200, response.json()
    assert checked == []

    old = connection.connection.info.backend_pid
    with psycopg.connect(**{**connection.get_connection_params(), "autocommit": True}) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [old])
    connection.health_check_done = False
    before = books()
    response = client.post(AWARD, _body(employee), format="json")
    assert response.status_code == 200, response.json()
    assert connection.connection.info.backend_pid != old
    assert books() != before  # the award was made, once, on the new connection
    assert response.json()["recipient_new_wallet_balance"] == 30


@pytest.mark.parametrize("header", [None, "", "Bearer abc", "Token  abc def", "bearer \u00e9t\u00e9", "Basic x"])
def test_the_authorization_header_is_read_as_drf_reads_it(rf, header):
    from rest_framework.authentication import get_authorization_header

    from perksu.api.authentication import authorization_header

    request = rf.post("/api/v1/points/award-to-user", **({} if header is None else {"HTTP_AUTHORIZATION": header}))
    assert authorization_header(request) == get_authorization_header(request)


def test_a_token_award_never_builds_request_headers(funded_tenant, manager, employee, monkeypatch):
    """Nothing on a token award's path reads `request.headers` (a mapping of every header, built on
    first use): the Authorization, Accept and Idempotency-Key headers are read from META."""
    from django.http import request as django_request

    client = _token_client(manager)
    built = []
    real = django_request.HttpHeaders.__init__
    monkeypatch.setattr(django_request.HttpHeaders, "__init__", lambda self, meta: built.append(1) or real(self, meta))
    response = client.post(AWARD, _body(employee), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert response.status_code == 200, response.json()
    assert built == []
