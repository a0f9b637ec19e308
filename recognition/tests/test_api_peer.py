"""Peer recognition over HTTP (SPEC §9, §10): settings, allowances, values, reactions,
comments, add-ons and the feed of cards — the figures and the refusals a client sees."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from points.tests.books import books, pool, wallet_balance
from recognition.engagement import comment_create, value_create
from recognition.models import Comment, Reaction, Recognition
from tenants.models import SettingsChangeLog, Tenant
from tenants.tests.factories import UserFactory

V1 = "/api/v1"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def programme(funded_tenant):
    Tenant.objects.filter(pk=funded_tenant.pk).update(allowance_employee=100)
    funded_tenant.refresh_from_db()
    return funded_tenant


# Settings (§9).


def test_a_manager_reads_and_changes_the_settings_and_each_change_is_logged(tenant, manager):
    client = client_for(manager)
    body = client.get(f"{V1}/tenant/settings/").json()
    assert (body["timezone"], body["locale"], body["allowance_period"], body["allowance_employee"]) == (
        "UTC",
        "en",
        "MONTH",
        0,
    )
    response = client.patch(
        f"{V1}/tenant/settings/",
        {"timezone": "Asia/Kolkata", "locale": "en-IN", "allowance_employee": 100, "require_value": True},
    )
    assert response.status_code == 200, response.json()
    assert response.json()["timezone"] == "Asia/Kolkata" and response.json()["allowance_employee"] == 100
    logs = {log.field: (log.old_value, log.new_value, log.actor_id) for log in SettingsChangeLog.objects.all()}
    assert logs == {
        "timezone": ("UTC", "Asia/Kolkata", manager.pk),
        "locale": ("en", "en-IN", manager.pk),
        "allowance_employee": ("0", "100", manager.pk),
        "require_value": ("False", "True", manager.pk),
    }
    # The same values again change nothing and log nothing.
    client.patch(f"{V1}/tenant/settings/", {"timezone": "Asia/Kolkata"})
    assert SettingsChangeLog.objects.count() == 4


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"locale": "xx-YY"}, "locale"),
        ({"allowance_employee": -1}, "allowance_employee"),
        ({"allowance_lead": 1.5}, "allowance_lead"),
        ({"allowance_period": "YEAR"}, "allowance_period"),
        ({"max_award_points": 0}, "max_award_points"),
        ({"pool": 5}, "pool"),
    ],
)
def test_a_bad_setting_is_a_400_naming_the_field_and_changes_nothing(tenant, manager, body, field):
    response = client_for(manager).patch(
        f"{V1}/tenant/settings/", {**body, "locale": "en-IN"} if field != "locale" else body
    )
    assert response.status_code == 400
    assert field in response.json()
    tenant.refresh_from_db()
    assert tenant.locale == "en" and SettingsChangeLog.objects.count() == 0


# Allowances.


def test_an_employee_gives_from_the_allowance_and_sees_it_fall(programme, employee, other_employee):
    client = client_for(employee)
    before = client.get(f"{V1}/allowances/me/").json()
    assert (before["limit"], before["given"], before["remaining"]) == (100, 0, 100)
    response = client.post(
        f"{V1}/recognitions/", {"to_user_id": str(other_employee.pk), "points": 30, "message": "Thanks!"}
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["funding_source"], body["allowance_remaining"], body["tenant_remaining_pool"]) == (
        "ALLOWANCE",
        70,
        49_970,
    )
    after = client.get(f"{V1}/allowances/me/").json()
    assert (after["given"], after["remaining"]) == (30, 70)
    assert after["period_start"] == before["period_start"] and after["resets_at"] == before["resets_at"]
    refused = client.post(
        f"{V1}/recognitions/", {"to_user_id": str(other_employee.pk), "points": 71, "message": "More"}
    )
    assert refused.status_code == 400
    assert {k: refused.json()[k] for k in ("code", "remaining", "required")} == {
        "code": "allowance_exceeded",
        "remaining": 70,
        "required": 71,
    }
    assert wallet_balance(other_employee) == 30 and pool(programme) == 49_970


def test_managers_list_every_members_allowance_and_boost_one(programme, manager, employee, other_employee):
    client = client_for(manager)
    response = client.post(f"{V1}/allowances/{employee.pk}/boost/", {"amount": 50, "reason": "Launch week"})
    assert response.status_code == 201, response.json()
    assert (response.json()["limit"], response.json()["remaining"], response.json()["amount"]) == (150, 150, 50)
    rows = {row["user_id"]: row for row in client.get(f"{V1}/allowances/").json()["results"]}
    assert (rows[str(employee.pk)]["limit"], rows[str(other_employee.pk)]["limit"]) == (150, 100)
    assert rows[str(manager.pk)]["limit"] == 0


# Values.


def test_values_by_id_or_hashtag_and_the_value_required_rule(programme, manager, employee, other_employee):
    ownership = value_create(actor=manager, name="Ownership", hashtag="Ownership")
    value_create(actor=manager, name="Candour", hashtag="candour")
    client = client_for(employee)
    listed = client.get(f"{V1}/values/").json()["results"]
    assert [v["hashtag"] for v in listed] == ["Ownership", "candour"]
    tagged = client.post(
        f"{V1}/recognitions/", {"to_user_id": str(other_employee.pk), "points": 5, "message": "Real #ownership here"}
    ).json()
    assert tagged["value_ids"] == [str(ownership.pk)]
    Tenant.objects.filter(pk=programme.pk).update(require_value=True)
    before = books()
    refused = client.post(f"{V1}/recognitions/", {"to_user_id": str(other_employee.pk), "points": 5, "message": "x"})
    assert refused.status_code == 400 and refused.json()["code"] == "value_required"
    assert books() == before
    kudos = client.post(f"{V1}/recognitions/", {"to_user_id": str(other_employee.pk), "points": 0, "message": "x"})
    assert kudos.status_code == 201  # kudos need no value
    named = client.post(
        f"{V1}/recognitions/",
        {"to_user_id": str(other_employee.pk), "points": 5, "message": "x", "values": [str(ownership.pk)]},
    )
    assert named.status_code == 201 and named.json()["value_ids"] == [str(ownership.pk)]


def test_at_most_three_values(programme, manager, employee, other_employee):
    values = [value_create(actor=manager, name=f"V{i}", hashtag=f"v{i}") for i in range(4)]
    response = client_for(employee).post(
        f"{V1}/recognitions/",
        {"to_user_id": str(other_employee.pk), "points": 0, "message": "#v0 #v1 #v2 #v3"},
    )
    assert response.status_code == 400 and response.json()["code"] == "too_many_values"
    assert len(values) == 4 and Recognition.objects.count() == 0


def test_only_managers_write_values_and_a_duplicate_hashtag_is_refused(tenant, manager, employee):
    assert client_for(employee).post(f"{V1}/values/", {"name": "A", "hashtag": "a"}).status_code == 403
    client = client_for(manager)
    assert client.post(f"{V1}/values/", {"name": "A", "hashtag": "#a"}).status_code == 201
    duplicate = client.post(f"{V1}/values/", {"name": "B", "hashtag": "A"})
    assert duplicate.status_code == 400 and duplicate.json()["field"] == "hashtag"


# Reactions and comments.


def test_reactions_toggle_and_count(programme, manager, employee, other_employee, award):
    group = award(manager, [employee, other_employee], 10)
    path = f"{V1}/recognitions/{group.recognitions[1].pk}/reactions/"
    assert client_for(employee).post(path, {"emoji": "🎉"}).json() == {"emoji": "🎉", "reacted": True, "count": 1}
    assert client_for(employee).post(path, {"emoji": "🎉"}).json()["count"] == 1  # once per member
    assert client_for(other_employee).post(path, {"emoji": "🎉"}).json()["count"] == 2
    assert client_for(employee).delete(path, {"emoji": "🎉"}).json() == {"emoji": "🎉", "reacted": False, "count": 1}
    assert client_for(employee).post(path, {"emoji": "🤡"}).status_code == 400
    assert Reaction.objects.filter(group_id=group.group_id).count() == 1


def test_comments_length_author_delete_and_manager_hide(programme, manager, employee, other_employee, award):
    group = award(manager, employee, 10)
    path = f"{V1}/recognitions/{group.recognitions[0].pk}/comments/"
    client = client_for(other_employee)
    assert client.post(path, {"text": ""}).status_code == 400
    assert client.post(path, {"text": "x" * 1001}).status_code == 400
    created = client.post(path, {"text": "x" * 1000})
    assert created.status_code == 201
    comment_id = created.json()["id"]
    assert client_for(employee).delete(f"{V1}/comments/{comment_id}/").status_code == 403
    assert client_for(employee).post(f"{V1}/comments/{comment_id}/hide/").status_code == 403
    hidden = client_for(manager).post(f"{V1}/comments/{comment_id}/hide/")
    assert hidden.status_code == 200 and hidden.json()["is_hidden"] and hidden.json()["text"] == ""
    assert client.get(path).json()[0]["text"] == ""
    assert client.delete(f"{V1}/comments/{comment_id}/").status_code == 204
    assert Comment.objects.count() == 0


# Add-ons.


def test_an_add_on_pays_the_same_recipients_as_a_child_of_the_group(
    programme, manager, employee, other_employee, award
):
    third = UserFactory(tenant=programme)
    original = award(manager, [employee, third], 50)
    response = client_for(other_employee).post(
        f"{V1}/recognitions/{original.recognitions[0].pk}/add-on/", {"points": 20}
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["parent_id"] == str(original.group_id)
    assert (body["total_points"], body["funding_source"], body["allowance_remaining"]) == (40, "ALLOWANCE", 60)
    assert (wallet_balance(employee), wallet_balance(third)) == (70, 70)
    refused = client_for(employee).post(f"{V1}/recognitions/{original.group_id}/add-on/", {"points": 5})
    assert refused.status_code == 400 and refused.json()["code"] == "self_recognition"


# The feed.


def test_the_feed_is_one_card_per_group_with_its_add_ons_values_reactions_and_comments(
    programme, manager, employee, other_employee, award
):
    value = value_create(actor=manager, name="Ownership", hashtag="ownership")
    group = award(manager, [employee, other_employee], 10, message="Shipped it #ownership")
    award(employee, other_employee, 5)
    client_for(other_employee).post(f"{V1}/recognitions/{group.group_id}/reactions/", {"emoji": "👏"})
    comment_create(author=other_employee, recognition_id=group.group_id, text="Thanks all")
    third = UserFactory(tenant=programme, full_name="Rahul Sharma")
    client_for(third).post(f"{V1}/recognitions/{group.group_id}/add-on/", {"points": 5, "message": "+5"})
    cards = client_for(employee).get(f"{V1}/feed/").json()["results"]
    assert len(cards) == 2  # the add-on shows under its original, not as a card
    card = next(c for c in cards if c["group_id"] == str(group.group_id))
    assert [p["name"] for p in card["recipients"]] == [employee.full_name, other_employee.full_name]
    assert card["values"] == [{"id": str(value.pk), "name": "Ownership", "hashtag": "ownership"}]
    assert {r["emoji"]: r["count"] for r in card["reactions"]}["👏"] == 1
    assert [c["text"] for c in card["comments"]] == ["Thanks all"]
    assert [(a["giver"]["name"], a["total_points"]) for a in card["add_ons"]] == [("Rahul Sharma", 10)]
    assert (card["giver"]["name"], card["giver"]["initials"]) == ("Maya Manager", "MM")
    by_value = client_for(employee).get(f"{V1}/feed/?value_id={value.pk}").json()["results"]
    assert [c["group_id"] for c in by_value] == [str(group.group_id)]
    given_by_me = client_for(employee).get(f"{V1}/feed/?giver_id={employee.pk}").json()["results"]
    assert len(given_by_me) == 1 and given_by_me[0]["giver"]["id"] == str(employee.pk)
    received = client_for(employee).get(f"{V1}/feed/?receiver_id={other_employee.pk}").json()["results"]
    assert len(received) == 2
    mine = client_for(third).get(f"{V1}/feed/?mine=1").json()["results"]
    assert mine == []


def test_the_feed_pages_by_keyset_without_gaps_or_repeats(programme, manager, employee, award):
    groups = [award(manager, employee, 1, message=f"n{i}").group_id for i in range(7)]
    client = client_for(employee)
    seen, url = [], f"{V1}/feed/?page_size=3"
    while url:
        body = client.get(url).json()
        seen += [c["group_id"] for c in body["results"]]
        url = body["next"]
    assert seen == [str(g) for g in reversed(groups)]
    assert len(seen) == len(set(seen)) == 7
    assert client.get(f"{V1}/feed/?cursor=nonsense").status_code == 400
