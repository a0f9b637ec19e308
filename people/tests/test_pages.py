"""The people pages: /profile/, /manage/people/ (list, add, edit, deactivate, import), passwords."""

import io
import re

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from people.models import Profile
from people.services import team_create
from tenants.models import User
from tenants.tests.factories import PASSWORD, ManagerFactory, UserFactory

from .photos import image_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(tenant):
    return ManagerFactory(tenant=tenant, email="boss@triton.test", full_name="Boss Person")


def logged_in(client, user):
    client.force_login(user)
    return client


def test_the_people_list_is_a_fixed_number_of_queries_whatever_the_page(client, boss, tenant):
    team = team_create(tenant=tenant, name="Ops")
    logged_in(client, boss)

    def count(path="/manage/people/"):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(path)
        assert response.status_code == 200
        return len(ctx.captured_queries), response.content.decode().count('data-testid="member-row"')

    few, rows_few = count()
    for i in range(30):
        user = UserFactory(tenant=tenant, full_name=f"Member {i:02d}")
        photo = {"avatar": f"avatars/{user.pk}-v{i}-256.webp", "avatar_small": f"avatars/{user.pk}-v{i}-64.webp"}
        Profile.objects.filter(user=user).update(team=team, manager=boss, title="Engineer", **(photo if i % 2 else {}))
    many, rows_many = count()
    last, rows_last = count("/manage/people/?page=2")
    assert (rows_few, rows_many, rows_last) == (1, 25, 6)
    assert few == many == last


def test_filters_search_team_role_active(client, boss, tenant):
    team = team_create(tenant=tenant, name="Ops")
    ann = UserFactory(tenant=tenant, full_name="Ann Ops")
    Profile.objects.filter(user=ann).update(team=team)
    gone = UserFactory(tenant=tenant, full_name="Gone Person", is_active=False)
    logged_in(client, boss)
    page = client.get(f"/manage/people/?team={team.pk}").content.decode()
    assert "Ann Ops" in page and "boss@triton.test" not in page
    page = client.get("/manage/people/?active=0").content.decode()
    assert gone.full_name in page and "Ann Ops" not in page
    assert "Ann Ops" not in client.get("/manage/people/?q=boss").content.decode()
    page = client.get("/manage/people/?role=tenant_manager").content.decode()
    assert "boss@triton.test" in page and "Ann Ops" not in page


def test_add_edit_deactivate_reactivate(client, boss, tenant, django_capture_on_commit_callbacks):
    logged_in(client, boss)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/manage/people/new/",
            {
                "email": "new@triton.test",
                "full_name": "New Person",
                "role": "employee",
                "title": "Analyst",
                "manager": str(boss.pk),
                "birthday_month": "3",
                "birthday_day": "9",
            },
        )
    assert response.status_code == 302, response.content.decode()
    new = User.objects.select_related("profile").get(email="new@triton.test")
    assert (new.profile.title, new.profile.manager_id, new.profile.birthday_month) == ("Analyst", boss.pk, 3)
    assert mail.outbox[0].to == ["new@triton.test"]
    response = client.post(f"/manage/people/{new.pk}/", {"full_name": "New P", "role": "tenant_lead", "title": "Lead"})
    assert response.status_code == 302
    new.refresh_from_db()
    assert (new.full_name, new.role, new.profile.title) == ("New P", "tenant_lead", "Lead")
    client.post(f"/manage/people/{new.pk}/active/", {"is_active": "0"})
    assert not User.objects.get(pk=new.pk).is_active
    client.post(f"/manage/people/{new.pk}/active/", {"is_active": "1"})
    assert User.objects.get(pk=new.pk).is_active


def test_a_birthday_half_or_impossible_is_refused(client, boss):
    logged_in(client, boss)
    response = client.post(
        "/manage/people/new/",
        {"email": "x@triton.test", "full_name": "X", "role": "employee", "birthday_month": "2"},
    )
    assert response.status_code == 400 and not User.objects.filter(email="x@triton.test").exists()
    response = client.post(
        "/manage/people/new/",
        {"email": "x@triton.test", "full_name": "X", "role": "employee", "birthday_month": "2", "birthday_day": "30"},
    )
    assert response.status_code == 400 and "not a valid month and day" in response.content.decode()


def test_another_tenants_manager_cannot_see_or_edit_our_members(client, boss, employee):
    stranger = ManagerFactory()
    logged_in(client, stranger)
    assert client.get(f"/manage/people/{employee.pk}/").status_code == 404
    assert client.post(f"/manage/people/{employee.pk}/active/", {"is_active": "0"}).status_code == 404
    assert employee.email not in client.get("/manage/people/?q=").content.decode()
    assert User.objects.get(pk=employee.pk).is_active


def test_employees_get_no_people_pages(client, employee):
    logged_in(client, employee)
    assert client.get("/manage/people/").status_code == 403
    assert client.get("/manage/people/import/").status_code == 403


def test_import_page_dry_run_then_apply(client, boss):
    logged_in(client, boss)
    csv = b"email,full_name,team\nann@triton.test,Ann,Ops\nbob@triton.test,Bob,Ops\n"
    response = client.post("/manage/people/import/", {"action": "check", "file": io.BytesIO(csv)})
    page = response.content.decode()
    assert response.status_code == 200 and 'data-testid="count-created">2<' in page
    assert not User.objects.filter(email="ann@triton.test").exists()
    token = re.search(r'name="token" value="([0-9a-f]+)"', page)[1]
    response = client.post("/manage/people/import/", {"action": "apply", "token": token, "deactivate_missing": "0"})
    assert response.status_code == 302
    assert User.objects.filter(email__in=["ann@triton.test", "bob@triton.test"]).count() == 2
    # The stored file is spent, and another tenant's manager cannot apply a token of ours.
    response = client.post("/manage/people/import/", {"action": "apply", "token": token})
    assert response.status_code == 302 and User.objects.filter(tenant=boss.tenant).count() == 3


def test_import_page_shows_errors_with_rows(client, boss):
    logged_in(client, boss)
    csv = b"email,full_name,hire_date\nann@triton.test,Ann,31/12/2024\n"
    response = client.post("/manage/people/import/", {"action": "check", "file": io.BytesIO(csv)})
    assert response.status_code == 400
    assert "is not a date" in response.content.decode() and 'name="token"' not in response.content.decode()


def test_profile_photo_consent_and_initials(client, employee):
    logged_in(client, employee)
    page = client.get("/profile/").content.decode()
    assert 'data-testid="avatar-initials"' in page and "/profile/notifications/" in page
    response = client.post("/profile/", {"action": "photo", "photo": io.BytesIO(image_bytes("PNG"))})
    assert response.status_code == 302
    assert 'data-testid="avatar-photo"' in client.get("/profile/").content.decode()
    response = client.post("/profile/", {"action": "photo", "photo": io.BytesIO(b"%PDF-1.4 not an image")})
    assert response.status_code == 400 and "JPEG, PNG or WebP" in response.content.decode()
    client.post("/profile/", {"action": "consent", "birthday_consent": "on"})
    assert Profile.objects.get(user=employee).birthday_consent is True
    client.post("/profile/", {"action": "consent"})
    assert Profile.objects.get(user=employee).birthday_consent is False


def test_forgot_password_answers_the_same_and_the_link_works_once(client, employee):
    known = client.post("/accounts/password-reset/", {"email": employee.email})
    unknown = client.post("/accounts/password-reset/", {"email": "nobody@nowhere.test"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    [message] = mail.outbox
    link = re.search(r"http://testserver(/accounts/reset/\S+)", message.body)[1]
    form = client.get(link, follow=True)
    assert form.status_code == 200
    action = form.redirect_chain[-1][0]
    response = client.post(action, {"new_password1": "a-new-Passw0rd-123", "new_password2": "a-new-Passw0rd-123"})
    assert response.status_code == 302
    assert User.objects.get(pk=employee.pk).check_password("a-new-Passw0rd-123")
    again = client.get(link, follow=True)
    assert "no longer valid" in again.content.decode()


def test_invitation_link_sets_the_first_password(client, boss, django_capture_on_commit_callbacks):
    from people.services import member_invite

    with django_capture_on_commit_callbacks(execute=True):
        member_invite(tenant=boss.tenant, email="inv@triton.test", full_name="Inv", role="employee", actor=boss)
    link = re.search(r"http://\S+(/accounts/invitation/\S+)", mail.outbox[0].body)[1]
    form = client.get(link, follow=True)
    response = client.post(form.redirect_chain[-1][0], {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert response.status_code == 302
    assert client.login(username="inv@triton.test", password=PASSWORD)
    # A password-reset token is not an invitation token.
    assert "no longer valid" in client.get(link, follow=True).content.decode()


def test_the_login_page_links_to_forgot_password(client):
    assert "/accounts/password-reset/" in client.get("/accounts/login/").content.decode()
