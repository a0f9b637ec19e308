"""A table of bad inputs for every money endpoint: each is answered 400 or 404 and nothing moves."""

from __future__ import annotations

import json

import pytest

from points.tests.test_api import (
    ALLOCATE,
    AWARD,
    DELEGATE,
    DISTRIBUTE,
    RECALL,
    books,
    clawback_path,
    client_for,
)

UNKNOWN = "9d1c6f5e-0000-4000-8000-000000000000"

# endpoint: (who calls it, its amount fields, its id fields (in the body), its required fields)
ENDPOINTS = {
    "allocate": ("platform_admin", ["amount"], ["tenant_id"], ["tenant_id", "amount"]),
    "delegate": ("manager", ["amount"], ["lead_id"], ["lead_id", "amount"]),
    "recall": ("manager", ["amount"], ["lead_id"], ["lead_id"]),
    "award": ("manager", ["amount"], ["to_user_id"], ["to_user_id", "amount", "recognition_message"]),
    "distribute": ("manager", ["amount_per_user"], [], ["amount_per_user", "recognition_message"]),
    "clawback": ("platform_admin", ["amount"], [], ["reason"]),
}

BAD_AMOUNTS = {
    "negative": -5,
    "negative string": "-5",
    "zero": 0,
    "fraction": 1.5,
    "fraction string": "1.5",
    "float whole": 10.0,
    "huge": 10**12,
    "huger than 64 bits": 10**30,
    "over the cap by one": 1_000_000_001,
    "word": "ten",
    "empty string": "",
    "exponent string": "1e3",
    "null": None,
    "true": True,
    "false": False,
    "list": [10],
    "object": {"amount": 10},
}
BAD_IDS = {
    "not a uuid": ("nope", 400),
    "number": (12, 400),
    "null": (None, 400),
    "list": ([UNKNOWN], 400),
    "unknown uuid": (UNKNOWN, 404),
}


def _cases():
    for endpoint, (_, amounts, ids, required) in ENDPOINTS.items():
        for field in amounts:
            for name, value in BAD_AMOUNTS.items():
                yield pytest.param(endpoint, field, value, 400, id=f"{endpoint}-{field}-{name}")
        for field in ids:
            for name, (value, status) in BAD_IDS.items():
                yield pytest.param(endpoint, field, value, status, id=f"{endpoint}-{field}-{name}")
        for field in required:
            yield pytest.param(endpoint, field, MISSING, 400, id=f"{endpoint}-{field}-missing")


MISSING = object()


@pytest.fixture
def world(funded_lead, manager, employee, platform_admin):
    return {
        "tenant": funded_lead.tenant,
        "lead": funded_lead,
        "employee": employee,
        "manager": manager,
        "platform_admin": platform_admin,
    }


def valid_request(endpoint: str, world: dict) -> tuple[str, dict]:
    tenant, lead, employee = world["tenant"], world["lead"], world["employee"]
    return {
        "allocate": (ALLOCATE, {"tenant_id": str(tenant.pk), "amount": 10, "reference_note": "Invoice"}),
        "delegate": (DELEGATE, {"lead_id": str(lead.pk), "amount": 10, "delegation_note": "Q4"}),
        "recall": (RECALL, {"lead_id": str(lead.pk), "amount": 10, "note": "Q4"}),
        "award": (AWARD, {"to_user_id": str(employee.pk), "amount": 10, "recognition_message": "Thanks"}),
        "distribute": (DISTRIBUTE, {"amount_per_user": 10, "recognition_message": "Thanks"}),
        "clawback": (clawback_path(tenant.pk), {"reason": "Contract ended", "amount": 10}),
    }[endpoint]


@pytest.mark.parametrize(("endpoint", "field", "value", "status"), list(_cases()))
def test_bad_input_is_refused_and_nothing_moves(world, endpoint, field, value, status):
    who = ENDPOINTS[endpoint][0]
    path, body = valid_request(endpoint, world)
    if value is MISSING:
        body.pop(field)
    else:
        body[field] = value
    before = books()
    response = client_for(world[who]).post(path, body, format="json")
    assert response.status_code == status, response.json()
    if status == 400:
        assert list(response.json()) == [field], response.json()  # DRF's field map, naming the field
        assert isinstance(response.json()[field], list)
    else:
        assert response.json()["code"] == "not_found"
    assert books() == before


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_every_money_endpoint_works_with_the_valid_body_of_the_table(world, endpoint):
    """The table's baseline body is accepted, so each refusal above is due to its one bad field."""
    path, body = valid_request(endpoint, world)
    response = client_for(world[ENDPOINTS[endpoint][0]]).post(path, body, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["success"] is True


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{not json", "parse_error"),
        ('{"amount": 10,}', "parse_error"),
        ('{"amount": NaN}', "parse_error"),
        ("[1, 2]", None),
        ('"just a string"', None),
        ("", None),
    ],
)
def test_malformed_bodies_are_a_clean_400(world, endpoint, raw, code):
    path, _ = valid_request(endpoint, world)
    before = books()
    response = client_for(world[ENDPOINTS[endpoint][0]]).post(path, data=raw, content_type="application/json")
    assert response.status_code == 400
    body = response.json()
    if code:
        assert body["code"] == code
    else:
        assert body  # a field map: non_field_errors for a non-object, the required fields for an empty body
    assert books() == before


@pytest.mark.parametrize(
    ("endpoint", "field", "length"),
    [
        ("allocate", "reference_note", 501),
        ("delegate", "delegation_note", 501),
        ("recall", "note", 501),
        ("award", "recognition_message", 2001),
        ("distribute", "recognition_message", 2001),
        ("clawback", "reason", 501),
    ],
)
def test_over_long_texts_are_refused(world, endpoint, field, length):
    path, body = valid_request(endpoint, world)
    body[field] = "x" * length
    before = books()
    response = client_for(world[ENDPOINTS[endpoint][0]]).post(path, body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert books() == before


@pytest.mark.parametrize(
    ("endpoint", "field", "value"),
    [
        ("award", "recognition_message", "   "),
        ("award", "funding_source", "BANK"),
        ("award", "funding_source", None),
        ("distribute", "recognition_message", ""),
        ("distribute", "roles", []),
        ("distribute", "roles", ["platform_admin"]),
        ("distribute", "roles", "employee"),
        ("allocate", "currency", "RUPEES"),
        ("allocate", "tenant_id", ""),
    ],
)
def test_other_bad_fields_are_refused(world, endpoint, field, value):
    path, body = valid_request(endpoint, world)
    body[field] = value
    before = books()
    response = client_for(world[ENDPOINTS[endpoint][0]]).post(path, body, format="json")
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert books() == before


def test_form_encoded_bodies_work_like_json(world):
    """Browsable-API and curl `-d` clients send forms: numeric strings are accepted, figures the same."""
    response = client_for(world["manager"]).post(
        AWARD,
        {"to_user_id": str(world["employee"].pk), "amount": "7", "recognition_message": "Thanks"},
        format="multipart",
    )
    assert response.status_code == 200
    assert response.json()["amount_awarded"] == 7
    assert response.json()["recipient_new_wallet_balance"] == 7


@pytest.mark.parametrize(
    ("endpoint", "extra"),
    [
        ("award", {"funding_souce": "LEAD_BUDGET"}),  # a typo must not let the default source pay
        ("award", {"tenant_id": "OTHER"}),  # the caller's tenant never comes from the body
        ("delegate", {"tenant": "OTHER", "note": "Q4"}),
        ("distribute", {"tenant_id": "OTHER"}),
        ("recall", {"delegation_note": "wrong endpoint's name"}),
        ("allocate", {"points_allocation_balance": 1_000_000}),
        ("clawback", {"tenant_id": "OTHER"}),
    ],
)
def test_unknown_fields_are_refused_by_name(world, other_tenant, allocate, endpoint, extra):
    allocate(other_tenant, 5_000)
    extra = {k: (str(other_tenant.pk) if v == "OTHER" else v) for k, v in extra.items()}
    path, body = valid_request(endpoint, world)
    body.update(extra)
    before = books()
    response = client_for(world[ENDPOINTS[endpoint][0]]).post(path, json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {name: ["Unknown or read-only field."] for name in extra if name not in VALID[endpoint]}
    assert books() == before


VALID = {
    "allocate": {"tenant_id", "amount", "reference_note", "currency"},
    "delegate": {"lead_id", "amount", "delegation_note"},
    "recall": {"lead_id", "amount", "note"},
    "award": {"to_user_id", "amount", "recognition_message", "funding_source"},
    "distribute": {"amount_per_user", "recognition_message", "roles"},
    "clawback": {"reason", "amount"},
}
