"""Single sign-on end to end in Chromium, against a real OpenID Connect provider on 127.0.0.1
(identity/tests/oidc_provider.py): a good sign-in, a wrong state, an expired or wrongly signed
ID token, an e-mail outside the allowed domains, a deactivated member, first sign-in creation,
and password login switched off."""

from __future__ import annotations

import os
import re

import pytest

from identity.services import scim_token_create, sso_config_save
from identity.tests.oidc_provider import Provider
from perksu.testing import needs_chromium
from tenants.models import User
from tenants.services import user_set_active

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), needs_chromium]

AUTHORIZE = re.compile(r"^http://127\.0\.0\.1:\d+/authorize\?")
CLIENT_ID, CLIENT_SECRET = "perksu-test-client", "s3cret-of-the-client"


@pytest.fixture
def provider():
    with Provider(client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as running:
        yield running


@pytest.fixture
def sso(tenant, provider):
    return sso_config_save(
        tenant=tenant,
        issuer=provider.url,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        allowed_domains="triton.test",
        jit_enabled=True,
    )


def sign_in_with_sso(page, live_server, email, idp_email=None):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(AUTHORIZE)
    if idp_email:
        page.get_by_label("IdP e-mail").fill(idp_email)
    page.get_by_label("IdP password").fill("anything")
    page.get_by_role("button", name="Continue to Perksu").click()


def refused(page, live_server, text):
    from playwright.sync_api import expect

    page.wait_for_url(f"{live_server.url}/accounts/login/")
    expect(page.locator(".messages")).to_contain_text(text)
    page.goto(f"{live_server.url}/wallet/")
    page.wait_for_url(f"{live_server.url}/accounts/login/?next=/wallet/")  # nobody is signed in


def test_a_good_sign_in_lands_on_the_wallet(page, live_server, sso, provider, employee):
    from playwright.sync_api import expect

    sign_in_with_sso(page, live_server, employee.email)
    page.wait_for_url(f"{live_server.url}/wallet/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    request = provider.token_requests[-1]
    assert request["client_id"] == CLIENT_ID and request["code_verifier"]  # PKCE, client authenticated
    assert page.csp_violations == []


def test_a_wrong_state_is_refused(page, live_server, sso, provider, employee):
    provider.mode = "wrong_state"
    sign_in_with_sso(page, live_server, employee.email)
    refused(page, live_server, "state does not match")
    assert provider.token_requests == []  # the code was never exchanged


def test_an_expired_id_token_is_refused(page, live_server, sso, provider, employee):
    provider.mode = "expired"
    sign_in_with_sso(page, live_server, employee.email)
    refused(page, live_server, "ID token was refused")


def test_a_wrongly_signed_id_token_is_refused(page, live_server, sso, provider, employee):
    provider.mode = "bad_signature"
    sign_in_with_sso(page, live_server, employee.email)
    refused(page, live_server, "signature")


@pytest.mark.parametrize("mode", ["wrong_audience", "wrong_nonce"])
def test_an_id_token_for_another_client_or_sign_in_is_refused(page, live_server, sso, provider, employee, mode):
    provider.mode = mode
    sign_in_with_sso(page, live_server, employee.email)
    refused(page, live_server, "ID token was refused")


def test_an_email_outside_the_allowed_domains_is_refused(page, live_server, sso, provider, employee):
    sign_in_with_sso(page, live_server, employee.email, idp_email="asha@gmail.test")
    refused(page, live_server, "not an address of your company")
    assert not User.objects.filter(email="asha@gmail.test").exists()


def test_a_deactivated_member_is_refused(page, live_server, sso, provider, employee, manager):
    user_set_active(user=employee, is_active=False, actor=manager)
    sign_in_with_sso(page, live_server, employee.email)
    refused(page, live_server, "deactivated")


def test_first_sign_in_creates_the_member_when_the_tenant_allows_it(page, live_server, sso, provider, tenant):
    sign_in_with_sso(page, live_server, "new.joiner@triton.test")
    page.wait_for_url(f"{live_server.url}/wallet/")
    user = User.objects.get(email="new.joiner@triton.test")
    assert user.tenant_id == tenant.pk and user.role == "employee" and not user.has_usable_password()


def test_without_first_sign_in_creation_an_unknown_email_is_not_sent_to_the_provider(page, live_server, sso, provider):
    sso.jit_enabled = False
    sso.save(update_fields=["jit_enabled"])
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("stranger@triton.test")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/accounts/login/")
    assert not User.objects.filter(email="stranger@triton.test").exists()


def test_with_password_login_off_a_password_sends_the_member_to_the_provider(
    page, live_server, sso, provider, employee, password
):
    sso.password_login_enabled = False
    sso.save(update_fields=["password_login_enabled"])
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(employee.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(AUTHORIZE)


def test_the_identity_pages_at_desktop_and_phone_widths(page, live_server, tenant, manager, password):
    """The integrations and single sign-on pages render without a CSP violation; screenshots go to
    $SCREENSHOT_DIR when it is set."""
    from playwright.sync_api import expect

    scim_token_create(tenant=tenant, name="Okta", actor=manager)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(manager.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server.url}/manage/")
    out = os.environ.get("SCREENSHOT_DIR")
    for path, name in (("/manage/integrations/", "integrations"), ("/manage/settings/sso/", "sso-settings")):
        page.goto(f"{live_server.url}{path}")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        for width in (1280, 375):
            page.set_viewport_size({"width": width, "height": 900})
            if out:
                page.screenshot(path=f"{out}/{name}-{width}.png", full_page=True)
    page.goto(f"{live_server.url}/manage/integrations/")
    page.get_by_label("Token name").fill("Entra")
    page.get_by_role("button", name="Create SCIM token").click()
    expect(page.locator("#scim-token-secret")).to_have_value(re.compile(r"^scim_[0-9a-f]{40}$"))
    if out:
        page.screenshot(path=f"{out}/integrations-created-375.png", full_page=True)
    assert page.csp_violations == []
