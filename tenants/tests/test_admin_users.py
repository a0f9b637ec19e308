"""The console's users: created, re-roled and deactivated through the user services."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext

from points.models import LeadBudget
from tenants.models import PLATFORM_TENANT_ID, User
from tenants.tests.factories import PASSWORD, UserFactory
from wallets.models import Wallet

pytestmark = pytest.mark.django_db

ADD = "/admin/tenants/user/add/"


@pytest.fixture
def console(client, platform_admin):
    client.force_login(platform_admin)
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def change_data(user, **overrides) -> dict:
    data = {"email": user.email, "full_name": user.full_name, "role": user.role, "is_active": "on"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_add_employee_opens_a_wallet(console, tenant):
    response = console.post(
        ADD,
        {
            "email": "New.Person@Triton.test",
            "full_name": "New Person",
            "tenant": str(tenant.pk),
            "role": "employee",
            "password1": "a-long-unusual-passphrase-42",
            "password2": "a-long-unusual-passphrase-42",
        },
    )
    user = User.objects.get(email="new.person@triton.test")
    assert response.status_code == 302
    assert response["Location"] == f"/admin/tenants/user/{user.pk}/change/"
    assert (user.tenant_id, user.role, user.is_staff, user.is_active) == (tenant.pk, "employee", False, True)
    assert user.check_password("a-long-unusual-passphrase-42")
    wallet = Wallet.objects.get(user=user)
    assert (wallet.tenant_id, wallet.balance) == (tenant.pk, 0)
    assert not LeadBudget.objects.filter(lead=user).exists()


def test_add_lead_opens_a_wallet_and_a_budget_without_password(console, tenant):
    response = console.post(
        ADD, {"email": "lead2@triton.test", "full_name": "Second Lead", "tenant": str(tenant.pk), "role": "tenant_lead"}
    )
    assert response.status_code == 302
    user = User.objects.get(email="lead2@triton.test")
    assert not user.has_usable_password()
    assert LeadBudget.objects.get(lead=user).balance == 0
    assert Wallet.objects.filter(user=user).exists()


def test_add_platform_admin_gets_staff_and_no_wallet(console):
    console.post(ADD, {"email": "ops@perksu.test", "full_name": "Ops", "tenant": "", "role": "platform_admin"})
    user = User.objects.get(email="ops@perksu.test")
    assert (user.is_staff, user.is_superuser, user.is_platform_admin) == (True, False, True)
    assert not user.has_usable_password()
    assert user.member_tenant_id is None and user.tenant_id == PLATFORM_TENANT_ID
    assert not Wallet.objects.filter(user=user).exists()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"role": "employee", "tenant": ""}, "tenant", "A tenant member needs a tenant."),
        ({"role": "platform_admin"}, "tenant", "Platform admins belong to no tenant: leave it empty."),
        ({"email": "employee@triton.test"}, "email", "A user with email employee@triton.test already exists."),
        ({"email": "EMPLOYEE@triton.test"}, "email", "A user with email employee@triton.test already exists."),
        ({"email": "not-an-email"}, "email", "Enter a valid email address."),
        ({"password1": "abc", "password2": "abd"}, "password2", "The two passwords differ."),
        ({"password1": "123", "password2": "123"}, "password1", "This password is too short."),
    ],
)
def test_add_user_refusals_write_nothing(console, tenant, employee, data, field, message):
    base = {"email": "x@triton.test", "full_name": "X", "tenant": str(tenant.pk), "role": "employee"}
    before = (User.objects.count(), Wallet.objects.count())
    response = console.post(ADD, {**base, **data})
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors[field]
    assert any(e.startswith(message) for e in errors), errors
    assert (User.objects.count(), Wallet.objects.count()) == before


def test_change_role_employee_to_lead_opens_a_budget(console, employee):
    response = console.post(f"/admin/tenants/user/{employee.pk}/change/", change_data(employee, role="tenant_lead"))
    assert response.status_code == 302
    assert User.objects.get(pk=employee.pk).role == "tenant_lead"
    assert LeadBudget.objects.get(lead=employee).balance == 0


def test_change_role_of_a_lead_holding_points_is_refused(console, funded_lead):
    response = console.post(
        f"/admin/tenants/user/{funded_lead.pk}/change/",
        change_data(funded_lead, role="employee", full_name="Renamed Lead"),
    )
    assert response.status_code == 302
    assert response["Location"] == f"/admin/tenants/user/{funded_lead.pk}/change/"
    assert messages_of(response) == ["This lead still holds 10000 delegated points. Recall them first."]
    lead = User.objects.get(pk=funded_lead.pk)
    assert (lead.role, lead.full_name) == ("tenant_lead", "Leo Lead")  # the whole save rolled back
    assert LeadBudget.objects.get(lead=lead).balance == 10_000


def test_tenant_member_cannot_become_platform_admin(console, employee):
    response = console.post(f"/admin/tenants/user/{employee.pk}/change/", change_data(employee, role="platform_admin"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["role"] == ["A tenant member cannot become a platform admin."]
    assert User.objects.get(pk=employee.pk).role == "employee"


def test_deactivate_from_the_change_form(console, employee):
    response = console.post(f"/admin/tenants/user/{employee.pk}/change/", change_data(employee, is_active=None))
    assert response.status_code == 302
    assert User.objects.get(pk=employee.pk).is_active is False
    assert Wallet.objects.filter(user=employee).exists()


def test_deactivate_and_reactivate_actions(console, employee, other_employee, platform_admin):
    response = console.post(
        "/admin/tenants/user/",
        {"action": "deactivate", "_selected_action": [str(employee.pk), str(other_employee.pk)]},
    )
    assert response.status_code == 302
    assert "Users deactivated: 2." in messages_of(response)
    assert set(User.objects.filter(is_active=False).values_list("email", flat=True)) == {
        "employee@triton.test",
        "rahul@triton.test",
    }
    console.post("/admin/tenants/user/", {"action": "reactivate", "_selected_action": [str(employee.pk)]})
    assert User.objects.get(pk=employee.pk).is_active is True
    assert User.objects.get(pk=other_employee.pk).is_active is False


def test_deactivating_yourself_is_refused(console, platform_admin):
    response = console.post(
        "/admin/tenants/user/", {"action": "deactivate", "_selected_action": [str(platform_admin.pk)]}
    )
    assert "Platform Admin <admin@platform.test>: You cannot deactivate yourself." in messages_of(response)
    assert User.objects.get(pk=platform_admin.pk).is_active is True


def test_users_cannot_be_deleted(console, employee):
    assert console.get(f"/admin/tenants/user/{employee.pk}/delete/").status_code == 403
    assert console.post(f"/admin/tenants/user/{employee.pk}/delete/", {"post": "yes"}).status_code == 403
    assert User.objects.filter(pk=employee.pk).exists()


def test_set_password_through_the_console(console, employee):
    response = console.post(
        f"/admin/tenants/user/{employee.pk}/password/",
        {"password1": "another-long-passphrase-77", "password2": "another-long-passphrase-77"},
    )
    assert response.status_code == 302
    assert User.objects.get(pk=employee.pk).check_password("another-long-passphrase-77")
    assert not User.objects.get(pk=employee.pk).check_password(PASSWORD)


def test_user_list_filters_search_and_constant_queries(console, tenant, employee, manager, lead):
    response = console.get("/admin/tenants/user/", {"role__exact": "tenant_lead"})
    assert [u.email for u in response.context["cl"].result_list] == ["lead@triton.test"]
    response = console.get("/admin/tenants/user/", {"q": "asha"})
    assert [u.email for u in response.context["cl"].result_list] == ["employee@triton.test"]
    wallet = Wallet.objects.get(user=employee)
    assert f'href="/admin/wallets/wallet/{wallet.pk}/change/"' in response.content.decode()  # its balance, linked

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert console.get("/admin/tenants/user/").status_code == 200
        return len(ctx)

    few = count()
    for _ in range(10):
        UserFactory(tenant=tenant)
    assert count() == few


def test_deactivating_yourself_from_the_change_form_is_refused(console, platform_admin):
    response = console.post(
        f"/admin/tenants/user/{platform_admin.pk}/change/",
        {"email": platform_admin.email, "full_name": "Renamed", "is_active": ""},
    )
    assert response.status_code == 302
    assert messages_of(response) == ["You cannot deactivate yourself."]
    me = User.objects.get(pk=platform_admin.pk)
    assert (me.is_active, me.full_name) == (True, "Platform Admin")


def test_a_deactivated_platform_admin_is_out(client, platform_admin):
    client.force_login(platform_admin)
    User.objects.filter(pk=platform_admin.pk).update(is_active=False)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
