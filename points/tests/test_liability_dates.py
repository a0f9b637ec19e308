"""A roll-forward over days the calendar cannot hold is a 400 (API) or a form error (console), not a 500."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

LIABILITY = "/api/v1/points/liability/"


@pytest.fixture
def api(platform_admin):
    client = APIClient()
    client.force_authenticate(platform_admin)
    return client


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-01-01", "to": "9999-12-31"}, "to"),
        ({"from": "9999-12-30", "to": "9999-12-31"}, "from"),
        ({"from": "0001-01-01", "to": "2026-01-01"}, "from"),
    ],
)
def test_out_of_range_days_are_a_400_naming_the_field(api, funded_tenant, query, field):
    response = api.get(LIABILITY, query)
    assert response.status_code == 400
    assert response.json() == {field: ["Choose a date from 1900-01-01 to 9998-12-31."]}


def test_the_last_allowed_days_still_roll_forward(api, funded_tenant, manager):
    response = api.get(LIABILITY, {"from": "1900-01-01", "to": "9998-12-31"})
    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert row["roll_forward"]["allocated"] == 50_000
    assert row["roll_forward"]["closing"] == 50_000
    mine = APIClient()
    mine.force_authenticate(manager)
    assert mine.get(LIABILITY, {"from": "2026-01-01", "to": "9999-12-31"}).status_code == 400


def test_console_roll_forward_out_of_range_is_a_form_error(client, platform_admin, funded_tenant):
    client.force_login(platform_admin)
    response = client.get("/admin/liability/", {"date_from": "9999-12-25", "date_to": "9999-12-31"})
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "date_from": ["Choose a date from 1900-01-01 to 9998-12-31."],
    }
    assert response.context["roll"] == []
