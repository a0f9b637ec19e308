"""API tokens stored as hashes, listed and revoked; deactivation ends every session and token at once."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from rest_framework.test import APIClient

from identity.models import ApiToken, ScimToken
from identity.services import api_token_issue
from tenants.models import PLATFORM_TENANT_ID
from tenants.services import user_set_active
from tenants.tests.factories import ManagerFactory, UserFactory

TOKENS = "/api/v1/auth/tokens/"
SCIM_TOKENS = "/api/v1/integrations/scim-tokens/"


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def login(user, password, name="") -> str:
    response = APIClient().post("/api/v1/auth/token/", {"email": user.email, "password": password, "name": name})
    assert response.status_code == 200, response.content
    return response.json()["token"]


def test_a_token_is_stored_only_as_its_hash(employee, password):
    secret = login(employee, password, name="laptop")
    row = ApiToken.objects.get(user=employee)
    assert row.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert row.prefix == secret[:8] and row.name == "laptop" and row.tenant_id == employee.tenant_id
    stored = [str(v) for v in ApiToken.objects.values_list(*[f.attname for f in ApiToken._meta.fields]).get()]
    assert secret not in stored
    assert bearer(secret).get("/api/v1/recognitions/").status_code == 200
    assert bearer(row.key_hash).get("/api/v1/recognitions/").status_code == 401  # the hash is no credential


def test_each_login_issues_a_new_token_and_both_work(employee, password):
    first, second = login(employee, password), login(employee, password)
    assert first != second
    assert bearer(first).get("/api/v1/recognitions/").status_code == 200
    assert bearer(second).get("/api/v1/recognitions/").status_code == 200


def test_the_migration_hashes_existing_clear_text_tokens_and_they_keep_working(employee):
    from django.apps import apps
    from rest_framework.authtoken.models import Token

    from identity.migrations import __name__ as package

    migration = __import__(f"{package}.0002_hash_existing_api_tokens", fromlist=["hash_tokens"])
    legacy = Token.objects.create(user=employee)
    assert bearer(legacy.key).get("/api/v1/recognitions/").status_code == 401  # not yet moved

    migration.hash_tokens(apps, None)
    # and 0005 gives each its row in token_keys, as `migrate` runs them
    __import__(f"{package}.0005_token_keys", fromlist=["key_rows"]).key_rows(apps, None)

    assert not Token.objects.exists()  # no clear-text secret left
    row = ApiToken.objects.get(user=employee)
    assert row.key_hash == hashlib.sha256(legacy.key.encode()).hexdigest()
    assert row.created_at == legacy.created and row.tenant_id == employee.tenant_id
    assert bearer(legacy.key).get("/api/v1/recognitions/").status_code == 200


def test_deactivation_ends_tokens_and_sessions_and_reactivation_does_not_revive_them(employee, manager, password):
    secret = login(employee, password)
    browser = Client()
    assert browser.login(username=employee.email, password=password)
    assert browser.get("/wallet/").status_code == 200
    assert bearer(secret).get("/api/v1/recognitions/").status_code == 200

    user_set_active(user=employee, is_active=False, actor=manager)
    assert bearer(secret).get("/api/v1/recognitions/").status_code == 401
    assert browser.get("/wallet/").status_code == 302

    user_set_active(user=employee, is_active=True, actor=manager)
    assert bearer(secret).get("/api/v1/recognitions/").status_code == 401  # not revived
    response = browser.get("/wallet/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not ApiToken.objects.filter(user=employee).exists()

    # A new login after reactivation works as usual.
    assert bearer(login(employee, password)).get("/api/v1/recognitions/").status_code == 200
    assert Client().login(username=employee.email, password=password)


def test_deactivation_through_the_api_ends_the_members_token(employee, manager, password):
    secret = login(employee, password)
    response = bearer(login(manager, password)).patch(f"/api/v1/users/{employee.pk}/", {"is_active": False})
    assert response.status_code == 200, response.content
    assert bearer(secret).get("/api/v1/recognitions/").status_code == 401


def test_sessions_of_people_never_deactivated_survive_the_change(employee, password):
    browser = Client()
    assert browser.login(username=employee.email, password=password)
    employee.refresh_from_db()
    assert employee.auth_epoch == 0
    assert browser.get("/wallet/").status_code == 200


def test_a_member_lists_and_revokes_only_their_own_tokens(employee, other_employee, password):
    mine = login(employee, password, name="cli")
    theirs = login(other_employee, password)
    listed = bearer(mine).get(TOKENS)
    assert listed.status_code == 200
    results = listed.json()["results"]
    assert [(t["name"], t["user_email"], t["prefix"]) for t in results] == [("cli", employee.email, mine[:8])]
    assert mine not in listed.content.decode()
    assert "key_hash" not in results[0]

    their_id = ApiToken.objects.get(user=other_employee).pk
    assert bearer(mine).delete(f"{TOKENS}{their_id}/").status_code == 404
    assert bearer(theirs).get("/api/v1/recognitions/").status_code == 200
    assert bearer(mine).get(f"{TOKENS}?scope=tenant").status_code == 403

    assert bearer(mine).delete(f"{TOKENS}{results[0]['id']}/").status_code == 204
    assert bearer(mine).get("/api/v1/recognitions/").status_code == 401


def test_a_manager_revokes_any_token_of_the_tenant_and_none_of_another(
    manager, employee, outsider, other_tenant, password
):
    boss = login(manager, password)
    staff = login(employee, password)
    foreign = login(outsider, password)
    tenant_tokens = bearer(boss).get(f"{TOKENS}?scope=tenant").json()["results"]
    assert {t["user_email"] for t in tenant_tokens} == {manager.email, employee.email}

    staff_id = ApiToken.objects.get(user=employee).pk
    assert bearer(boss).delete(f"{TOKENS}{staff_id}/").status_code == 204
    assert bearer(staff).get("/api/v1/recognitions/").status_code == 401

    other_manager = ManagerFactory(tenant=other_tenant, email="boss@other.test")
    other_boss = login(other_manager, password)
    assert bearer(other_boss).delete(f"{TOKENS}{ApiToken.objects.get(user=manager).pk}/").status_code == 404
    assert bearer(boss).delete(f"{TOKENS}{ApiToken.objects.get(user=outsider).pk}/").status_code == 404
    assert bearer(boss).delete(f"{TOKENS}not-a-uuid/").status_code == 404
    assert bearer(foreign).get("/api/v1/recognitions/").status_code == 200
    assert bearer(boss).get("/api/v1/recognitions/").status_code == 200


def test_tokens_need_a_login():
    assert APIClient().get(TOKENS).status_code == 401


@pytest.mark.django_db
def test_scim_tokens_are_created_by_managers_shown_once_and_revoked(manager, employee, outsider, password):
    boss = bearer(login(manager, password))
    created = boss.post(SCIM_TOKENS, {"name": "Okta"}, format="json")
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"id", "name", "token"} and body["name"] == "Okta" and body["token"].startswith("scim_")
    row = ScimToken.objects.get(pk=body["id"])
    assert row.tenant_id == manager.tenant_id and row.key_hash == hashlib.sha256(body["token"].encode()).hexdigest()

    listed = boss.get(SCIM_TOKENS)
    assert listed.status_code == 200
    assert [t["name"] for t in listed.json()["results"]] == ["Okta"]
    assert body["token"] not in listed.content.decode()

    assert bearer(login(employee, password)).post(SCIM_TOKENS, {"name": "x"}).status_code == 403
    assert bearer(login(employee, password)).get(SCIM_TOKENS).status_code == 403
    other_manager = ManagerFactory(tenant=outsider.tenant, email="boss@other.test")
    other_boss = bearer(login(other_manager, password))
    assert other_boss.delete(f"{SCIM_TOKENS}{body['id']}/").status_code == 404
    assert other_boss.get(SCIM_TOKENS).json()["results"] == []
    assert boss.post(SCIM_TOKENS, {"name": "  "}, format="json").status_code == 400

    assert boss.delete(f"{SCIM_TOKENS}{body['id']}/").status_code == 204
    assert not ScimToken.objects.exists()
    assert boss.delete(f"{SCIM_TOKENS}{body['id']}/").status_code == 404


def test_a_platform_admin_creates_a_scim_token_for_a_named_tenant(platform_admin, tenant, password):
    admin = bearer(login(platform_admin, password))
    assert admin.post(SCIM_TOKENS, {"name": "Entra"}, format="json").status_code == 400
    created = admin.post(SCIM_TOKENS, {"name": "Entra", "tenant_id": str(tenant.pk)}, format="json")
    assert created.status_code == 201
    assert ScimToken.objects.get().tenant_id == tenant.pk
    assert admin.get(f"{SCIM_TOKENS}?tenant_id={tenant.pk}").json()["results"][0]["name"] == "Entra"
    assert admin.delete(f"{SCIM_TOKENS}{created.json()['id']}/").status_code == 204


def test_member_without_token_rows_is_unaffected_by_other_revocations(tenant, password):
    people = [UserFactory(tenant=tenant) for _ in range(2)]
    secrets = [api_token_issue(user=p)[1] for p in people]
    user_set_active(user=people[0], is_active=False)
    assert bearer(secrets[0]).get("/api/v1/recognitions/").status_code == 401
    assert bearer(secrets[1]).get("/api/v1/recognitions/").status_code == 200


def test_a_csv_import_that_deactivates_ends_sessions_and_tokens_for_good(manager, employee, password):
    from people.imports import members_import

    secret = login(employee, password)
    browser = Client()
    assert browser.login(username=employee.email, password=password)

    def run(text):
        result = members_import(tenant=manager.tenant, actor=manager, data=text.encode(), dry_run=False).as_dict()
        assert not result["errors"], result

    run(f"email,active\n{employee.email},false\n")
    assert bearer(secret).get("/api/v1/recognitions/").status_code == 401
    assert browser.get("/wallet/").status_code == 302
    run(f"email,active\n{employee.email},true\n")
    assert bearer(secret).get("/api/v1/recognitions/").status_code == 401
    assert browser.get("/wallet/").status_code == 302


def test_issue_api_token_prints_a_working_token_stored_only_as_its_hash(employee):
    out = io.StringIO()
    call_command("issue_api_token", employee.email.upper(), stdout=out)
    secret = out.getvalue().strip()
    assert bearer(secret).get("/api/v1/wallets/me/").status_code == 200
    [token] = ApiToken.objects.filter(user=employee)
    assert token.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {token.prefix, token.key_hash}


def test_issue_api_token_refuses_an_unknown_or_deactivated_member(employee):
    with pytest.raises(CommandError, match="No member"):
        call_command("issue_api_token", "nobody@example.test", stdout=io.StringIO())
    user_set_active(user=employee, is_active=False)
    with pytest.raises(CommandError, match="deactivated"):
        call_command("issue_api_token", employee.email, stdout=io.StringIO())
    assert not ApiToken.objects.filter(user=employee).exists()


def test_a_platform_admins_token_carries_the_platform_tenant_and_no_tenant_lists_it(platform_admin, manager, password):
    """Staff's tokens sit in the platform's own tenant (not NULL: docs/SCALING.md), which no
    manager's list of the tenant's tokens reaches; deactivation still ends them."""
    admin = login(platform_admin, password, name="console")
    boss = login(manager, password)
    row = ApiToken.objects.get(user=platform_admin)
    assert (row.tenant_id, row.tenant.pk) == (PLATFORM_TENANT_ID, PLATFORM_TENANT_ID)
    assert [t["name"] for t in bearer(admin).get(TOKENS).json()["results"]] == ["console"]
    assert {t["user_email"] for t in bearer(boss).get(f"{TOKENS}?scope=tenant").json()["results"]} == {manager.email}
    assert bearer(boss).delete(f"{TOKENS}{row.pk}/").status_code == 404
    user_set_active(user=platform_admin, is_active=False)
    assert not ApiToken.objects.filter(user=platform_admin).exists()
    assert bearer(admin).get(TOKENS).status_code == 401
    assert bearer(boss).get(TOKENS).status_code == 200
