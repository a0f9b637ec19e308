"""`/api/v1/tenants/` and `/api/v1/users/` (SPEC §6): figures, refusals, bad inputs and query counts."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from points.models import LeadBudget
from tenants.models import Role, Tenant, User
from tenants.tests.factories import PASSWORD, TenantFactory, UserFactory
from wallets.models import Wallet

TENANTS = "/api/v1/tenants/"
USERS = "/api/v1/users/"


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def tenant_body(tenant: Tenant) -> dict:
    tenant.refresh_from_db()
    return {
        "id": str(tenant.pk),
        "name": tenant.name,
        "slug": tenant.slug,
        "status": tenant.status,
        "currency": tenant.currency,
        "currency_label": tenant.currency_label,
        "point_value": "1.0000",
        "points_allocation_balance": tenant.points_allocation_balance,
        "low_balance_threshold": tenant.low_balance_threshold,
        "max_award_points": tenant.max_award_points,
        "created_at": tenant.created_at.isoformat().replace("+00:00", "Z"),
    }


# --- tenants ---------------------------------------------------------------------------------------------------------


def test_platform_lists_tenants_with_their_pool(platform_admin, funded_tenant, other_tenant):
    response = client_for(platform_admin).get(TENANTS)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert body["results"] == [tenant_body(other_tenant), tenant_body(funded_tenant)]  # ordered by name
    assert body["results"][1]["points_allocation_balance"] == 50_000


def test_tenant_list_filters_by_status_and_slug(platform_admin, tenant, other_tenant):
    Tenant.objects.filter(pk=other_tenant.pk).update(status="SUSPENDED")
    client = client_for(platform_admin)
    assert [t["slug"] for t in client.get(TENANTS, {"status": "SUSPENDED"}).json()["results"]] == ["other-corp"]
    assert [t["slug"] for t in client.get(TENANTS, {"slug": "TRITON-ENERGY"}).json()["results"]] == ["triton-energy"]
    assert client.get(TENANTS, {"status": "nope"}).status_code == 400


def test_platform_creates_a_tenant_with_defaults(platform_admin):
    response = client_for(platform_admin).post(TENANTS, {"name": "Nova Labs", "slug": "nova-labs", "currency": "usd"})
    assert response.status_code == 201, response.json()
    tenant = Tenant.objects.get(slug="nova-labs")
    assert response.json() == tenant_body(tenant)
    assert (tenant.currency, tenant.currency_label, tenant.points_allocation_balance, tenant.status) == (
        "USD",
        "Points",
        0,
        "ACTIVE",
    )


def test_platform_creates_a_tenant_with_a_currency_label(platform_admin):
    response = client_for(platform_admin).post(
        TENANTS, {"name": "Kudo Co", "slug": "kudo", "currency": "INR", "currency_label": "Stars"}
    )
    assert response.status_code == 201
    assert response.json()["currency_label"] == "Stars"


def test_a_duplicate_slug_is_refused(platform_admin, tenant):
    response = client_for(platform_admin).post(TENANTS, {"name": "Again", "slug": "triton-energy", "currency": "INR"})
    assert response.status_code == 400
    assert response.json() == {"detail": "A tenant with slug 'triton-energy' already exists.", "code": "duplicate_slug"}
    assert Tenant.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"slug": "x", "currency": "INR"}, "name"),
        ({"name": "X", "currency": "INR"}, "slug"),
        ({"name": "X", "slug": "not a slug", "currency": "INR"}, "slug"),
        ({"name": "X", "slug": "x", "currency": "RUPEES"}, "currency"),
        ({"name": "X", "slug": "x", "currency": 356}, "currency"),
        (
            {"name": "X", "slug": "x", "currency": "INR", "points_allocation_balance": 1_000_000},
            "points_allocation_balance",
        ),
        ({"name": "X", "slug": "x", "currency": "INR", "low_balance_threshold": -1}, "low_balance_threshold"),
        ({"name": None, "slug": "x", "currency": "INR"}, "name"),
    ],
)
def test_bad_tenant_inputs_are_field_errors(platform_admin, body, field):
    response = client_for(platform_admin).post(TENANTS, body)
    assert response.status_code == 400
    assert field in response.json()
    assert Tenant.objects.count() == 0


def test_platform_suspends_and_reactivates_a_tenant(platform_admin, funded_tenant):
    client = client_for(platform_admin)
    url = f"{TENANTS}{funded_tenant.pk}/"
    response = client.patch(url, {"status": "SUSPENDED"})
    assert response.status_code == 200
    assert response.json()["status"] == "SUSPENDED"
    assert response.json()["points_allocation_balance"] == 50_000
    assert Tenant.objects.get(pk=funded_tenant.pk).status == "SUSPENDED"
    assert client.patch(url, {"status": "ACTIVE"}).json()["status"] == "ACTIVE"
    assert Tenant.objects.get(pk=funded_tenant.pk).status == "ACTIVE"


@pytest.mark.parametrize(
    "body",
    [
        {"points_allocation_balance": 0},
        {"status": "SUSPENDED", "points_allocation_balance": 0},
        {"status": "CLOSED"},
        {"status": None},
        {},
    ],
)
def test_the_pool_cannot_be_written_through_the_tenant_resource(platform_admin, funded_tenant, body):
    response = client_for(platform_admin).patch(f"{TENANTS}{funded_tenant.pk}/", body)
    assert response.status_code == 400
    funded_tenant.refresh_from_db()
    assert (funded_tenant.points_allocation_balance, funded_tenant.status) == (50_000, "ACTIVE")


def test_put_and_delete_are_not_offered(platform_admin, tenant):
    client = client_for(platform_admin)
    assert client.put(f"{TENANTS}{tenant.pk}/", {"status": "ACTIVE"}).status_code == 405
    assert client.delete(f"{TENANTS}{tenant.pk}/").json()["code"] == "method_not_allowed"
    assert Tenant.objects.filter(pk=tenant.pk).exists()


@pytest.mark.parametrize("role", ["manager", "lead", "employee"])
def test_tenant_members_may_not_use_the_tenant_resource(request, tenant, role):
    user = request.getfixturevalue(role)
    client = client_for(user)
    for response in (
        client.get(TENANTS),
        client.get(f"{TENANTS}{tenant.pk}/"),
        client.post(TENANTS, {"name": "X", "slug": "x", "currency": "INR"}),
        client.patch(f"{TENANTS}{tenant.pk}/", {"status": "SUSPENDED"}),
    ):
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
    assert Tenant.objects.get(pk=tenant.pk).status == "ACTIVE"


@pytest.mark.parametrize("tenant_id", [uuid.uuid4(), "not-a-uuid"])
def test_unknown_tenant_is_404(platform_admin, db, tenant_id):
    response = client_for(platform_admin).get(f"{TENANTS}{tenant_id}/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


@pytest.mark.parametrize("rows", [3, 30])
def test_tenant_list_query_count_does_not_grow(platform_admin, django_assert_max_num_queries, rows):
    for _ in range(rows):
        TenantFactory()
    with django_assert_max_num_queries(2):  # count + page
        response = client_for(platform_admin).get(TENANTS, {"page_size": 200})
    assert response.json()["count"] == rows


# --- users -----------------------------------------------------------------------------------------------------------


def user_body(user: User) -> dict:
    user.refresh_from_db()
    return {
        "id": str(user.pk),
        "email": user.email,
        "full_name": user.full_name,
        "role": user.role,
        "tenant_id": str(user.tenant_id) if user.tenant_id else None,
        "is_active": user.is_active,
        "date_joined": user.date_joined.isoformat().replace("+00:00", "Z"),
        # The profile (people.api), empty for these members.
        "title": "",
        "team": None,
        "manager": None,
        "hire_date": None,
        "birthday": None,
        "birthday_consent": False,
        "photo_url": "",
        "photo_small_url": "",
    }


def test_manager_lists_own_tenant_users_only(manager, lead, employee, outsider, platform_admin):
    response = client_for(manager).get(USERS)
    assert response.status_code == 200
    assert response.json()["results"] == [user_body(employee), user_body(lead), user_body(manager)]


def test_manager_filters_users_by_role_and_activity(manager, lead, employee, other_employee):
    client = client_for(manager)
    assert [u["email"] for u in client.get(USERS, {"role": "tenant_lead"}).json()["results"]] == ["lead@triton.test"]
    User.objects.filter(pk=other_employee.pk).update(is_active=False)
    inactive = client.get(USERS, {"is_active": "false"}).json()["results"]
    assert [u["email"] for u in inactive] == ["rahul@triton.test"]
    assert [u["email"] for u in client.get(USERS, {"search": "asha"}).json()["results"]] == ["employee@triton.test"]


def test_platform_lists_every_tenant_and_narrows_with_tenant_id(platform_admin, manager, outsider):
    client = client_for(platform_admin)
    emails = {u["email"] for u in client.get(USERS, {"page_size": 200}).json()["results"]}
    assert {"manager@triton.test", "outsider@other.test", "admin@platform.test"} <= emails
    narrowed = client.get(USERS, {"tenant_id": str(outsider.tenant_id)}).json()["results"]
    assert [u["email"] for u in narrowed] == ["outsider@other.test"]
    assert client.get(USERS, {"tenant_id": str(uuid.uuid4())}).status_code == 404


def test_manager_creates_a_member_of_its_own_tenant_with_a_wallet(manager, tenant):
    response = client_for(manager).post(
        USERS, {"email": "New.Hire@Triton.test", "full_name": "New Hire", "role": "employee", "password": PASSWORD}
    )
    assert response.status_code == 201, response.json()
    user = User.objects.get(email="new.hire@triton.test")
    assert response.json() == user_body(user)
    assert (user.tenant_id, user.role, user.is_active) == (tenant.pk, "employee", True)
    assert user.check_password(PASSWORD)
    wallet = Wallet.objects.get(user=user)
    assert (wallet.tenant_id, wallet.balance) == (tenant.pk, 0)


def test_a_new_lead_gets_an_empty_budget(manager, tenant):
    response = client_for(manager).post(
        USERS, {"email": "lead2@triton.test", "full_name": "Lena Lead", "role": "tenant_lead", "password": PASSWORD}
    )
    assert response.status_code == 201
    assert LeadBudget.objects.get(lead__email="lead2@triton.test").balance == 0


def test_manager_naming_its_own_tenant_is_fine_and_another_tenant_is_404(manager, tenant, other_tenant):
    client = client_for(manager)
    body = {"email": "a@triton.test", "full_name": "A", "role": "employee", "password": PASSWORD}
    assert client.post(USERS, {**body, "tenant_id": str(tenant.pk)}).status_code == 201
    foreign = client.post(USERS, {**body, "email": "b@triton.test", "tenant_id": str(other_tenant.pk)})
    missing = client.post(USERS, {**body, "email": "b@triton.test", "tenant_id": str(uuid.uuid4())})
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json() == {"detail": "Tenant not found.", "code": "not_found"}
    assert not User.objects.filter(email="b@triton.test").exists()


def test_manager_may_not_create_a_platform_admin(manager):
    response = client_for(manager).post(
        USERS, {"email": "boss@triton.test", "full_name": "Boss", "role": "platform_admin", "password": PASSWORD}
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "Managers may not create platform admins.", "code": "permission_denied"}
    assert not User.objects.filter(email="boss@triton.test").exists()


def test_platform_creates_a_member_of_a_named_tenant(platform_admin, other_tenant):
    response = client_for(platform_admin).post(
        USERS,
        {
            "email": "m@other.test",
            "full_name": "Mo",
            "role": "tenant_manager",
            "password": PASSWORD,
            "tenant_id": str(other_tenant.pk),
        },
    )
    assert response.status_code == 201
    assert response.json()["tenant_id"] == str(other_tenant.pk)
    assert Wallet.objects.get(user__email="m@other.test").tenant_id == other_tenant.pk


def test_platform_must_name_the_tenant_of_a_member(platform_admin):
    body = {"email": "x@x.test", "full_name": "X", "role": "employee", "password": PASSWORD}
    response = client_for(platform_admin).post(USERS, body)
    assert response.status_code == 400
    assert response.json() == {"tenant_id": ["Name the tenant of the new member."]}
    unknown = client_for(platform_admin).post(USERS, {**body, "tenant_id": str(uuid.uuid4())})
    assert unknown.status_code == 404
    assert not User.objects.filter(email="x@x.test").exists()


def test_platform_creates_another_platform_admin_without_a_tenant(platform_admin, tenant):
    client = client_for(platform_admin)
    body = {"email": "ops@platform.test", "full_name": "Ops", "role": "platform_admin", "password": PASSWORD}
    refused = client.post(USERS, {**body, "tenant_id": str(tenant.pk)})
    assert refused.status_code == 400
    assert refused.json() == {"tenant_id": ["Platform admins belong to no tenant."]}
    response = client.post(USERS, body)
    assert response.status_code == 201
    user = User.objects.get(email="ops@platform.test")
    assert (user.member_tenant_id, user.is_platform_admin, Wallet.objects.filter(user=user).exists()) == (
        None,
        True,
        False,
    )


def test_a_duplicate_email_is_refused(manager, employee):
    response = client_for(manager).post(
        USERS, {"email": "EMPLOYEE@triton.test", "full_name": "Dup", "role": "employee", "password": PASSWORD}
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": "A user with email employee@triton.test already exists.",
        "code": "duplicate_email",
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"full_name": "X", "role": "employee", "password": PASSWORD}, "email"),
        ({"email": "not-an-email", "full_name": "X", "role": "employee"}, "email"),
        ({"email": "x@t.test", "role": "employee"}, "full_name"),
        ({"email": "x@t.test", "full_name": "X"}, "role"),
        ({"email": "x@t.test", "full_name": "X", "role": "boss"}, "role"),
        ({"email": "x@t.test", "full_name": "X", "role": "employee", "tenant_id": 12}, "tenant_id"),
        ({"email": "x@t.test", "full_name": "X", "role": "employee", "is_staff": True}, "is_staff"),
        ({"email": "x@t.test", "full_name": "X", "role": "employee", "password": "123"}, "code"),
    ],
)
def test_bad_user_inputs(manager, body, field):
    response = client_for(manager).post(USERS, body)
    assert response.status_code == 400
    assert field in response.json()
    assert not User.objects.filter(email="x@t.test").exists()


def test_manager_changes_a_role_and_the_lead_gets_a_budget(manager, employee):
    response = client_for(manager).patch(f"{USERS}{employee.pk}/", {"role": "tenant_lead"})
    assert response.status_code == 200
    assert response.json() == user_body(employee)
    assert response.json()["role"] == "tenant_lead"
    assert LeadBudget.objects.get(lead=employee).balance == 0


def test_a_lead_holding_budget_cannot_be_demoted(manager, funded_lead):
    response = client_for(manager).patch(f"{USERS}{funded_lead.pk}/", {"role": "employee", "is_active": False})
    assert response.status_code == 400
    assert response.json() == {
        "detail": "This lead still holds 10000 delegated points. Recall them first.",
        "code": "lead_budget_not_empty",
        "available": 10_000,
    }
    funded_lead.refresh_from_db()
    assert (funded_lead.role, funded_lead.is_active) == ("tenant_lead", True)


def test_role_and_activity_change_together_or_not_at_all(manager, funded_lead):
    # The role change is refused (the lead still holds budget), so the deactivation is not applied either.
    response = client_for(manager).patch(f"{USERS}{funded_lead.pk}/", {"role": "employee", "is_active": False})
    assert response.status_code == 400
    assert response.json()["code"] == "lead_budget_not_empty"
    funded_lead.refresh_from_db()
    assert (funded_lead.role, funded_lead.is_active) == ("tenant_lead", True)
    assert LeadBudget.objects.get(lead=funded_lead).balance == 10_000


def test_manager_deactivates_and_reactivates_a_user(manager, employee, password):
    client = client_for(manager)
    response = client.patch(f"{USERS}{employee.pk}/", {"is_active": False})
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert APIClient().post("/api/v1/auth/token/", {"email": employee.email, "password": password}).status_code == 401
    assert Wallet.objects.filter(user=employee).exists()
    assert client.patch(f"{USERS}{employee.pk}/", {"is_active": True}).json()["is_active"] is True
    assert APIClient().post("/api/v1/auth/token/", {"email": employee.email, "password": password}).status_code == 200


@pytest.mark.parametrize(
    "body",
    [{}, {"role": "platform_admin"}, {"role": "boss"}, {"is_active": None}, {"is_active": "maybe"}, {"email": "x@y.z"}],
)
def test_bad_user_updates_change_nothing(manager, employee, body):
    response = client_for(manager).patch(f"{USERS}{employee.pk}/", body)
    assert response.status_code == 400
    employee.refresh_from_db()
    assert (employee.role, employee.is_active, employee.email) == ("employee", True, "employee@triton.test")


def test_manager_cannot_see_or_change_another_tenants_user(manager, outsider):
    client = client_for(manager)
    for response, missing in (
        (client.get(f"{USERS}{outsider.pk}/"), client.get(f"{USERS}{uuid.uuid4()}/")),
        (
            client.patch(f"{USERS}{outsider.pk}/", {"is_active": False}),
            client.patch(f"{USERS}{uuid.uuid4()}/", {"is_active": False}),
        ),
    ):
        assert response.status_code == missing.status_code == 404
        assert response.json() == missing.json()
    outsider.refresh_from_db()
    assert outsider.is_active is True


@pytest.mark.parametrize("role", ["lead", "employee"])
def test_leads_and_employees_may_not_manage_users(request, role, manager):
    client = client_for(request.getfixturevalue(role))
    for response in (
        client.get(USERS),
        client.get(f"{USERS}{manager.pk}/"),
        client.post(USERS, {"email": "z@t.test", "full_name": "Z", "role": "employee", "password": PASSWORD}),
        client.patch(f"{USERS}{manager.pk}/", {"is_active": False}),
    ):
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"
    manager.refresh_from_db()
    assert manager.is_active is True


def test_anonymous_gets_401(db):
    response = APIClient().get(USERS)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_platform_deactivates_a_member_of_any_tenant(platform_admin, outsider):
    response = client_for(platform_admin).patch(f"{USERS}{outsider.pk}/", {"is_active": False})
    assert response.status_code == 200
    outsider.refresh_from_db()
    assert outsider.is_active is False


@pytest.mark.parametrize("rows", [3, 30])
def test_user_list_query_count_does_not_grow(manager, tenant, django_assert_max_num_queries, rows):
    for _ in range(rows - 1):
        UserFactory(tenant=tenant)
    with django_assert_max_num_queries(2):  # count + page (force_authenticate: no auth query)
        response = client_for(manager).get(USERS, {"page_size": 200})
    assert response.json()["count"] == rows


def test_delegated_points_stay_with_a_deactivated_lead(manager, funded_lead):
    client_for(manager).patch(f"{USERS}{funded_lead.pk}/", {"is_active": False})
    assert LeadBudget.objects.get(lead=funded_lead).balance == 10_000


def test_users_of_a_role_are_listed_for_a_platform_filter(platform_admin, manager, lead):
    response = client_for(platform_admin).get(USERS, {"role": Role.TENANT_LEAD})
    assert [u["id"] for u in response.json()["results"]] == [str(lead.pk)]


def test_a_manager_cannot_demote_themselves_over_the_api(manager):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(manager)
    response = client.patch(f"/api/v1/users/{manager.pk}/", {"role": "employee"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    manager.refresh_from_db()
    assert manager.role == "tenant_manager"
