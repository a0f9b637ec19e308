"""A signed-in page request reads its user by (tenant_id, id), not by id alone (perksu/middleware.py).

Django hands an authentication backend the session's user id only; on a cluster distributed by tenant,
`users WHERE id = …` goes to every shard on every page. The user's tenant is kept in the session at
login, and the session's user is read with it."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from perksu.middleware import SESSION_TENANT_KEY

pytestmark = pytest.mark.django_db

PAGE = "/manage/settings/"


def _user_reads(client) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(PAGE)
    reads = [q["sql"] for q in ctx.captured_queries if re.match(r'SELECT .* FROM "users"', q["sql"])]
    return response.status_code, reads


def _signed_in(user, password: str) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": user.email, "password": password})
    assert response.status_code == 302, response.content[:500]
    return client


def test_login_keeps_the_tenant_and_the_session_user_is_read_by_it(manager, password):
    client = _signed_in(manager, password)
    assert client.session[SESSION_TENANT_KEY] == str(manager.tenant_id)
    status, reads = _user_reads(client)
    assert status == 200
    assert len(reads) == 1, reads
    where = reads[0].split(" WHERE ", 1)[1]
    assert '"users"."tenant_id" = ' in where and '"users"."id" = ' in where, reads[0]


def test_platform_staff_sessions_name_the_platform_tenant(platform_admin, password):
    client = _signed_in(platform_admin, password)
    assert client.session[SESSION_TENANT_KEY] == str(platform_admin.tenant_id)
    assert client.get("/admin/").status_code == 200


def test_a_session_from_before_the_tenant_was_kept_still_signs_in(manager, password):
    client = _signed_in(manager, password)
    session = client.session
    del session[SESSION_TENANT_KEY]
    session.save()
    status, reads = _user_reads(client)
    assert status == 200
    assert len(reads) == 1 and '"users"."tenant_id" = ' not in reads[0].split(" WHERE ", 1)[1]


def test_a_session_naming_another_tenant_is_signed_out(manager, other_tenant, password):
    client = _signed_in(manager, password)
    for wrong in (str(other_tenant.pk), "not-a-uuid"):
        session = client.session
        session[SESSION_TENANT_KEY] = wrong
        session.save()
        response = client.get(PAGE)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], wrong
