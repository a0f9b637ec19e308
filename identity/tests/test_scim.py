"""SCIM 2.0 as Okta and Microsoft Entra call it: the request sequences they send, the errors, and
the cross-tenant matrix (a token of tenant A never reads or writes tenant B)."""

from __future__ import annotations

import json
import uuid

import pytest
from django.test import Client
from rest_framework.test import APIClient

from identity.services import api_token_issue, scim_token_create
from people.models import Profile, Team
from people.services import team_create
from tenants.models import Role, User

BASE = "/scim/v2"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


class Scim:
    def __init__(self, secret: str) -> None:
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

    def __call__(self, method: str, path: str, body: dict | None = None):
        kwargs = {}
        if body is not None:
            kwargs = {"data": json.dumps(body), "content_type": "application/scim+json"}
        response = getattr(self.client, method)(f"{BASE}{path}", **kwargs)
        response.body = json.loads(response.content) if response.content else None
        return response


@pytest.fixture
def scim(tenant, manager):
    return Scim(scim_token_create(tenant=tenant, name="Okta", actor=manager)[1])


@pytest.fixture
def scim_b(other_tenant):
    return Scim(scim_token_create(tenant=other_tenant, name="B", actor=None)[1])


def okta_user(email: str, active: bool = True) -> dict:
    """The body Okta posts to create a user (Okta's SCIM 2.0 reference)."""
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": email,
        "name": {"givenName": "Priya", "familyName": "Sharma"},
        "emails": [{"primary": True, "value": email, "type": "work"}],
        "displayName": "Priya Sharma",
        "locale": "en-US",
        "externalId": "00u1abcdEFGH",
        "groups": [],
        "password": "ignored-1234",
        "active": active,
    }


def entra_user(email: str) -> dict:
    """The body Microsoft Entra posts (its SCIM validator's sample, with the enterprise extension)."""
    return {
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        ],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": email,
        "active": True,
        "displayName": "Arjun Rao",
        "title": "Plant engineer",
        "emails": [{"primary": True, "type": "work", "value": email}],
        "name": {"formatted": "Arjun Rao", "familyName": "Rao", "givenName": "Arjun"},
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Operations"},
        "roles": [],
    }


def test_the_okta_sequence_create_lookup_deactivate_reactivate(scim, tenant, password):
    email = "priya@triton.test"
    lookup = scim("get", f"/Users?filter=userName%20eq%20%22{email}%22&startIndex=1&count=100")
    assert lookup.status_code == 200
    assert lookup["Content-Type"] == "application/scim+json"
    assert lookup.body["totalResults"] == 0 and lookup.body["Resources"] == []

    created = scim("post", "/Users", okta_user(email))
    assert created.status_code == 201, created.body
    user_id = created.body["id"]
    assert created["Location"].endswith(f"/scim/v2/Users/{user_id}")
    assert created.body["userName"] == email and created.body["active"] is True
    assert created.body["name"]["givenName"] == "Priya" and created.body["name"]["familyName"] == "Sharma"
    user = User.objects.get(pk=user_id)
    assert (user.tenant_id, user.role, user.full_name, user.has_usable_password()) == (
        tenant.pk,
        Role.EMPLOYEE,
        "Priya Sharma",
        False,
    )
    assert user.wallets.exists() and Profile.objects.filter(user=user).exists()

    found = scim("get", f'/Users?filter=userName eq "{email.upper()}"')
    assert [r["id"] for r in found.body["Resources"]] == [user_id]
    assert scim("get", f"/Users/{user_id}").body["userName"] == email

    # A token in use and a browser session, to see deactivation end them.
    secret = api_token_issue(user=user)[1]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert api.get("/api/v1/recognitions/").status_code == 200

    deactivate = {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": False}}]}
    patched = scim("patch", f"/Users/{user_id}", deactivate)
    assert patched.status_code == 200 and patched.body["active"] is False
    user.refresh_from_db()
    assert not user.is_active and user.profile.deactivated_at is not None
    assert api.get("/api/v1/recognitions/").status_code == 401

    reactivate = {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": True}}]}
    assert scim("patch", f"/Users/{user_id}", reactivate).body["active"] is True
    user.refresh_from_db()
    assert user.is_active and user.profile.deactivated_at is None
    assert api.get("/api/v1/recognitions/").status_code == 401  # the old token stays revoked

    # Okta's profile push is a PUT of the whole user.
    replaced = scim(
        "put", f"/Users/{user_id}", {**okta_user(email), "name": {"givenName": "Priya", "familyName": "Nair"}}
    )
    assert replaced.status_code == 200 and replaced.body["displayName"] == "Priya Nair"
    assert User.objects.get(pk=user_id).full_name == "Priya Nair"


def test_the_entra_sequence_with_its_op_and_value_shapes(scim, tenant):
    email = "arjun@triton.test"
    probe = scim("get", '/Users?filter=userName eq "non-existent-user@triton.test"')
    assert probe.status_code == 200 and probe.body["totalResults"] == 0

    created = scim("post", "/Users", entra_user(email))
    assert created.status_code == 201, created.body
    user_id = created.body["id"]
    assert created.body["title"] == "Plant engineer"

    assert scim("get", f'/Users?filter=userName eq "{email}"').body["totalResults"] == 1

    # Entra capitalises the op and sends the boolean as a string.
    update = {
        "schemas": [PATCH_OP],
        "Operations": [
            {"op": "Replace", "path": "displayName", "value": "Arjun K. Rao"},
            {"op": "Add", "path": "title", "value": "Shift lead"},
            {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "arjun.rao@triton.test"},
        ],
    }
    updated = scim("patch", f"/Users/{user_id}", update)
    assert updated.status_code == 200, updated.body
    assert (updated.body["displayName"], updated.body["title"], updated.body["userName"]) == (
        "Arjun K. Rao",
        "Shift lead",
        "arjun.rao@triton.test",
    )

    off = {"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": "False"}]}
    assert scim("patch", f"/Users/{user_id}", off).body["active"] is False
    assert not User.objects.get(pk=user_id).is_active
    on = {"schemas": [PATCH_OP], "Operations": [{"op": "Replace", "path": "active", "value": "True"}]}
    assert scim("patch", f"/Users/{user_id}", on).body["active"] is True

    # Entra's hard delete: Perksu deactivates and keeps the history.
    assert scim("delete", f"/Users/{user_id}").status_code == 204
    assert not User.objects.get(pk=user_id).is_active


def test_errors_come_in_scims_format_with_the_right_status(scim, employee, outsider):
    duplicate = scim("post", "/Users", okta_user(employee.email))
    assert duplicate.status_code == 409
    assert duplicate.body == {
        "schemas": [ERROR],
        "status": "409",
        "scimType": "uniqueness",
        "detail": f"A user with userName {employee.email} already exists.",
    }
    assert scim("post", "/Users", okta_user(outsider.email)).status_code == 409  # e-mails are unique everywhere

    missing = scim("get", f"/Users/{uuid.uuid4()}")
    assert missing.status_code == 404 and missing.body["schemas"] == [ERROR] and missing.body["status"] == "404"
    assert scim("get", "/Users/not-a-uuid").status_code == 404

    bad_filter = scim("get", '/Users?filter=userName co "a"')
    assert bad_filter.status_code == 400 and bad_filter.body["scimType"] == "invalidFilter"
    assert scim("post", "/Users", {"name": {"givenName": "No"}}).body["scimType"] == "invalidValue"
    bad_active = {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": "maybe"}]}
    assert scim("patch", f"/Users/{employee.pk}", bad_active).status_code == 400
    assert User.objects.get(pk=employee.pk).is_active
    assert scim("patch", f"/Users/{employee.pk}", {"Operations": [{"op": "move"}]}).status_code == 400

    anonymous = Client().get(f"{BASE}/Users")
    assert anonymous.status_code == 401 and json.loads(anonymous.content)["schemas"] == [ERROR]
    assert Client(HTTP_AUTHORIZATION="Bearer scim_nope").get(f"{BASE}/Users").status_code == 401
    api_secret = api_token_issue(user=employee)[1]  # a person's API token is no SCIM credential
    assert Client(HTTP_AUTHORIZATION=f"Bearer {api_secret}").get(f"{BASE}/Users").status_code == 401


def test_a_revoked_scim_token_stops_at_once(tenant, manager):
    from identity.services import scim_token_revoke

    token, secret = scim_token_create(tenant=tenant, name="Okta", actor=manager)
    assert Scim(secret)("get", "/Users").status_code == 200
    scim_token_revoke(tenant_id=tenant.pk, token_id=token.pk)
    assert Scim(secret)("get", "/Users").status_code == 401


def test_listing_pages_with_start_index_and_count(scim, tenant, manager, employee, other_employee):
    everyone = scim("get", "/Users")
    assert everyone.body["totalResults"] == 3
    first = scim("get", "/Users?startIndex=1&count=2")
    second = scim("get", "/Users?startIndex=3&count=2")
    assert (first.body["itemsPerPage"], second.body["itemsPerPage"], second.body["startIndex"]) == (2, 1, 3)
    ids = [r["id"] for r in first.body["Resources"] + second.body["Resources"]]
    assert sorted(ids) == sorted(str(u.pk) for u in (manager, employee, other_employee))
    assert scim("get", "/Users?count=0").body["Resources"] == []


def test_discovery_endpoints(scim):
    config = scim("get", "/ServiceProviderConfig")
    assert config.status_code == 200 and config.body["patch"]["supported"] is True
    assert config.body["filter"]["supported"] is True and config.body["bulk"]["supported"] is False
    types = scim("get", "/ResourceTypes").body
    assert {r["id"]: r["endpoint"] for r in types["Resources"]} == {"User": "/Users", "Group": "/Groups"}
    assert scim("get", "/ResourceTypes/User").body["schema"] == "urn:ietf:params:scim:schemas:core:2.0:User"
    schemas = scim("get", "/Schemas").body
    assert {s["name"] for s in schemas["Resources"]} == {"User", "EnterpriseUser", "Group"}
    assert scim("get", "/ResourceTypes/User").body["schemaExtensions"] == [
        {"schema": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "required": False}
    ]
    assert scim("get", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group").body["name"] == "Group"
    assert scim("get", "/Nope").status_code == 404


def test_groups_are_teams_in_okta_and_entra_shapes(scim, tenant, employee, other_employee):
    created = scim(
        "post",
        "/Groups",
        {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Plant Ops",
            "members": [{"value": str(employee.pk)}],
        },
    )
    assert created.status_code == 201, created.body
    group_id = created.body["id"]
    team = Team.objects.get(pk=group_id)
    assert team.tenant_id == tenant.pk and team.name == "Plant Ops"
    assert [m["value"] for m in created.body["members"]] == [str(employee.pk)]

    assert scim("get", '/Groups?filter=displayName eq "Plant Ops"').body["totalResults"] == 1
    no_members = scim("get", f"/Groups/{group_id}?excludedAttributes=members").body
    assert "members" not in no_members

    # Entra adds a member and renames.
    entra = {
        "schemas": [PATCH_OP],
        "Operations": [
            {"op": "Add", "path": "members", "value": [{"value": str(other_employee.pk)}]},
            {"op": "Replace", "path": "displayName", "value": "Plant Operations"},
        ],
    }
    assert scim("patch", f"/Groups/{group_id}", entra).status_code == 200
    team.refresh_from_db()
    assert team.name == "Plant Operations"
    assert set(Profile.objects.filter(team=team).values_list("user_id", flat=True)) == {employee.pk, other_employee.pk}

    # Okta removes one member by path filter.
    okta = {"schemas": [PATCH_OP], "Operations": [{"op": "remove", "path": f'members[value eq "{employee.pk}"]'}]}
    assert scim("patch", f"/Groups/{group_id}", okta).status_code == 200
    assert list(Profile.objects.filter(team=team).values_list("user_id", flat=True)) == [other_employee.pk]

    # Okta's group push replaces the whole group.
    put = scim(
        "put", f"/Groups/{group_id}", {"displayName": "Plant Operations", "members": [{"value": str(employee.pk)}]}
    )
    assert [m["value"] for m in put.body["members"]] == [str(employee.pk)]

    duplicate = scim("post", "/Groups", {"displayName": "Plant Operations"})
    assert duplicate.status_code == 409 and duplicate.body["scimType"] == "uniqueness"

    assert scim("delete", f"/Groups/{group_id}").status_code == 204
    assert not Team.objects.filter(pk=group_id).exists()
    assert User.objects.filter(pk=employee.pk, is_active=True).exists()


def test_cross_tenant_a_scim_token_of_b_never_reads_or_writes_a(scim_b, tenant, employee, manager):
    team = team_create(tenant=tenant, name="Alpha team")
    random_id = str(uuid.uuid4())
    deactivate = {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"active": False}}]}
    for method, path, body in [
        ("get", "/Users/{user}", None),
        ("put", "/Users/{user}", okta_user("hijack@other.test")),
        ("patch", "/Users/{user}", deactivate),
        ("delete", "/Users/{user}", None),
        ("get", "/Groups/{team}", None),
        ("put", "/Groups/{team}", {"displayName": "Hijacked", "members": []}),
        ("patch", "/Groups/{team}", {"Operations": [{"op": "replace", "path": "displayName", "value": "X"}]}),
        ("delete", "/Groups/{team}", None),
    ]:
        foreign = scim_b(method, path.format(user=employee.pk, team=team.pk), body)
        missing = scim_b(method, path.format(user=random_id, team=random_id), body)
        assert foreign.status_code == missing.status_code == 404, (method, path)
        assert foreign.body["detail"].replace(str(employee.pk), "").replace(str(team.pk), "") == missing.body[
            "detail"
        ].replace(random_id, "")

    assert scim_b("get", "/Users").body["totalResults"] == 0
    assert scim_b("get", f'/Users?filter=userName eq "{employee.email}"').body["totalResults"] == 0
    assert scim_b("get", f'/Users?filter=id eq "{employee.pk}"').body["totalResults"] == 0
    assert scim_b("get", '/Groups?filter=displayName eq "Alpha team"').body["totalResults"] == 0
    # B cannot pull A's member into its own group.
    pulled = scim_b("post", "/Groups", {"displayName": "B team", "members": [{"value": str(employee.pk)}]})
    assert pulled.status_code == 400
    assert not Team.objects.filter(name="B team").exists()

    employee.refresh_from_db()
    team.refresh_from_db()
    assert employee.is_active and employee.email == "employee@triton.test" and team.name == "Alpha team"
    assert Profile.objects.get(user=employee).team_id is None
