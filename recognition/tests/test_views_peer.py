"""The pages of peer recognition: /manage/settings/, the award form's allowance and values,
and the feed's reactions, comments and add-ons."""

from __future__ import annotations

import pytest

from points.tests.books import pool, wallet_balance
from recognition.engagement import comment_create, value_create
from recognition.models import AllowanceUsage, Comment, CompanyValue, Reaction, RecognitionValue
from tenants.models import SettingsChangeLog, Tenant


@pytest.fixture
def programme(funded_tenant):
    Tenant.objects.filter(pk=funded_tenant.pk).update(allowance_employee=100)
    funded_tenant.refresh_from_db()
    return funded_tenant


def _settings_post(tenant, **changes):
    data = {name: getattr(tenant, name) for name in SETTINGS_SHOWN}
    data.update(changes)
    # A checkbox is sent only when ticked; None is an empty field.
    return {k: ("on" if v is True else "" if v is None else v) for k, v in data.items() if v is not False}


SETTINGS_SHOWN = (
    "timezone",
    "locale",
    "allowance_period",
    "allowance_employee",
    "allowance_lead",
    "allowance_manager",
    "low_balance_threshold",
    "leaver_policy",
    "leaver_forfeit_days",
    "leaderboard_enabled",
)


def test_the_settings_page_is_for_managers_and_logs_each_change(client, tenant, manager, employee):
    client.force_login(employee)
    assert client.get("/manage/settings/").status_code == 403
    client.force_login(manager)
    assert client.get("/manage/settings/").status_code == 200
    response = client.post("/manage/settings/", _settings_post(tenant, allowance_employee=100, timezone="Asia/Kolkata"))
    assert response.status_code == 302
    tenant.refresh_from_db()
    assert (tenant.allowance_employee, tenant.timezone) == (100, "Asia/Kolkata")
    assert set(SettingsChangeLog.objects.values_list("field", flat=True)) == {"allowance_employee", "timezone"}
    bad = client.post("/manage/settings/", _settings_post(tenant, timezone="Nowhere/Land"))
    assert bad.status_code == 400 and "Unknown time zone" in bad.content.decode()
    tenant.refresh_from_db()
    assert tenant.timezone == "Asia/Kolkata"


def test_managers_add_and_deactivate_values_on_the_settings_page(client, tenant, manager):
    client.force_login(manager)
    client.post("/manage/settings/values/", {"name": "Ownership", "hashtag": "#ownership"})
    value = CompanyValue.objects.get()
    assert (value.name, value.hashtag, value.is_active) == ("Ownership", "ownership", True)
    client.post(f"/manage/settings/values/{value.pk}/", {"name": "Ownership", "hashtag": "ownership"})
    value.refresh_from_db()
    assert value.is_active is False
    assert "Ownership" in client.get("/manage/settings/").content.decode()


def test_an_employee_gives_points_from_the_allowance_on_the_recognise_page(
    client, programme, manager, employee, other_employee
):
    value = value_create(actor=manager, name="Ownership", hashtag="ownership")
    client.force_login(employee)
    page = client.get("/recognize/").content.decode()
    assert "100</strong> of 100 points left" in page and "Ownership #ownership" in page
    response = client.post(
        "/recognize/",
        {
            "recipients": [str(other_employee.pk)],
            "points": "30",
            "message": "Thanks",
            "values": [str(value.pk)],
            "form_token": "t1",
        },
        follow=True,
    )
    assert "from your allowance" in response.content.decode()
    assert "70</strong> of 100 points left" in response.content.decode()
    assert wallet_balance(other_employee) == 30 and pool(programme) == 49_970
    assert AllowanceUsage.objects.get(user=employee).given == 30
    assert RecognitionValue.objects.get().value_id == value.pk


def test_react_comment_and_add_on_from_the_feed(client, programme, manager, employee, other_employee, award):
    group = award(manager, other_employee, 10)
    client.force_login(employee)
    feed = client.get("/feed/").content.decode()
    assert "feed-card" in feed and "avatar" in feed
    client.post(f"/feed/{group.group_id}/react/", {"emoji": "🎉", "next": "/feed/"})
    assert Reaction.objects.filter(user=employee, emoji="🎉").count() == 1
    client.post(f"/feed/{group.group_id}/react/", {"emoji": "🎉", "next": "/feed/"})
    assert Reaction.objects.count() == 0  # toggled off
    client.post(f"/feed/{group.group_id}/comment/", {"text": "Well done!", "next": "/feed/"})
    assert "Well done!" in client.get("/feed/").content.decode()
    client.post(f"/feed/{group.group_id}/add-on/", {"points": "15", "form_token": "a1", "next": "/feed/"})
    client.post(f"/feed/{group.group_id}/add-on/", {"points": "15", "form_token": "a1", "next": "/feed/"})
    assert wallet_balance(other_employee) == 25  # the double click added once
    assert "+15" in client.get("/feed/").content.decode()


def test_a_manager_hides_a_comment_and_only_the_author_deletes(
    client, programme, manager, employee, other_employee, award
):
    group = award(manager, other_employee, 10)
    comment = comment_create(author=employee, recognition_id=group.group_id, text="Secret text")
    client.force_login(other_employee)
    client.post(f"/feed/comments/{comment.pk}/delete/", {"next": "/feed/"})
    assert Comment.objects.filter(pk=comment.pk).exists()
    assert client.post(f"/feed/comments/{comment.pk}/hide/", {"next": "/feed/"}).status_code == 403
    client.force_login(manager)
    client.post(f"/feed/comments/{comment.pk}/hide/", {"next": "/feed/", "hidden": "1"})
    assert "Secret text" not in client.get("/feed/").content.decode()
    client.force_login(employee)
    client.post(f"/feed/comments/{comment.pk}/delete/", {"next": "/feed/"})
    assert not Comment.objects.filter(pk=comment.pk).exists()
