"""The console: the CSV import page for any tenant, profiles edited through the service, invitations."""

import io

import pytest
from django.core import mail

from people.models import Profile
from tenants.models import User
from tenants.tests.factories import ManagerFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_console_import_dry_run_then_apply(client, platform_admin, tenant):
    client.force_login(platform_admin)
    csv = b"email,full_name\nann@triton.test,Ann\n"
    page = client.post("/admin/people/import/", {"tenant": tenant.pk, "file": io.BytesIO(csv)})
    assert page.status_code == 200 and "Created 1" in page.content.decode()
    assert not User.objects.filter(email="ann@triton.test").exists()
    client.post("/admin/people/import/", {"tenant": tenant.pk, "file": io.BytesIO(csv), "apply": "on"})
    assert User.objects.get(email="ann@triton.test").tenant_id == tenant.pk


def test_console_import_is_platform_only(client, tenant):
    client.force_login(ManagerFactory(tenant=tenant))
    response = client.get("/admin/people/import/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_console_profile_edit_refuses_a_manager_of_another_tenant(client, platform_admin, employee):
    stranger = UserFactory()
    client.force_login(platform_admin)
    client.post(f"/admin/people/profile/{employee.pk}/change/", {"title": "X", "manager": str(stranger.pk)})
    assert Profile.objects.get(user=employee).manager_id is None


def test_console_add_without_password_sends_an_invitation(
    client, platform_admin, tenant, django_capture_on_commit_callbacks
):
    client.force_login(platform_admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/tenants/user/add/",
            {"email": "console@triton.test", "full_name": "Via Console", "tenant": tenant.pk, "role": "employee"},
        )
    assert User.objects.filter(email="console@triton.test").exists()
    assert [m.to for m in mail.outbox] == [["console@triton.test"]]
