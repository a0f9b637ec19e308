"""The console: a platform admin creates a tenant's SCIM token (shown once) and its single sign-on."""

from __future__ import annotations

import hashlib

import pytest
from django.test import Client

from identity.models import ScimToken, SsoConfig
from identity.oidc import client_secret

pytestmark = pytest.mark.django_db


@pytest.fixture
def console(platform_admin, password):
    client = Client()
    assert client.login(username=platform_admin.email, password=password)
    return client


def test_a_platform_admin_creates_a_scim_token_for_a_tenant_and_sees_it_once(console, tenant):
    response = console.post("/admin/identity/scimtoken/add/", {"tenant": tenant.pk, "name": "Okta"}, follow=True)
    assert response.status_code == 200
    token = ScimToken.objects.get()
    shown = [str(m) for m in response.context["messages"]]
    secret = next(m for m in shown if "not shown again" in m).rsplit(": ", 1)[1]
    assert token.tenant_id == tenant.pk and hashlib.sha256(secret.encode()).hexdigest() == token.key_hash
    assert secret not in console.get("/admin/identity/scimtoken/").content.decode()

    console.post("/admin/identity/scimtoken/", {"action": "revoke", "_selected_action": [str(token.pk)]}, follow=True)
    assert not ScimToken.objects.exists()


def test_a_platform_admin_sets_a_tenants_single_sign_on(console, tenant):
    form = {
        "tenant": tenant.pk,
        "enabled": "on",
        "issuer": "https://login.microsoftonline.com/abc/v2.0",
        "client_id": "app-id",
        "client_secret": "entra-secret",
        "client_secret_env": "",
        "allowed_domains": "triton.test",
        "password_login_enabled": "on",
    }
    response = console.post("/admin/identity/ssoconfig/add/", form, follow=True)
    assert response.status_code == 200
    config = SsoConfig.objects.get(tenant=tenant)
    assert client_secret(config) == "entra-secret" and "entra-secret" not in config.client_secret_encrypted
    change = console.get(f"/admin/identity/ssoconfig/{config.pk}/change/").content.decode()
    assert "entra-secret" not in change and config.client_secret_encrypted not in change


def test_tenant_members_do_not_reach_the_console_pages(manager, password):
    client = Client()
    assert client.login(username=manager.email, password=password)
    assert client.get("/admin/identity/scimtoken/").status_code == 302
