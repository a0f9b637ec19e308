"""/api/v1/automation/: rules and runs, managers only; the feed and the recognitions API show the company."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from automation import services
from people.services import profile_update
from tenants.tests.factories import UserFactory

RULES = "/api/v1/automation/rules/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.django_db
def test_rules_list_shows_the_defaults_switched_off_and_patch_changes_one(manager):
    api = client_for(manager)
    listed = api.get(RULES).json()
    assert [r["kind"] for r in listed] == ["BIRTHDAY", "ANNIVERSARY", "NEW_HIRE"]
    assert not any(r["is_active"] for r in listed)
    assert listed[1]["milestones"] == {"1": 100, "3": 300, "5": 1000, "10": 2500}

    response = api.patch(
        f"{RULES}ANNIVERSARY/", {"is_active": True, "milestones": {"5": 1000, "1": "100"}}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["milestones"] == {"1": 100, "5": 1000} and response.json()["is_active"] is True
    assert api.get(RULES).json()[1]["is_active"] is True


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"points": 0}, "points"),
        ({"points": 1.5}, "points"),
        ({"message_template": "Hi {secret}"}, "message_template"),
        ({"days_after_hire": -1}, "days_after_hire"),
        ({"giver": "me"}, "giver"),
    ],
)
def test_bad_rule_input_is_refused_by_field(manager, body, field):
    response = client_for(manager).patch(f"{RULES}BIRTHDAY/", body, format="json")
    assert response.status_code == 400
    payload = response.json()
    assert field in payload or payload.get("field") == field


@pytest.mark.django_db
def test_only_managers(employee, lead):
    for user in (employee, lead):
        assert client_for(user).get(RULES).status_code == 403
        assert client_for(user).patch(f"{RULES}BIRTHDAY/", {"is_active": True}, format="json").status_code == 403
    assert APIClient().get("/api/v1/automation/runs/").status_code == 401


@pytest.mark.django_db
def test_an_unknown_kind_is_404(manager):
    assert client_for(manager).patch(f"{RULES}HOLIDAY/", {"is_active": True}, format="json").status_code == 404


@pytest.mark.django_db
def test_the_feed_and_the_api_show_the_company_as_giver(client, funded_tenant, manager, employee, password):
    services.rule_update(actor=manager, kind="BIRTHDAY", is_active=True, points=100)
    profile_update(user=employee, actor=None, birthday=(6, 15), birthday_consent=True)
    services.run_for_tenant(tenant_id=funded_tenant.pk, day=dt.date(2026, 6, 15))

    [item] = client_for(employee).get("/api/v1/recognitions/").json()["results"]
    assert item["giver_id"] is None and item["giver_name"] == funded_tenant.name and item["automated"] is True
    assert item["points"] == 100

    client.force_login(employee)
    page = client.get("/feed/").content.decode()
    assert f"From <strong>{funded_tenant.name}</strong> to" in page

    runs = client_for(manager).get("/api/v1/automation/runs/").json()["results"]
    assert [(r["run_date"], r["status"], r["paid"]) for r in runs] == [("2026-06-15", "PAID", 1)]
    other = UserFactory()
    assert (
        client_for(UserFactory(tenant=other.tenant, role="tenant_manager"))
        .get("/api/v1/automation/runs/")
        .json()["results"]
        == []
    )
