"""The manager pages: SCIM tokens on /manage/integrations/, single sign-on on /manage/settings/sso/."""

from __future__ import annotations

import hashlib

import pytest
from django.test import Client

from identity.models import ScimToken, SsoConfig
from identity.oidc import client_secret
from identity.services import scim_token_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(manager, password):
    client = Client()
    assert client.login(username=manager.email, password=password)
    return client


def test_a_manager_creates_a_scim_token_sees_it_once_and_revokes_it(boss, manager):
    page = boss.post("/manage/integrations/", {"name": "Okta"})
    assert page.status_code == 200
    token = ScimToken.objects.get(tenant=manager.tenant)
    html = page.content.decode()
    secret = html.split('id="scim-token-secret" readonly value="')[1].split('"')[0]
    assert hashlib.sha256(secret.encode()).hexdigest() == token.key_hash
    again = boss.get("/manage/integrations/").content.decode()
    assert secret not in again and f"{token.prefix}…" in again and "Okta" in again

    revoked = boss.post("/manage/integrations/", {"revoke": str(token.pk)})
    assert revoked.status_code == 302
    assert not ScimToken.objects.exists()


def test_another_tenants_token_cannot_be_revoked_from_the_page(boss, outsider):
    token, _ = scim_token_create(tenant=outsider.tenant, name="B", actor=None)
    boss.post("/manage/integrations/", {"revoke": str(token.pk)})
    assert ScimToken.objects.filter(pk=token.pk).exists()


def test_the_pages_are_for_managers(employee, password):
    client = Client()
    assert client.login(username=employee.email, password=password)
    assert client.get("/manage/integrations/").status_code == 403
    assert client.get("/manage/settings/sso/").status_code == 403
    assert Client().get("/manage/settings/sso/").status_code == 302


def test_a_manager_sets_up_sso_and_the_secret_is_stored_encrypted_and_never_shown(boss, manager):
    form = {
        "enabled": "on",
        "issuer": "https://triton.okta.com",
        "client_id": "0oa1client",
        "client_secret": "very-secret-value",
        "allowed_domains": "Triton.test, @triton.in",
        "password_login_enabled": "on",
    }
    assert boss.post("/manage/settings/sso/", form).status_code == 302
    config = SsoConfig.objects.get(tenant=manager.tenant)
    assert config.enabled and not config.jit_enabled and config.password_login_enabled
    assert config.domains == ["triton.in", "triton.test"]
    assert "very-secret-value" not in config.client_secret_encrypted
    assert client_secret(config) == "very-secret-value"
    page = boss.get("/manage/settings/sso/").content.decode()
    assert "very-secret-value" not in page and "A client secret is stored" in page

    # Saving again without a secret keeps the stored one.
    assert boss.post("/manage/settings/sso/", {**form, "client_secret": ""}).status_code == 302
    config.refresh_from_db()
    assert client_secret(config) == "very-secret-value"

    refused = boss.post("/manage/settings/sso/", {**form, "issuer": "http://triton.okta.com"})
    assert refused.status_code == 200 and "https://" in refused.content.decode()
