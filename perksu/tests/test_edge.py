"""Requests refused at the edge (perksu/edge.py): deep JSON, oversized bodies and NUL characters
answer a clean 4xx on every kind of endpoint — never a 500, never a logged traceback."""

from __future__ import annotations

import http.client
import io
import json
import logging
import uuid
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from perksu.edge import JSONParser
from points.models import DelegationLog
from recognition.models import Recognition
from tenants.tests.factories import PASSWORD
from wallets.models import WalletLedger

DEEP_ARRAY = "[" * 100_000
DEEP_OBJECT = '{"a":' * 50_000
NESTED_33 = "[" * 33 + "]" * 33


@pytest.fixture
def quiet(caplog):
    """Every ERROR record logged during the test (a refused request logs no error and no traceback)."""
    caplog.set_level(logging.WARNING)
    yield lambda: [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]


def client_for(user) -> APIClient:
    api = APIClient()
    if user is not None:
        api.force_authenticate(user)
    return api


def nothing_moved() -> bool:
    return not (Recognition.objects.exists() or WalletLedger.objects.exists() or DelegationLog.objects.exists())


def write_operations() -> list[tuple[str, str]]:
    """(method, path) of every operation of the API that takes a body, ids filled with a fresh UUID."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = []
    for path, operations in schema["paths"].items():
        for method in ("post", "put", "patch"):
            if method in operations:
                concrete = path
                for name in ("{id}", "{user_id}", "{lead_id}", "{tenant_id}", "{reward_id}", "{redemption_id}"):
                    concrete = concrete.replace(name, str(uuid.uuid4()))
                found.append((method, concrete))
    return found


@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT, NESTED_33], ids=["array", "object", "33-levels"])
def test_deep_json_is_a_parse_error_on_the_token_endpoint_and_money_endpoints(body, manager, funded_tenant, quiet):
    token = client_for(None).post("/api/v1/auth/token/", body, content_type="application/json")
    assert token.status_code == 400
    assert token.json()["code"] == "parse_error"
    for path in ("/api/v1/recognitions/", "/api/v1/points/award-to-user/", "/api/v1/redemptions/"):
        response = client_for(manager).post(path, body, content_type="application/json")
        assert response.status_code == 400, path
        assert response.json()["code"] == "parse_error"
        assert "nested deeper than 32 levels" in response.json()["detail"]
    assert quiet() == []
    assert nothing_moved()


@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT], ids=["array", "object"])
def test_deep_json_never_answers_500_on_any_write_operation(body, platform_admin, manager, quiet):
    operations = write_operations()
    assert len(operations) >= 15
    for user in (platform_admin, manager):
        for method, path in operations:
            response = getattr(client_for(user), method)(path, body, content_type="application/json")
            assert response.status_code in (400, 403, 404, 405), (method, path, response.status_code)
            assert response["Content-Type"] == "application/json"
            if response.status_code == 400:
                assert response.json()["code"] == "parse_error", (method, path)
    assert quiet() == []


def test_json_within_the_depth_limit_still_parses(manager, employee, funded_tenant):
    parser = JSONParser()
    deepest = parser.parse(io.BytesIO(("[" * 31 + '"ok"' + "]" * 31).encode()))
    for _ in range(31):
        deepest = deepest[0]
    assert deepest == "ok"
    body = {"to_user_ids": [str(employee.pk)], "points": 5, "message": "x"}
    response = client_for(manager).post("/api/v1/recognitions/", body, format="json")
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize(
    "body",
    [
        '{"email": "a\\u0000@x.test", "password": "x"}',
        '{"email": "a@x.test", "password": "x\\u0000"}',
        '{"email": "a@x.test", "password": "x", "\\u0000": 1}',
    ],
)
def test_nul_in_a_json_body_is_a_parse_error(body, quiet):
    response = client_for(None).post("/api/v1/auth/token/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert quiet() == []


def test_nul_in_an_award_message_moves_nothing(manager, employee, funded_tenant):
    body = {"to_user_id": str(employee.pk), "amount": 5, "recognition_message": "Thanks\u0000"}
    response = client_for(manager).post("/api/v1/points/award-to-user/", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert nothing_moved()


def test_a_body_over_the_limit_is_413_without_being_read(manager, quiet):
    """The declared length is over the limit but only 2 bytes are sent: reading them would fail the request."""
    over = str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    for user, path in ((None, "/api/v1/auth/token/"), (manager, "/api/v1/recognitions/"), (manager, "/recognize/")):
        response = client_for(user).generic("POST", path, "{}", content_type="application/json", CONTENT_LENGTH=over)
        assert response.status_code == 413, path
        assert response.json() == {
            "detail": f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.",
            "code": "request_too_large",
            "maximum": settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
        }
    assert quiet() == []


def test_a_real_body_over_the_limit_is_413(manager):
    body = b'{"message": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    response = client_for(manager).post("/api/v1/recognitions/", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"


API_QUERIES = [
    "/api/v1/recognitions/?search=%00",
    "/api/v1/recognitions/?%00=1",
    "/api/v1/points/liability/?from=%00",
    "/api/v1/wallet/?x=a%00b",
    "/api/v1/users/%00/",
    "/api/v1/rewards/?name=%00",
]


@pytest.mark.parametrize("path", API_QUERIES)
def test_nul_in_an_api_path_or_query_is_a_json_400(path, manager, quiet):
    response = client_for(manager).get(path)
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert quiet() == []


def test_nul_in_an_api_form_field_is_a_json_400(quiet):
    response = client_for(None).post(
        "/api/v1/auth/token/", {"email": "a@x.test", "password": "x\x00"}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    response = Client().post(
        "/api/v1/auth/token/", "email=a%40x.test&password=%00", "application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert quiet() == []


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/recognize/?q=%00", 400),
        ("/feed/?page=%00", 400),
        ("/manage/?q=%00", 400),
        ("/wallet/?cursor=%00", 400),
        ("/manage/leads/%00/recall/", 404),
        ("/rewards/redemptions/%00/", 404),
        ("/rewards/%00/redeem/", 404),
    ],
)
def test_nul_on_a_page_is_a_400_or_404_page(path, status, client, manager, quiet):
    client.force_login(manager)
    response = client.get(path)
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    assert quiet() == []


def test_nul_in_a_page_form_is_a_400_page_and_moves_nothing(client, manager, employee, funded_tenant, quiet):
    client.force_login(manager)
    token = client.get("/recognize/").context["form"].initial["form_token"]
    response = client.post(
        "/recognize/", {"recipients": [str(employee.pk)], "points": "5", "message": "x\x00", "form_token": token}
    )
    assert response.status_code == 400
    assert b"Bad request" in response.content
    assert nothing_moved()
    login = Client().post("/accounts/login/", {"username": "a\x00@x.test", "password": "x"})
    assert login.status_code == 400
    assert quiet() == []


@pytest.mark.parametrize(
    "path",
    [
        "/admin/tenants/user/?q=%00",
        "/admin/tenants/user/?tenant__id__exact=%00",
        "/admin/tenants/tenant/?q=%00",
        "/admin/tenants/tenant/%00/change/",
        "/admin/points/allocationlog/?q=%00",
    ],
)
def test_nul_in_the_console_is_a_400_or_404_page(path, client, platform_admin, quiet):
    client.force_login(platform_admin)
    response = client.get(path)
    assert response.status_code in (400, 404)
    assert response["Content-Type"].startswith("text/html")
    assert quiet() == []


# Over a real socket: the same answers through a WSGI server, which hands the app the raw
# bytes a client sent (no test client in between).


def _send(live_server, method: str, path: str, body: bytes = b"", headers: dict | None = None):
    url = urlsplit(live_server.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
        response = conn.getresponse()
        return response.status, response.getheader("Content-Type"), response.read()
    finally:
        conn.close()


@pytest.mark.django_db(transaction=True)
def test_over_a_real_socket(live_server, manager):
    token = json.loads(
        _send(
            live_server,
            "POST",
            "/api/v1/auth/token/",
            json.dumps({"email": manager.email, "password": PASSWORD}).encode(),
        )[2]
    )["token"]
    auth = {"Authorization": f"Bearer {token}"}
    for body in (DEEP_ARRAY, DEEP_OBJECT):
        status, kind, content = _send(live_server, "POST", "/api/v1/auth/token/", body.encode())
        assert (status, kind, json.loads(content)["code"]) == (400, "application/json", "parse_error")
        status, _, content = _send(live_server, "POST", "/api/v1/recognitions/", body.encode(), auth)
        assert (status, json.loads(content)["code"]) == (400, "parse_error")
    big = b"[" + b"1," * (1_400_000) + b"1]"
    status, kind, content = _send(live_server, "POST", "/api/v1/recognitions/", big, auth)
    assert (status, kind, json.loads(content)["code"]) == (413, "application/json", "request_too_large")
    status, _, content = _send(live_server, "GET", "/api/v1/recognitions/?search=%00", headers=auth)
    assert (status, json.loads(content)["code"]) == (400, "parse_error")
    status, kind, _ = _send(live_server, "GET", "/recognize/?q=%00")
    assert (status, kind.split(";")[0]) == (400, "text/html")


# Through gunicorn, as deployed (perksu/gunicorn.conf.py, one sync worker). Every request here is
# refused before any database access, so the server needs no database of its own.

GUNICORN_PORTS = range(18150, 18200)


def _free_port() -> int:
    import socket

    for port in GUNICORN_PORTS:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free port for gunicorn")


@pytest.fixture
def gunicorn_url(tmp_path):
    import os
    import subprocess
    import sys
    import time

    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "perksu.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "1",
        "GUNICORN_LOG_LEVEL": "error",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "perksu/gunicorn.conf.py", "perksu.wsgi"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        for _ in range(300):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/healthz")
                break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode()
    assert "Traceback" not in output, output


class _Server:
    def __init__(self, url: str) -> None:
        self.url = url


def test_through_gunicorn(gunicorn_url):
    server = _Server(gunicorn_url)
    for body in (DEEP_ARRAY, DEEP_OBJECT):
        status, kind, content = _send(server, "POST", "/api/v1/auth/token/", body.encode())
        assert (status, kind, json.loads(content)["code"]) == (400, "application/json", "parse_error")
    status, kind, content = _send(server, "GET", "/api/v1/recognitions/?search=%00")
    assert (status, json.loads(content)["code"]) == (400, "parse_error")
    status, kind, _ = _send(server, "GET", "/recognize/?q=%00")
    assert (status, kind.split(";")[0]) == (400, "text/html")
    status, kind, _ = _send(server, "GET", "/manage/leads/%00/recall/")
    assert (status, kind.split(";")[0]) == (404, "text/html")

    # 3 MB announced, not one byte of it sent: the answer comes without the body being read.
    url = urlsplit(gunicorn_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.putrequest("POST", "/api/v1/auth/token/")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(3 * 1024 * 1024))
    conn.endheaders()
    response = conn.getresponse()
    assert response.status == 413
    assert json.loads(response.read())["code"] == "request_too_large"
    conn.close()
