"""The API's shared base: token auth, the error shapes, the schema and docs."""

import pytest
from rest_framework.test import APIClient


@pytest.fixture
def api():
    return APIClient()


def test_token_for_email_and_password_works_as_bearer_and_token(api, employee, password):
    response = api.post("/api/v1/auth/token/", {"email": "Employee@Triton.test", "password": password})
    assert response.status_code == 200
    token = response.json()["token"]
    assert len(token) == 40
    for keyword in ("Bearer", "Token"):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"{keyword} {token}")
        assert client.get("/api/schema/").status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "key"),
    [
        ({"email": "employee@triton.test", "password": "wrong"}, 401, "code"),
        ({"email": "nobody@triton.test", "password": "wrong"}, 401, "code"),
        ({"email": "not-an-email", "password": "x"}, 400, "email"),
        ({}, 400, "password"),
    ],
)
def test_token_refusals(api, employee, body, status, key):
    response = api.post("/api/v1/auth/token/", body)
    assert response.status_code == status
    assert key in response.json()
    if status == 401:
        assert response.json()["code"] == "authentication_failed"
        assert response["WWW-Authenticate"] == "Bearer"


def test_a_deactivated_user_gets_no_token(api, employee, password):
    employee.is_active = False
    employee.save(update_fields=["is_active"])
    response = api.post("/api/v1/auth/token/", {"email": employee.email, "password": password})
    assert response.status_code == 401


def test_malformed_json_is_a_clean_400(api, employee):
    response = api.post("/api/v1/auth/token/", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


@pytest.mark.parametrize("path", ["/api/nope", "/api/v1/points/nope/", "/api/v2/"])
def test_unknown_api_paths_answer_json_404(api, db, path):
    response = api.get(path)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_schema_and_docs_are_served_with_local_assets(api, db):
    schema = api.get("/api/schema/")
    assert schema.status_code == 200
    assert b"openapi: 3" in schema.content
    docs = api.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower()


def test_a_token_expires_after_its_ttl_and_logging_in_again_issues_a_new_one(api, employee, password, settings):
    from datetime import timedelta

    from django.utils import timezone

    from identity.models import ApiToken

    def login() -> str:
        response = api.post("/api/v1/auth/token/", {"email": employee.email, "password": password})
        assert response.status_code == 200
        return response.json()["token"]

    def feed(token: str):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client.get("/api/v1/recognitions/")

    first = login()
    assert feed(first).status_code == 200
    row = ApiToken.objects.get(user=employee)
    assert row.expires_at == row.created_at + settings.API_TOKEN_TTL

    ApiToken.objects.filter(pk=row.pk).update(expires_at=timezone.now() + timedelta(minutes=1))
    assert feed(first).status_code == 200  # a minute before it expires

    ApiToken.objects.filter(pk=row.pk).update(expires_at=timezone.now())
    expired = feed(first)
    assert expired.status_code == 401
    assert expired.json()["code"] == "authentication_failed"
    assert "expired" in expired.json()["detail"]

    second = login()
    assert second != first
    assert feed(second).status_code == 200
    assert feed(first).status_code == 401  # the expired row was removed when the new one was issued
    assert ApiToken.objects.filter(user=employee).count() == 1


def test_the_token_lifetime_is_a_setting(api, employee, password, settings):
    from datetime import timedelta

    settings.API_TOKEN_TTL = timedelta(seconds=0)
    token = api.post("/api/v1/auth/token/", {"email": employee.email, "password": password}).json()["token"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/recognitions/").status_code == 401
