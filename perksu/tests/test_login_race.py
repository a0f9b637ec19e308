"""The wrong-password limit holds under concurrency: 30 wrong passwords sent at once for one
e-mail get at most LOGIN_FAILURE_LIMIT password checks, in the local cache and in Redis."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from rest_framework.test import APIClient

from perksu.testing import run_together
from tenants.models import User

TOKEN = "/api/v1/auth/token/"
REDIS_URL = "redis://127.0.0.1:6379/12"
GUESSES = 30


@pytest.fixture(params=["locmem", "redis"])
def shared_cache(request, settings):
    """The `default` cache of the test: the local-memory cache, or Redis under a prefix of its own."""
    if request.param == "locmem":
        settings.CACHES = {
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex}
        }
        yield
        return
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"no Redis at {REDIS_URL} ({exc})")
    prefix = f"perksu-login-race-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    try:
        yield
    finally:
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
        client.close()


@pytest.fixture
def slow_password_checks(monkeypatch):
    """Count every password check, each taking 50 ms as a real hash does, so the guesses overlap."""
    checked = []
    lock = threading.Lock()
    original = User.check_password

    def check_password(self, raw):
        with lock:
            checked.append(raw)
        time.sleep(0.05)
        return original(self, raw)

    monkeypatch.setattr(User, "check_password", check_password)
    return checked


@pytest.mark.django_db(transaction=True)
def test_thirty_concurrent_wrong_passwords_get_five_checks(shared_cache, slow_password_checks, employee, settings):
    assert settings.LOGIN_FAILURE_LIMIT == 5

    def guess(i: int) -> tuple[int, str]:
        response = APIClient().post(
            TOKEN, {"email": employee.email, "password": f"wrong-{i}"}, format="json", REMOTE_ADDR="10.0.0.7"
        )
        return response.status_code, response.json()["code"]

    results = run_together(GUESSES, guess)
    assert len(slow_password_checks) <= settings.LOGIN_FAILURE_LIMIT
    assert sorted(results).count((401, "authentication_failed")) == len(slow_password_checks)
    assert sorted(results).count((429, "throttled")) == GUESSES - len(slow_password_checks)
    # Once locked, even the right password is refused without a check.
    response = APIClient().post(
        TOKEN, {"email": employee.email, "password": "x"}, format="json", REMOTE_ADDR="10.0.0.7"
    )
    assert response.status_code == 429


@pytest.mark.django_db(transaction=True)
def test_concurrent_wrong_passwords_on_the_login_page_get_five_checks(shared_cache, slow_password_checks, employee):
    from django.test import Client

    def guess(i: int) -> int:
        response = Client(REMOTE_ADDR="10.0.0.8").post(
            "/accounts/login/", {"username": employee.email, "password": f"wrong-{i}"}
        )
        return response.status_code

    results = run_together(GUESSES, guess)
    assert len(slow_password_checks) <= 5
    assert all(status == 200 for status in results), results  # the form again, with its error
