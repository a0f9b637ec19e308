"""/api/v1/users/ with profiles, invitations, photos and the import; /api/v1/teams/."""

import io

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image
from rest_framework.test import APIClient

from people.api import MemberOutput
from people.models import Profile, Team
from people.services import team_create
from tenants.models import User
from tenants.tests.factories import ManagerFactory, UserFactory

from .photos import image_bytes

pytestmark = pytest.mark.django_db
USERS = "/api/v1/users/"


def client_for(user):
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=user.pk))
    return client


@pytest.fixture
def boss(tenant):
    return ManagerFactory(tenant=tenant, email="boss@triton.test", full_name="Boss Person")


def test_add_a_member_with_profile_sends_a_72h_invitation(boss, django_capture_on_commit_callbacks):
    team = team_create(tenant=boss.tenant, name="Platform")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(boss).post(
            USERS,
            {
                "email": "Ann@Triton.test",
                "full_name": "Ann Lee",
                "role": "employee",
                "title": "Engineer",
                "team_id": str(team.pk),
                "manager_id": str(boss.pk),
                "hire_date": "2024-03-01",
                "birthday": "07-14",
            },
        )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["email"], body["title"], body["team"]["name"], body["manager"]["email"]) == (
        "ann@triton.test",
        "Engineer",
        "Platform",
        "boss@triton.test",
    )
    assert (body["hire_date"], body["birthday"], body["birthday_consent"], body["photo_url"]) == (
        "2024-03-01",
        "07-14",
        False,
        "",
    )
    [message] = mail.outbox
    assert message.to == ["ann@triton.test"]
    assert "72 hours" in message.body and "/accounts/invitation/" in message.body
    assert not User.objects.get(email="ann@triton.test").has_usable_password()


@pytest.mark.parametrize(
    ("body", "field_or_code"),
    [
        ({"birthday": "02-30"}, "birthday"),
        ({"birthday": "7-14"}, "birthday"),
        ({"hire_date": "2024-13-01"}, "hire_date"),
        ({"title": "x" * 121}, "title"),
        ({"team_id": 12}, "team_id"),
        ({"salary": 1}, "salary"),
    ],
)
def test_bad_profile_fields_are_refused(boss, employee, body, field_or_code):
    response = client_for(boss).patch(f"{USERS}{employee.pk}/", body)
    assert response.status_code == 400
    assert field_or_code in response.json()
    assert Profile.objects.get(user=employee).title == ""


def test_a_manager_loop_is_refused_with_a_clear_error(boss, tenant):
    a = UserFactory(tenant=tenant)
    b = UserFactory(tenant=tenant)
    client = client_for(boss)
    assert client.patch(f"{USERS}{a.pk}/", {"manager_id": str(b.pk)}).status_code == 200
    response = client.patch(f"{USERS}{b.pk}/", {"manager_id": str(a.pk)})
    assert response.status_code == 400
    assert response.json()["code"] == "manager_cycle" and "loop" in response.json()["detail"]
    assert client.patch(f"{USERS}{a.pk}/", {"manager_id": str(a.pk)}).json()["code"] == "manager_cycle"


def test_edit_every_field_and_clear_them(boss, employee):
    team = team_create(tenant=boss.tenant, name="Sales")
    client = client_for(boss)
    body = client.patch(
        f"{USERS}{employee.pk}/",
        {
            "full_name": "Asha K",
            "title": "AE",
            "team_id": str(team.pk),
            "manager_id": str(boss.pk),
            "hire_date": "2025-01-06",
            "birthday": "12-31",
            "birthday_consent": True,
            "role": "tenant_lead",
        },
    ).json()
    assert (body["full_name"], body["title"], body["team"]["id"], body["role"], body["birthday"]) == (
        "Asha K",
        "AE",
        str(team.pk),
        "tenant_lead",
        "12-31",
    )
    body = client.patch(
        f"{USERS}{employee.pk}/", {"team_id": None, "manager_id": None, "hire_date": None, "birthday": None}
    ).json()
    assert (body["team"], body["manager"], body["hire_date"], body["birthday"]) == (None, None, None, None)


def test_deactivate_and_reactivate_stamp_the_leaver_clock(boss, employee):
    client = client_for(boss)
    assert client.patch(f"{USERS}{employee.pk}/", {"is_active": False}).json()["is_active"] is False
    assert Profile.objects.get(user=employee).deactivated_at is not None
    assert client.patch(f"{USERS}{employee.pk}/", {"is_active": True}).json()["is_active"] is True
    assert Profile.objects.get(user=employee).deactivated_at is None


def test_the_list_filters_by_team_role_active_and_search(boss, tenant):
    team = team_create(tenant=tenant, name="Ops")
    ann = UserFactory(tenant=tenant, full_name="Ann Ops")
    Profile.objects.filter(user=ann).update(team=team, title="Ops engineer")
    UserFactory(tenant=tenant, full_name="Bob Other")
    client = client_for(boss)
    assert [u["full_name"] for u in client.get(f"{USERS}?team_id={team.pk}").json()["results"]] == ["Ann Ops"]
    assert [u["full_name"] for u in client.get(f"{USERS}?search=ops+eng").json()["results"]] in ([], ["Ann Ops"])
    assert [u["full_name"] for u in client.get(f"{USERS}?search=Ann").json()["results"]] == ["Ann Ops"]
    assert [u["full_name"] for u in client.get(f"{USERS}?role=tenant_manager").json()["results"]] == ["Boss Person"]


def test_the_list_costs_the_same_queries_for_5_or_60_members(boss, tenant, django_assert_max_num_queries):
    team = team_create(tenant=tenant, name="Ops")

    def count(page_size):
        with CaptureQueriesContext(connection) as ctx:
            response = client_for(boss).get(f"{USERS}?page_size={page_size}")
        assert len(response.json()["results"]) == min(page_size, User.objects.filter(tenant=tenant).count())
        return len(ctx.captured_queries)

    for i in range(60):
        user = UserFactory(tenant=tenant)
        photo = {"avatar": f"avatars/{user.pk}-v{i}-256.webp", "avatar_small": f"avatars/{user.pk}-v{i}-64.webp"}
        Profile.objects.filter(user=user).update(team=team, manager=boss, title=f"T{i}", **(photo if i % 2 else {}))
    assert count(5) == count(60)
    with django_assert_max_num_queries(4):
        client_for(boss).get(f"{USERS}?page_size=60")


def test_photo_upload_is_decoded_stripped_resized_and_served(boss, employee):
    client = client_for(employee)
    response = client.put(
        f"{USERS}{employee.pk}/photo/",
        {"photo": io.BytesIO(image_bytes("JPEG", exif=True))},
        format="multipart",
    )
    assert response.status_code == 200, response.json()
    profile = Profile.objects.get(user=employee)
    with default_storage.open(profile.avatar.name) as f:
        data = f.read()
    image = Image.open(io.BytesIO(data))
    assert (image.format, image.size) == ("WEBP", (256, 256))
    assert b"SpyCam" not in data and not image.getexif()
    with default_storage.open(profile.avatar_small.name) as f:
        assert Image.open(f).size == (64, 64)
    url = response.json()["photo_small_url"]
    page = APIClient()
    page.force_login(boss)
    served = page.get(url)
    assert served.status_code == 200 and served["Content-Type"] == "image/webp"
    outsider = UserFactory()
    other = APIClient()
    other.force_login(outsider)
    assert other.get(url).status_code == 404


@pytest.mark.parametrize(
    "payload",
    [
        b"GIF89a" + b"\x00" * 100,
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        image_bytes("GIF"),
        image_bytes("BMP"),
        image_bytes("PNG")[:200],
        b"",
    ],
)
def test_anything_but_a_real_jpeg_png_webp_is_refused_and_nothing_stored(employee, payload):
    client = client_for(employee)
    response = client.put(f"{USERS}{employee.pk}/photo/", {"photo": io.BytesIO(payload)}, format="multipart")
    assert response.status_code == 400
    assert Profile.objects.get(user=employee).avatar.name == ""


def test_a_photo_over_5_mb_is_refused(employee):
    big = image_bytes("PNG") + b"\x00" * (5 * 1024 * 1024)
    response = client_for(employee).put(f"{USERS}{employee.pk}/photo/", {"photo": io.BytesIO(big)}, format="multipart")
    assert response.status_code == 400 and "5 MB" in response.json()["detail"]


def test_an_employee_cannot_change_a_colleagues_photo(employee, other_employee):
    response = client_for(employee).put(
        f"{USERS}{other_employee.pk}/photo/", {"photo": io.BytesIO(image_bytes())}, format="multipart"
    )
    assert response.status_code == 404


def test_import_over_the_api_has_the_spec_shape(boss):
    csv = b"email,full_name,role\nann@triton.test,Ann,employee\nbad,Bad,employee\n"
    client = client_for(boss)
    response = client.post(f"{USERS}import/", {"file": io.BytesIO(csv), "dry_run": "true"}, format="multipart")
    assert response.status_code == 200
    assert response.json() == {
        "dry_run": True,
        "created": 1,
        "updated": 0,
        "deactivated": 0,
        "unchanged": 0,
        "errors": [{"row": 3, "column": "email", "message": "“bad” is not a valid e-mail address."}],
        "rows": [{"row": 2, "email": "ann@triton.test", "action": "create"}],
    }
    response = client.post(f"{USERS}import/", {"file": io.BytesIO(csv), "dry_run": "false"}, format="multipart")
    assert response.status_code == 400 and not User.objects.filter(email="ann@triton.test").exists()
    good = b"email,full_name,role\nann@triton.test,Ann,employee\n"
    response = client.post(f"{USERS}import/", {"file": io.BytesIO(good), "dry_run": "false"}, format="multipart")
    assert response.status_code == 200 and response.json()["created"] == 1
    assert User.objects.get(email="ann@triton.test").tenant_id == boss.tenant_id


def test_employees_cannot_import(employee):
    csv = io.BytesIO(b"email,full_name\nx@triton.test,X\n")
    response = client_for(employee).post(f"{USERS}import/", {"file": csv}, format="multipart")
    assert response.status_code == 403


def test_teams_crud_and_parent_loops(boss):
    client = client_for(boss)
    eng = client.post("/api/v1/teams/", {"name": "Engineering"}).json()
    web = client.post("/api/v1/teams/", {"name": "Web", "parent_id": eng["id"]}).json()
    assert web["parent_id"] == eng["id"]
    assert client.post("/api/v1/teams/", {"name": "Engineering"}).json()["code"] == "duplicate_team"
    response = client.patch(f"/api/v1/teams/{eng['id']}/", {"parent_id": web["id"]})
    assert response.status_code == 400 and response.json()["code"] == "team_cycle"
    assert client.delete(f"/api/v1/teams/{web['id']}/").status_code == 204
    assert list(Team.objects.values_list("name", flat=True)) == ["Engineering"]


def test_platform_staff_created_and_changed_through_the_users_api_answer_in_the_member_shape(platform_admin):
    client = client_for(platform_admin)
    response = client.post(USERS, {"email": "ops@perksu.test", "full_name": "Ops", "role": "platform_admin"})
    assert response.status_code == 201, response.json()
    body = response.json()
    # The documented MemberOutput: every field present, the profile's empty for staff (they have none).
    assert set(body) == set(MemberOutput().fields)
    assert (body["tenant_id"], body["team"], body["manager"], body["title"], body["birthday"]) == (
        None,
        None,
        None,
        "",
        None,
    )
    response = client.patch(f"{USERS}{body['id']}/", {"is_active": False})
    assert response.status_code == 200, response.json()
    assert set(response.json()) == set(MemberOutput().fields)
    assert response.json()["is_active"] is False
