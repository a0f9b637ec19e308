"""Production settings pass Django's deploy check; every response carries the security headers."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import path
from rest_framework import filters, generics, serializers
from rest_framework.test import APIClient

from perksu.security import POLICY, _sha256, build_policy
from tenants.models import Tenant

BASE_DIR = Path(__file__).resolve().parents[2]

STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'; object-src 'none'"
)


def env_example() -> dict[str, str]:
    values = {}
    for line in (BASE_DIR / ".env.example").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, value = line.split("=", 1)
            values[name.strip()] = value.strip()
    return values


def run_manage(*args: str, **overrides: str) -> subprocess.CompletedProcess:
    """`manage.py <args>` in a clean environment: only PATH plus the variables of .env.example."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env_example(), **overrides}
    return subprocess.run(  # noqa: S603 — our own interpreter and manage.py, fixed arguments
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# --- Deploy check ------------------------------------------------------------------------------------------------


def test_env_example_selects_production_settings_with_debug_off():
    values = env_example()
    assert values["DJANGO_SETTINGS_MODULE"] == "perksu.settings.production"
    assert values["DEBUG"] == "False"
    assert len(values["SECRET_KEY"]) >= 50


def test_deploy_check_passes_with_the_env_example_values():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_deploy_check_flags_a_missing_ssl_redirect():
    """The check really runs: turning the redirect off is reported (security.W008) and fails the step."""
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", SECURE_SSL_REDIRECT="False")
    assert result.returncode == 1
    assert "security.W008" in result.stdout + result.stderr


def test_deploy_check_flags_throttle_counters_kept_per_process():
    """With a process-local cache each worker would count wrong passwords and money POSTs alone."""
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", CACHE_URL="locmemcache://perksu")
    assert result.returncode == 1
    assert "perksu.W001" in result.stdout + result.stderr


def test_production_refuses_a_short_secret_key():
    result = run_manage("check", SECRET_KEY="too-short-a-secret")
    assert result.returncode != 0
    assert "SECRET_KEY must be set to a random string of at least 50 characters" in result.stderr


def test_production_refuses_a_missing_secret_key():
    env = {name: value for name, value in env_example().items() if name != "SECRET_KEY"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BASE_DIR,
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "at least 50 characters" in result.stderr


def test_production_settings_values():
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, "
        "s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.DEBUG)",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].split() == ["True", "31536000", "True", "True", "True", "False"]


# --- Headers -----------------------------------------------------------------------------------------------------


def assert_security_headers(response, csp: str = STRICT_CSP) -> None:
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] in ("same-origin", "strict-origin-when-cross-origin")
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Content-Security-Policy"] == csp


def test_the_strict_policy_has_every_directive_asked_for():
    assert build_policy("/") == STRICT_CSP
    assert "'unsafe-inline'" not in STRICT_CSP
    assert POLICY["script-src"] == ("'self'",)


@pytest.mark.parametrize("path", ["/", "/api/", "/admin/", "/static/", "/accounts/login/"])
def test_no_path_ever_relaxes_script_src(path):
    policy = dict(part.split(" ", 1) for part in build_policy(path).split("; "))
    assert policy["script-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert "'unsafe-inline'" not in build_policy(path)


def test_headers_on_the_health_check(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert_security_headers(response)


def test_headers_on_the_admin_login_page(client, db):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert b"<script>" not in response.content  # no inline script for the policy to block
    assert_security_headers(response)


def test_headers_on_an_admin_page_signed_in(client, platform_admin):
    client.force_login(platform_admin)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert_security_headers(response)


def test_headers_on_an_api_json_response(db):
    response = APIClient().post("/api/v1/auth/token/", {"email": "nobody@triton.test", "password": "x"})
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert response["Content-Type"] == "application/json"
    assert_security_headers(response, csp=build_policy("/api/"))


def test_headers_on_an_api_404(db):
    response = APIClient().get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}
    assert_security_headers(response, csp=build_policy("/api/"))


def test_headers_on_the_schema(db):
    response = APIClient().get("/api/schema/")
    assert response.status_code == 200
    assert_security_headers(response, csp=build_policy("/api/"))


def test_headers_on_the_api_docs_and_the_style_hash_matches_its_one_inline_style(client, db):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert_security_headers(response, csp=build_policy("/api/docs/"))
    # No inline script: the Swagger UI initialiser is served from a URL.
    assert re.findall(r"<script>", html) == []
    styles = re.findall(r"<style>(.*?)</style>", html, re.S)
    assert len(styles) == 1
    assert _sha256(styles[0]) in response["Content-Security-Policy"]


class TenantNames(serializers.ModelSerializer):
    class Meta:
        model = Tenant
        fields = ["name"]


class EchoView(generics.ListCreateAPIView):
    """A plain list endpoint with a filter, so DRF's browsable page renders its floated buttons."""

    queryset = Tenant.objects.order_by("name")
    serializer_class = TenantNames
    filter_backends = [filters.OrderingFilter]
    ordering_fields = ["name"]


urlpatterns = [path("api/v1/echo/", EchoView.as_view())]


@pytest.mark.urls("perksu.tests.test_security")
def test_browsable_api_style_attributes_are_each_allowed_by_hash(client, employee):
    client.force_login(employee)
    response = client.get("/api/v1/echo/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    html = response.content.decode()
    csp = response["Content-Security-Policy"]
    attributes = re.findall(r'style="([^"]*)"', html)
    assert attributes, "the browsable API page should carry its inline style attributes"
    for value in attributes:
        assert _sha256(value) in csp, value
    for block in re.findall(r"<style>(.*?)</style>", html, re.S):
        assert _sha256(block) in csp
    assert "'unsafe-inline'" not in csp


def test_headers_on_a_static_file(client, db):
    response = client.get("/static/admin/css/base.css")
    assert response.status_code == 200
    assert_security_headers(response)


def test_a_view_may_set_its_own_policy(rf):
    from django.http import HttpResponse

    from perksu.security import SecurityHeadersMiddleware

    def view(request):
        response = HttpResponse("ok")
        response["Content-Security-Policy"] = "default-src 'none'"
        return response

    response = SecurityHeadersMiddleware(view)(rf.get("/"))
    assert response["Content-Security-Policy"] == "default-src 'none'"
    assert response["X-Frame-Options"] == "DENY"


def test_deploy_check_flags_a_trusted_proxy_header_with_gunicorn_on_every_interface():
    """Production trusts X-Forwarded-Proto: a gunicorn every client can reach would let one claim HTTPS."""
    for bind in ("0.0.0.0:8000", "[::]:8000", ":8000"):
        result = run_manage("check", "--deploy", "--fail-level", "WARNING", GUNICORN_BIND=bind)
        assert result.returncode == 1, bind
        assert "perksu.W002" in result.stdout + result.stderr
        assert bind in result.stdout + result.stderr
    for bind in ("127.0.0.1:8000", "10.0.3.7:8000", "unix:/run/perksu.sock"):
        result = run_manage("check", "--deploy", "--fail-level", "WARNING", GUNICORN_BIND=bind)
        assert result.returncode == 0, result.stdout + result.stderr


def test_the_bind_address_parser():
    from perksu.checks import binds_all_interfaces

    public = ("0.0.0.0:80", "[::]:80", ":80", "0.0.0.0", "::")  # noqa: S104 - addresses checked, not bound
    assert [binds_all_interfaces(a) for a in public] == [True] * 5
    assert not any(binds_all_interfaces(a) for a in ("127.0.0.1:80", "[::1]:80", "unix:/tmp/s", "fd://3", "::1"))
