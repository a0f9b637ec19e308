"""SCIM PATCH in full (RFC 7644 §3.5.2): `remove` of every attribute Perksu keeps, `add`/`replace`
with and without a path in the shapes Okta and Microsoft Entra send, the precise error of each
refusal, and `externalId` stored per tenant; every write scoped to the token's tenant."""

from __future__ import annotations

import uuid

import pytest

from identity.models import ScimExternalId
from identity.services import scim_token_create
from people.models import Profile, Team
from people.services import team_create
from tenants.models import User

from .test_scim import PATCH_OP, Scim, entra_user, okta_user

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


@pytest.fixture
def scim(tenant, manager):
    return Scim(scim_token_create(tenant=tenant, name="Entra", actor=manager)[1])


@pytest.fixture
def scim_b(other_tenant):
    return Scim(scim_token_create(tenant=other_tenant, name="B", actor=None)[1])


def patch(scim, user_id, *operations):
    return scim("patch", f"/Users/{user_id}", {"schemas": [PATCH_OP], "Operations": list(operations)})


@pytest.fixture
def arjun(scim, manager):
    """An Entra-provisioned member with every removable attribute set."""
    body = entra_user("arjun@triton.test")
    body[ENTERPRISE] = {"department": "Operations", "manager": {"value": str(manager.pk)}}
    created = scim("post", "/Users", body)
    assert created.status_code == 201, created.body
    return User.objects.get(pk=created.body["id"])


def test_create_keeps_external_id_department_and_manager(scim, arjun, tenant, manager):
    got = scim("get", f"/Users/{arjun.pk}").body
    assert got["externalId"] == "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"
    assert ENTERPRISE in got["schemas"]
    assert got[ENTERPRISE]["department"] == "Operations"
    assert got[ENTERPRISE]["manager"]["value"] == str(manager.pk)
    assert got[ENTERPRISE]["manager"]["displayName"] == manager.full_name
    profile = Profile.objects.select_related("team").get(user=arjun)
    assert (profile.team.tenant_id, profile.team.name, profile.manager_id) == (tenant.pk, "Operations", manager.pk)
    assert ScimExternalId.objects.get(user=arjun).tenant_id == tenant.pk


@pytest.mark.parametrize(
    ("path", "check"),
    [
        ("name.givenName", lambda u, p, body: u.full_name == "Rao" and body["name"]["familyName"] == ""),
        ("name.familyName", lambda u, p, body: u.full_name == "Arjun" and body["name"]["givenName"] == "Arjun"),
        ("name", lambda u, p, body: u.full_name == "arjun"),  # falls back to the e-mail's local part
        ("displayName", lambda u, p, body: u.full_name == "arjun"),
        ("title", lambda u, p, body: p.title == "" and "title" not in body),
        ("externalId", lambda u, p, body: "externalId" not in body and not ScimExternalId.objects.filter(user=u)),
        (f"{ENTERPRISE}:department", lambda u, p, body: p.team_id is None and "department" not in body[ENTERPRISE]),
        (f"{ENTERPRISE}:manager", lambda u, p, body: p.manager_id is None and ENTERPRISE in body),
        (ENTERPRISE, lambda u, p, body: p.team_id is None and p.manager_id is None and ENTERPRISE not in body),
        # Attributes of the schema that Perksu does not keep: removing them succeeds and changes nothing.
        ('phoneNumbers[type eq "work"].value', lambda u, p, body: u.full_name == "Arjun Rao"),
        ('addresses[type eq "work"].formatted', lambda u, p, body: u.full_name == "Arjun Rao"),
        (f"{ENTERPRISE}:employeeNumber", lambda u, p, body: u.full_name == "Arjun Rao"),
    ],
)
def test_remove_clears_the_attribute(scim, arjun, path, check):
    response = patch(scim, arjun.pk, {"op": "Remove", "path": path})
    assert response.status_code == 200, response.body
    arjun.refresh_from_db()
    profile = Profile.objects.get(user=arjun)
    assert check(arjun, profile, response.body), response.body
    assert scim("get", f"/Users/{arjun.pk}").body == response.body
    assert arjun.is_active and arjun.email == "arjun@triton.test"


@pytest.mark.parametrize(
    ("operation", "scim_type"),
    [
        ({"op": "remove"}, "noTarget"),
        ({"op": "remove", "value": {"title": ""}}, "noTarget"),
        ({"op": "remove", "path": "userName"}, "mutability"),
        ({"op": "remove", "path": "emails"}, "mutability"),
        ({"op": "remove", "path": 'emails[type eq "work"].value'}, "mutability"),
        ({"op": "remove", "path": 'emails[type eq "work"]'}, "mutability"),
        ({"op": "remove", "path": "active"}, "mutability"),
        ({"op": "remove", "path": "id"}, "mutability"),
        ({"op": "remove", "path": "groups"}, "mutability"),
        ({"op": "replace", "path": "meta.created", "value": "2020-01-01T00:00:00Z"}, "mutability"),
        ({"op": "add", "path": "groups", "value": [{"value": str(uuid.uuid4())}]}, "mutability"),
        ({"op": "replace", "path": "id", "value": str(uuid.uuid4())}, "mutability"),
        ({"op": "remove", "path": 'emails[type eq "home"].value'}, "noTarget"),
        ({"op": "replace", "path": 'emails[type eq "home"].value', "value": "x@triton.test"}, "noTarget"),
        ({"op": "remove", "path": "favouriteColour"}, "invalidPath"),
        ({"op": "replace", "path": "favouriteColour", "value": "blue"}, "invalidPath"),
        ({"op": "replace", "value": {"favouriteColour": "blue"}}, "invalidPath"),
        ({"op": "remove", "path": f"{ENTERPRISE}:shoeSize"}, "invalidPath"),
        ({"op": "remove", "path": "name..givenName"}, "invalidPath"),
        ({"op": "replace", "path": 'title[value eq "x"]', "value": "y"}, "invalidPath"),
        ({"op": "remove", "path": 'emails[type co "work"].value'}, "invalidFilter"),
        ({"op": "replace", "path": f"{ENTERPRISE}:manager", "value": str(uuid.uuid4())}, "invalidValue"),
        ({"op": "replace", "path": "userName", "value": ""}, "invalidValue"),
        ({"op": "replace", "path": "title", "value": {"a": 1}}, "invalidValue"),
    ],
)
def test_each_refusal_has_its_scim_error_and_changes_nothing(scim, arjun, operation, scim_type):
    before = scim("get", f"/Users/{arjun.pk}").body
    # A good operation first: the request is all or nothing.
    response = patch(scim, arjun.pk, {"op": "replace", "path": "title", "value": "Changed"}, operation)
    assert response.status_code == 400, response.body
    assert response.body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
    assert (response.body["status"], response.body["scimType"]) == ("400", scim_type), response.body
    assert scim("get", f"/Users/{arjun.pk}").body == before


def test_entra_add_and_replace_with_paths_and_value_filters(scim, arjun, lead, tenant):
    response = patch(
        scim,
        arjun.pk,
        {"op": "Add", "path": "name.givenName", "value": "Arjun Kumar"},
        {"op": "Replace", "path": "name.familyName", "value": "Rao-Iyer"},
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "Arjun.Rao@Triton.test"},
        {"op": "Add", "path": 'emails[type eq "home"].value', "value": "arjun@home.test"},  # not kept
        {"op": "Replace", "path": "externalId", "value": "ext-42"},
        {"op": "Add", "path": f"{ENTERPRISE}:manager", "value": str(lead.pk)},  # Entra: the bare id
        {"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "operations"},  # the same team
        {"op": "Add", "path": 'phoneNumbers[type eq "mobile"].value', "value": "+44 7700 900000"},
        {"op": "Replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:title", "value": "Lead engineer"},
    )
    assert response.status_code == 200, response.body
    arjun.refresh_from_db()
    profile = Profile.objects.get(user=arjun)
    assert (arjun.full_name, arjun.email) == ("Arjun Kumar Rao-Iyer", "arjun.rao@triton.test")
    assert (profile.manager_id, profile.title) == (lead.pk, "Lead engineer")
    assert Team.objects.filter(tenant=tenant).count() == 1 and profile.team.name == "Operations"
    assert response.body["externalId"] == "ext-42" and response.body["emails"][0]["value"] == arjun.email

    # A department no team has yet makes the team; an empty one clears it.
    patch(scim, arjun.pk, {"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "Night shift"})
    assert Profile.objects.get(user=arjun).team == Team.objects.get(tenant=tenant, name="Night shift")
    patch(scim, arjun.pk, {"op": "Replace", "path": f"{ENTERPRISE}:manager", "value": {"value": ""}})
    assert Profile.objects.get(user=arjun).manager_id is None


def test_add_and_replace_without_path(scim, arjun, manager, tenant):
    # Only the sub-attributes given change (RFC 7644 §3.5.2.3): the family name stays.
    response = patch(scim, arjun.pk, {"op": "replace", "value": {"name": {"givenName": "Arjuna"}}})
    assert response.status_code == 200 and response.body["displayName"] == "Arjuna Rao"
    # Entra's flattened keys, the enterprise extension as an object, and `id` equal to the resource's own.
    response = patch(
        scim,
        arjun.pk,
        {
            "op": "Add",
            "value": {
                "id": str(arjun.pk),
                "name.familyName": "Rao-Iyer",
                "title": "Shift lead",
                "externalId": "ext-7",
                f"{ENTERPRISE}:department": "Maintenance",
                ENTERPRISE: {"manager": {"value": str(manager.pk)}},
                "locale": "en-GB",
            },
        },
    )
    assert response.status_code == 200, response.body
    profile = Profile.objects.select_related("team", "user").get(user=arjun)
    assert (profile.user.full_name, profile.title, profile.team.name, profile.manager_id) == (
        "Arjuna Rao-Iyer",
        "Shift lead",
        "Maintenance",
        manager.pk,
    )
    assert scim("get", '/Users?filter=externalId eq "ext-7"').body["Resources"][0]["id"] == str(arjun.pk)
    # A reporting loop is refused with the services' own check, as is being one's own manager.
    for user, new_manager in ((manager, arjun), (arjun, arjun)):
        refused = patch(scim, user.pk, {"op": "replace", "path": f"{ENTERPRISE}:manager", "value": str(new_manager.pk)})
        assert refused.status_code == 400 and refused.body["scimType"] == "invalidValue", refused.body
    assert Profile.objects.get(user=manager).manager_id is None


def test_okta_put_replaces_and_clears_what_it_leaves_out(scim, arjun):
    body = okta_user("arjun@triton.test")
    body.pop("externalId")
    response = scim("put", f"/Users/{arjun.pk}", body)
    assert response.status_code == 200, response.body
    assert "externalId" not in response.body and "title" not in response.body
    # Without the enterprise extension in the body, the team and manager set so far stay.
    assert response.body[ENTERPRISE]["department"] == "Operations"
    body[ENTERPRISE] = {"department": ""}
    response = scim("put", f"/Users/{arjun.pk}", {**body, "externalId": "00u-okta"})
    assert response.body["externalId"] == "00u-okta" and ENTERPRISE not in response.body


def test_external_id_is_stored_filtered_and_unique_per_tenant(scim, scim_b, tenant, other_tenant):
    created = scim("post", "/Users", {**okta_user("priya@triton.test"), "externalId": "00uABC"})
    assert created.status_code == 201 and created.body["externalId"] == "00uABC"
    user_id = created.body["id"]
    assert ScimExternalId.objects.get(external_id="00uABC").tenant_id == tenant.pk

    found = scim("get", '/Users?filter=externalId eq "00uABC"')
    assert [r["id"] for r in found.body["Resources"]] == [user_id]
    assert scim("get", '/Users?filter=externalId eq "00uabc"').body["totalResults"] == 0  # caseExact

    duplicate = scim("post", "/Users", {**okta_user("other@triton.test"), "externalId": "00uABC"})
    assert duplicate.status_code == 409 and duplicate.body["scimType"] == "uniqueness"
    assert not User.objects.filter(email="other@triton.test").exists()  # nothing half-made
    second = scim("post", "/Users", {**okta_user("second@triton.test"), "externalId": "00uXYZ"})
    taken = patch(scim, second.body["id"], {"op": "replace", "path": "externalId", "value": "00uABC"})
    assert taken.status_code == 409 and taken.body["scimType"] == "uniqueness"

    # Another tenant may use the same externalId for its own member, and never sees tenant A's.
    assert scim_b("get", '/Users?filter=externalId eq "00uABC"').body["totalResults"] == 0
    theirs = scim_b("post", "/Users", {**okta_user("priya@other.test"), "externalId": "00uABC"})
    assert theirs.status_code == 201, theirs.body
    assert [r["id"] for r in scim_b("get", '/Users?filter=externalId eq "00uABC"').body["Resources"]] == [
        theirs.body["id"]
    ]
    assert [r["id"] for r in scim("get", '/Users?filter=externalId eq "00uABC"').body["Resources"]] == [user_id]
    assert set(ScimExternalId.objects.values_list("tenant_id", flat=True)) == {tenant.pk, other_tenant.pk}


def test_cross_tenant_patch_remove_and_references_stay_in_the_tenant(scim, scim_b, arjun, tenant, outsider):
    team = Profile.objects.get(user=arjun).team
    random_id = str(uuid.uuid4())
    for operation in [
        {"op": "remove", "path": "title"},
        {"op": "remove", "path": "externalId"},
        {"op": "remove", "path": "name.givenName"},
        {"op": "remove", "path": f"{ENTERPRISE}:manager"},
        {"op": "remove", "path": f"{ENTERPRISE}:department"},
        {"op": "replace", "path": "externalId", "value": "stolen"},
        {"op": "add", "value": {ENTERPRISE: {"department": "B team"}}},
    ]:
        foreign = patch(scim_b, arjun.pk, operation)
        missing = patch(scim_b, random_id, operation)
        assert foreign.status_code == missing.status_code == 404, operation
        assert foreign.body["detail"].replace(str(arjun.pk), "") == missing.body["detail"].replace(random_id, "")
    assert (
        scim_b("get", f'/Users?filter=externalId eq "{ScimExternalId.objects.get(user=arjun).external_id}"').body[
            "totalResults"
        ]
        == 0
    )

    # B's writes cannot point at A's rows: A's member as a manager is unknown, A's team name makes B's own team.
    b_user = scim_b("post", "/Users", okta_user("bob@other.test")).body["id"]
    as_manager = patch(scim_b, b_user, {"op": "add", "path": f"{ENTERPRISE}:manager", "value": str(arjun.pk)})
    unknown = patch(scim_b, b_user, {"op": "add", "path": f"{ENTERPRISE}:manager", "value": random_id})
    assert as_manager.status_code == unknown.status_code == 400
    assert as_manager.body["detail"].replace(str(arjun.pk), "") == unknown.body["detail"].replace(random_id, "")
    same_name = patch(scim_b, b_user, {"op": "add", "path": f"{ENTERPRISE}:department", "value": team.name})
    assert same_name.status_code == 200
    b_team = Profile.objects.get(user_id=b_user).team
    assert b_team.pk != team.pk and b_team.tenant_id == outsider.tenant_id
    # And A's token cannot reach B's member either.
    assert patch(scim, b_user, {"op": "remove", "path": "title"}).status_code == 404

    arjun.refresh_from_db()
    profile = Profile.objects.get(user=arjun)
    assert (arjun.full_name, profile.title, profile.team_id) == ("Arjun Rao", "Plant engineer", team.pk)
    assert ScimExternalId.objects.get(user=arjun).external_id == "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"
    assert Team.objects.filter(tenant=tenant).count() == 1


def test_team_create_is_not_needed_for_an_existing_department(scim, tenant, manager):
    existing = team_create(tenant=tenant, name="Finance")
    created = scim("post", "/Users", {**okta_user("f@triton.test"), ENTERPRISE: {"department": "FINANCE"}})
    assert created.status_code == 201 and created.body[ENTERPRISE]["department"] == "Finance"
    assert Profile.objects.get(user_id=created.body["id"]).team_id == existing.pk


def test_scim_provisioning_records_user_created_and_deactivated_once_each(scim, tenant):
    """SPEC §12: the people SCIM adds and removes reach the outbox like any others, in their own transaction."""
    from events import event_types as E
    from events.models import Event

    Event.objects.all().delete()
    created = scim("post", "/Users", entra_user("nadia@triton.test"))
    user_id = created.body["id"]
    patch(scim, user_id, {"op": "Replace", "path": "active", "value": "False"})
    patch(scim, user_id, {"op": "Replace", "path": "active", "value": "False"})  # already off: nothing new
    assert scim("delete", f"/Users/{user_id}").status_code == 204  # already off: nothing new
    events = list(Event.objects.filter(tenant_id=tenant.pk).order_by("created_at").values_list("name", "payload"))
    assert [name for name, _ in events] == [E.USER_CREATED, E.USER_DEACTIVATED]
    assert all(payload["user"]["id"] == user_id for _, payload in events)
    # A create refused half-way (a taken externalId) leaves no event behind.
    refused = scim("post", "/Users", {**okta_user("late@triton.test"), "externalId": entra_user("x")["externalId"]})
    assert refused.status_code == 409
    assert Event.objects.filter(tenant_id=tenant.pk).count() == 2
