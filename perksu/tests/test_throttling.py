"""Wrong-password lockout per (email, client IP) and the per-user money POST limit."""

import time

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.urls import path
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from perksu import throttling
from perksu.throttling import (
    MoneyRateThrottle,
    ThrottledAuthenticationForm,
    ThrottledModelBackend,
    client_ip,
    login_retry_after,
)
from tenants.models import User

TOKEN = "/api/v1/auth/token/"


@pytest.fixture
def api():
    return APIClient()


def token_attempt(api, email, password, ip="10.0.0.1"):
    return api.post(TOKEN, {"email": email, "password": password}, REMOTE_ADDR=ip)


def fail(api, email, times, ip="10.0.0.1"):
    for _ in range(times):
        response = token_attempt(api, email, "wrong-password", ip=ip)
        assert response.status_code == 401
        assert response.json()["code"] == "authentication_failed"


# --- The token endpoint ------------------------------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_token_endpoint_with_a_429(api, employee, password, settings):
    assert settings.LOGIN_FAILURE_LIMIT == 5
    assert settings.LOGIN_FAILURE_WINDOW == 300
    fail(api, employee.email, 5)
    response = token_attempt(api, employee.email, password)  # even the right password is refused now
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "throttled"
    assert body["detail"].startswith("Too many failed sign-in attempts. Try again in 5 minutes.")
    assert 299 <= body["retry_after"] <= 301
    assert response["Retry-After"] == str(body["retry_after"])
    assert "token" not in body


def test_a_locked_out_attempt_never_checks_the_password(api, employee, password, monkeypatch):
    fail(api, employee.email, 5)
    checked = []
    original = User.check_password
    monkeypatch.setattr(User, "check_password", lambda self, raw: checked.append(raw) or original(self, raw))
    assert token_attempt(api, employee.email, password).status_code == 429
    assert checked == []
    # And the backend refuses on its own, even when a view does not ask first.
    request = RequestFactory().post("/", REMOTE_ADDR="10.0.0.1")
    with pytest.raises(PermissionDenied):
        ThrottledModelBackend().authenticate(request, username=employee.email, password=password)
    assert authenticate(request, username=employee.email, password=password) is None
    assert checked == []
    assert request.login_retry_after > 0


def test_four_failures_still_let_the_right_password_in_and_reset_the_count(api, employee, password):
    fail(api, employee.email, 4)
    response = token_attempt(api, employee.email, password)
    assert response.status_code == 200
    assert len(response.json()["token"]) == 40
    fail(api, employee.email, 4)  # counting starts again from zero after a success
    assert token_attempt(api, employee.email, password).status_code == 200


def test_the_lock_is_per_client_ip_and_per_email(api, employee, other_employee, password):
    fail(api, employee.email, 5, ip="10.0.0.1")
    assert token_attempt(api, employee.email, password, ip="10.0.0.1").status_code == 429
    # The real user from another address is not locked out by an attacker elsewhere.
    assert token_attempt(api, employee.email, password, ip="10.0.0.2").status_code == 200
    # Another account from the attacker's address is not locked either.
    assert token_attempt(api, other_employee.email, password, ip="10.0.0.1").status_code == 200


def test_the_email_is_matched_case_insensitively(api, employee, password):
    fail(api, employee.email.upper(), 5)
    assert token_attempt(api, employee.email, password).status_code == 429


def test_unknown_emails_are_counted_too(api, db):
    fail(api, "nobody@triton.test", 5)
    response = token_attempt(api, "nobody@triton.test", "wrong-password")
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"


def test_the_lock_ends_with_the_window(api, employee, password, monkeypatch):
    fail(api, employee.email, 5)
    assert token_attempt(api, employee.email, password).status_code == 429
    later = time.time() + 301
    monkeypatch.setattr(time, "time", lambda: later)  # the cache expires its keys by the same clock
    assert token_attempt(api, employee.email, password).status_code == 200


def test_limit_and_window_come_from_settings(api, employee, password, settings):
    settings.LOGIN_FAILURE_LIMIT = 2
    settings.LOGIN_FAILURE_WINDOW = 60
    fail(api, employee.email, 2)
    response = token_attempt(api, employee.email, password)
    assert response.status_code == 429
    assert 59 <= response.json()["retry_after"] <= 61
    assert "1 minute." in response.json()["detail"]


def test_client_ip_uses_the_configured_proxy_header_last_entry(settings):
    rf = RequestFactory()
    request = rf.get("/", REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.7")
    assert client_ip(request) == "10.9.9.9"
    settings.CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    assert client_ip(request) == "203.0.113.7"
    assert client_ip(rf.get("/", REMOTE_ADDR="10.9.9.9")) == "10.9.9.9"


# --- Login pages -------------------------------------------------------------------------------------------------


def test_the_login_form_shows_the_lockout_as_a_form_error(employee, password):
    rf = RequestFactory()
    for _ in range(5):
        form = ThrottledAuthenticationForm(
            rf.post("/", REMOTE_ADDR="10.0.0.1"), data={"username": employee.email, "password": "wrong"}
        )
        assert not form.is_valid()
        assert form.errors.as_data()["__all__"][0].code == "invalid_login"
    request = rf.post("/", REMOTE_ADDR="10.0.0.1")
    form = ThrottledAuthenticationForm(request, data={"username": employee.email, "password": password})
    assert not form.is_valid()
    error = form.errors.as_data()["__all__"][0]
    assert error.code == "throttled"
    assert error.message == "Too many failed sign-in attempts. Try again in 5 minutes."
    assert login_retry_after(request, employee.email) > 0


def test_the_admin_login_is_covered_by_the_backend(client, platform_admin, password):
    for _ in range(5):
        response = client.post("/admin/login/", {"username": platform_admin.email, "password": "wrong"})
        assert response.status_code == 200
    response = client.post("/admin/login/", {"username": platform_admin.email, "password": password})
    assert response.status_code == 200  # the form again, not the redirect to the console
    assert "_auth_user_id" not in client.session


def test_the_login_page_refuses_with_a_message_after_too_many_failures(client, employee, password):
    if client.get("/accounts/login/").status_code == 404:
        pytest.skip("the login page (/accounts/login/) is not in this build")
    for _ in range(5):
        client.post("/accounts/login/", {"username": employee.email, "password": "wrong"})
    response = client.post("/accounts/login/", {"username": employee.email, "password": password})
    assert response.status_code in (200, 429)
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


# --- Money POSTs -------------------------------------------------------------------------------------------------


class MoneyView(APIView):
    throttle_classes = [MoneyRateThrottle]

    def get(self, request):
        return Response({"ok": True})

    def post(self, request):
        return Response({"moved": True})


urlpatterns = [path("api/v1/money-probe/", MoneyView.as_view())]


def test_the_default_money_rate_allows_hundreds_of_awards_a_minute(settings):
    assert settings.MONEY_POST_RATE == "1200/min"
    throttle = MoneyRateThrottle()
    assert (throttle.num_requests, throttle.duration) == (1200, 60)


@pytest.mark.urls("perksu.tests.test_throttling")
def test_money_posts_over_the_rate_get_a_clear_429(settings, manager, lead):
    settings.MONEY_POST_RATE = "3/min"
    api = APIClient()
    api.force_authenticate(manager)
    for _ in range(3):
        assert api.post("/api/v1/money-probe/", {}).json() == {"moved": True}
    response = api.post("/api/v1/money-probe/", {})
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "throttled"
    assert "throttled" in body["detail"].lower()
    assert 1 <= body["retry_after"] <= 61
    assert response["Retry-After"] == str(body["retry_after"])
    # Reads are never counted, and the limit is per user.
    assert api.get("/api/v1/money-probe/").status_code == 200
    other = APIClient()
    other.force_authenticate(lead)
    assert other.post("/api/v1/money-probe/", {}).status_code == 200


@pytest.mark.urls("perksu.tests.test_throttling")
def test_hundreds_of_money_posts_a_minute_pass_at_the_default_rate(manager):
    api = APIClient()
    api.force_authenticate(manager)
    statuses = {api.post("/api/v1/money-probe/", {}).status_code for _ in range(300)}
    assert statuses == {200}


def test_the_counters_share_one_module_prefix():
    count_key, until_key = throttling._keys("A@B.test", "10.0.0.1")
    assert count_key.startswith("perksu:login-failures:")
    assert (count_key, until_key) == throttling._keys("a@b.test", "10.0.0.1")


# --- The API's money endpoints (marked throttle_scope="money") ----------------------------------------------------

AWARD = "/api/v1/points/award-to-user"
DELEGATE = "/api/v1/points/delegate-to-lead"
STATS = "/api/v1/points/tenant-allocation-stats"


def wallet_balance(user) -> int:
    from wallets.models import Wallet

    return Wallet.objects.values_list("balance", flat=True).get(user=user)


def test_award_endpoint_is_limited_per_user_and_a_refused_award_moves_nothing(
    settings, funded_tenant, manager, lead, employee
):
    from tenants.models import Tenant
    from wallets.models import WalletLedger

    settings.MONEY_POST_RATE = "2/min"
    api = APIClient()
    api.force_authenticate(manager)
    body = {"to_user_id": str(employee.pk), "amount": 100, "recognition_message": "Thanks"}
    assert [api.post(AWARD, body).status_code for _ in range(2)] == [200, 200]
    response = api.post(AWARD, body)
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert response.json()["retry_after"] >= 1
    assert wallet_balance(employee) == 200
    assert WalletLedger.objects.filter(wallet__user=employee).count() == 2
    assert Tenant.objects.get(pk=funded_tenant.pk).points_allocation_balance == 49_800
    # The money counter is shared by every money endpoint of the user…
    assert api.post(DELEGATE, {"lead_id": str(lead.pk), "amount": 10}).status_code == 429
    # …and reads are not money: the pool card still answers.
    assert api.get(STATS).status_code == 200


def test_endpoints_not_marked_money_are_not_counted(settings, employee, password):
    settings.MONEY_POST_RATE = "1/min"
    api = APIClient()
    statuses = [api.post(TOKEN, {"email": employee.email, "password": password}).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]


# --- A shared cache: the counters every worker sees ---------------------------------------------------------------

REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis_client():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis at {REDIS_URL} ({exc}): the shared-cache test needs one")
    return client


def test_with_redis_the_lockout_counts_in_the_shared_cache(api, employee, password, settings):
    """CACHE_URL=redis://… (what .env.example sets for production): the wrong-password counter
    lives in Redis, where every gunicorn worker and host reads the same count."""
    import uuid

    client = _redis_client()
    prefix = f"perksu-test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    try:
        fail(api, employee.email, settings.LOGIN_FAILURE_LIMIT)
        count_key, _ = throttling._keys(employee.email, "10.0.0.1")
        stored = {key.decode(): value for key in client.scan_iter(f"{prefix}:*") if (value := client.get(key))}
        assert stored[f"{prefix}:1:{count_key}"] == str(settings.LOGIN_FAILURE_LIMIT).encode()
        assert token_attempt(api, employee.email, password).status_code == 429
    finally:
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
        client.close()
