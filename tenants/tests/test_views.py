"""Sign in, sign out, and `/` sending each role home."""

import pytest

from tenants.services import user_set_active


def test_login_page_has_labelled_email_and_password(client, db):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<label for="id_username">Email</label>' in html
    assert '<label for="id_password">Password</label>' in html
    assert "csrfmiddlewaretoken" in html


@pytest.mark.parametrize(
    ("who", "home"),
    [("manager", "/manage/"), ("lead", "/manage/"), ("employee", "/wallet/"), ("platform_admin", "/admin/")],
)
def test_login_with_email_then_home_sends_each_role_home(client, password, request, who, home):
    user = request.getfixturevalue(who)
    response = client.post("/accounts/login/", {"username": user.email, "password": password})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").headers["Location"] == home


def test_wrong_password_is_refused_with_a_message(client, employee):
    response = client.post("/accounts/login/", {"username": employee.email, "password": "nope"})
    assert response.status_code == 200
    assert "That email and password do not match an active account." in response.content.decode()
    assert client.get("/wallet/").status_code == 302


def test_deactivated_user_cannot_log_in(client, manager, employee, password):
    user_set_active(actor=manager, user=employee, is_active=False)
    response = client.post("/accounts/login/", {"username": employee.email, "password": password})
    assert response.status_code == 200
    assert "do not match an active account" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_anonymous_pages_redirect_to_login(client, db):
    for path in ["/", "/manage/", "/recognize/", "/wallet/", "/rewards/", "/feed/", "/manage/pool.json"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/login/?next="), path


def test_logout_is_a_post(client, employee):
    client.force_login(employee)
    assert client.get("/accounts/logout/").status_code == 405
    assert "_auth_user_id" in client.session
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in client.session


def test_pages_answer_403_to_the_wrong_role(client, employee, lead, platform_admin):
    client.force_login(employee)
    assert client.get("/manage/").status_code == 403
    assert client.get("/manage/pool.json").status_code == 403
    client.force_login(lead)
    assert client.get("/manage/pool.json").status_code == 403
    assert client.post("/manage/delegate/", {}).status_code == 403
    client.force_login(platform_admin)
    for path in ["/manage/", "/recognize/", "/wallet/", "/rewards/", "/feed/"]:
        assert client.get(path).status_code == 403, path


def test_repeated_wrong_passwords_lock_the_form_even_for_the_right_one(client, employee, password, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        client.post("/accounts/login/", {"username": employee.email, "password": "wrong"})
    response = client.post("/accounts/login/", {"username": employee.email, "password": password})
    assert response.status_code == 200
    assert "Too many failed sign-in attempts. Try again in 5 minutes." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_deactivated_users_open_session_stops_working(client, manager, employee):
    client.force_login(employee)
    assert client.get("/wallet/").status_code == 200
    user_set_active(actor=manager, user=employee, is_active=False)
    response = client.get("/wallet/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/wallet/"
