"""A token's hash is unique across tenants through `token_keys`, not unique indexes on the token
tables (docs/SCALING.md): written and deleted with the token, and the start of every token read."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

import identity.services
from identity.models import ApiToken, ScimToken, TokenKey
from identity.services import (
    api_token_authenticate,
    api_token_issue,
    api_token_revoke,
    scim_token_authenticate,
    scim_token_create,
    scim_token_revoke,
)
from identity.tokens import hash_secret
from perksu.testing import run_together
from tenants.models import PLATFORM_TENANT_ID
from tenants.services import user_set_active
from tenants.tests.factories import UserFactory


def key_rows() -> set[tuple[str, str, str]]:
    return {(h, str(t), str(k)) for h, t, k in TokenKey.objects.values_list("key_hash", "tenant_id", "token_id")}


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def test_each_token_holds_its_hash(employee, platform_admin, tenant, manager):
    api, api_secret = api_token_issue(user=employee)
    staff, staff_secret = api_token_issue(user=platform_admin)
    scim, scim_secret = scim_token_create(tenant=tenant, name="Okta", actor=manager)
    assert staff.tenant_id == PLATFORM_TENANT_ID
    assert key_rows() == {
        (hash_secret(api_secret), str(tenant.pk), str(api.pk)),
        (hash_secret(staff_secret), str(PLATFORM_TENANT_ID), str(staff.pk)),
        (hash_secret(scim_secret), str(tenant.pk), str(scim.pk)),
    }
    assert bearer(api_secret).get("/api/v1/recognitions/").status_code == 200
    assert bearer(staff_secret).get("/api/v1/tenants/").status_code == 200
    assert scim_token_authenticate(scim_secret).pk == scim.pk


def test_the_token_read_is_one_statement_from_token_keys(employee):
    token, secret = api_token_issue(user=employee)
    api_token_authenticate(secret)  # the first use writes last_used_at
    with CaptureQueriesContext(connection) as queries:
        found = api_token_authenticate(secret)
    assert (found.pk, found.user.pk, found.user.tenant_id) == (token.pk, employee.pk, employee.tenant_id)
    [statement] = [q["sql"] for q in queries.captured_queries]
    assert "token_keys" in statement and "JOIN" in statement


def test_the_scim_token_read_is_one_statement_from_token_keys(tenant, manager):
    token, secret = scim_token_create(tenant=tenant, name="Okta", actor=manager)
    scim_token_authenticate(secret)
    with CaptureQueriesContext(connection) as queries:
        found = scim_token_authenticate(secret)
    assert (found.pk, found.tenant.slug) == (token.pk, "triton-energy")
    [statement] = [q["sql"] for q in queries.captured_queries]
    assert "token_keys" in statement


def test_a_key_row_naming_another_tenant_finds_no_token(employee, outsider, tenant, manager):
    _, api_secret = api_token_issue(user=employee)
    _, scim_secret = scim_token_create(tenant=tenant, name="Okta", actor=manager)
    TokenKey.objects.update(tenant_id=outsider.tenant_id)
    assert api_token_authenticate(api_secret) is None
    assert scim_token_authenticate(scim_secret) is None
    assert bearer(api_secret).get("/api/v1/recognitions/").status_code == 401


def test_a_duplicate_hash_is_refused_and_writes_nothing(employee, other_employee, tenant, manager, monkeypatch):
    monkeypatch.setattr(identity.services, "new_secret", lambda scheme="": f"{scheme}same-secret")
    api_token_issue(user=employee)
    scim_token_create(tenant=tenant, name="Okta", actor=manager)
    before = (key_rows(), ApiToken.objects.count(), ScimToken.objects.count())
    with pytest.raises(IntegrityError):
        api_token_issue(user=other_employee)
    with pytest.raises(IntegrityError):
        scim_token_create(tenant=tenant, name="Entra", actor=manager)
    assert (key_rows(), ApiToken.objects.count(), ScimToken.objects.count()) == before


def test_revoking_expiring_and_deactivating_delete_the_keys(employee, manager, tenant):
    kept, _ = api_token_issue(user=manager)
    revoked, _ = api_token_issue(user=employee)
    api_token_revoke(actor=employee, token_id=revoked.pk)
    expired, _ = api_token_issue(user=employee)
    ApiToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    fresh, _ = api_token_issue(user=employee)  # removes the user's expired tokens on the way
    scim, _ = scim_token_create(tenant=tenant, name="Okta", actor=manager)
    assert set(TokenKey.objects.values_list("token_id", flat=True)) == {kept.pk, fresh.pk, scim.pk}
    user_set_active(user=employee, is_active=False, actor=manager)
    scim_token_revoke(tenant_id=tenant.pk, token_id=scim.pk)
    assert list(TokenKey.objects.values_list("token_id", flat=True)) == [kept.pk]
    assert list(ApiToken.objects.values_list("pk", flat=True)) == [kept.pk]


def test_the_migration_gives_every_token_its_key(employee, platform_admin, tenant, manager):
    from django.apps import apps

    api, api_secret = api_token_issue(user=employee)
    staff, staff_secret = api_token_issue(user=platform_admin)
    scim, scim_secret = scim_token_create(tenant=tenant, name="Okta", actor=manager)
    TokenKey.objects.all().delete()
    importlib.import_module("identity.migrations.0005_token_keys").key_rows(apps, None)
    assert key_rows() == {
        (hash_secret(api_secret), str(tenant.pk), str(api.pk)),
        (hash_secret(staff_secret), str(PLATFORM_TENANT_ID), str(staff.pk)),
        (hash_secret(scim_secret), str(tenant.pk), str(scim.pk)),
    }
    assert bearer(staff_secret).get("/api/v1/tenants/").status_code == 200
    assert bearer(api_secret).get("/api/v1/recognitions/").status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_issues_of_one_secret_exactly_one_wins(monkeypatch):
    people = [UserFactory() for _ in range(4)]
    monkeypatch.setattr(identity.services, "new_secret", lambda scheme="": "the-same-secret")
    results = run_together(4, lambda i: api_token_issue(user=people[i])[0])
    won = [r for r in results if isinstance(r, ApiToken)]
    assert len(won) == 1, results
    assert all(isinstance(r, IntegrityError) for r in results if r is not won[0]), results
    assert list(ApiToken.objects.values_list("pk", flat=True)) == [won[0].pk]
    assert key_rows() == {(hash_secret("the-same-secret"), str(won[0].tenant_id), str(won[0].pk))}


def test_every_join_of_the_token_read_names_the_tenant(db):
    """On Citus a join between distributed tables by id alone needs repartitioning, which it refuses."""
    import re

    from identity.services import _TokenWithUser

    sql = _TokenWithUser.on("default").sql
    conditions = re.findall(r"\bON\s+(.+?)(?=\bJOIN\b|\bWHERE\b|$)", sql)
    assert len(conditions) == 2, sql
    for condition in conditions:
        assert "tenant_id" in condition and " AND " in condition, (condition, sql)
