"""The shared input fields (perksu/api/fields.py) and the OpenAPI contract of the points endpoints."""

from __future__ import annotations

import uuid

import pytest
import yaml
from rest_framework import serializers
from rest_framework.test import APIClient

from perksu.api.fields import MAX_AMOUNT, AmountField, IdField, OptionalAmountField


class Sample(serializers.Serializer):
    amount = AmountField()
    optional = OptionalAmountField()
    points = AmountField(min_value=0)
    id = IdField(required=False)


def parse(**data):
    serializer = Sample(data={"amount": 1, "points": 0, **data})
    if serializer.is_valid():
        return serializer.validated_data
    return serializer.errors


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, 1),
        (MAX_AMOUNT, MAX_AMOUNT),
        ("10", 10),
        (" 10 ", 10),
        ("+10", 10),
        ("007", 7),
    ],
)
def test_amounts_accept_whole_numbers_and_numeric_strings(value, expected):
    assert parse(amount=value)["amount"] == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "Ensure this value is greater than or equal to 1."),
        (-1, "Ensure this value is greater than or equal to 1."),
        ("-1", "Ensure this value is greater than or equal to 1."),
        (MAX_AMOUNT + 1, "Ensure this value is less than or equal to 1000000000."),
        (2**63, "Ensure this value is less than or equal to 1000000000."),
        (1.5, "A whole number of points is required."),
        (1.0, "A whole number of points is required."),
        ("1.5", "A whole number of points is required."),
        ("1.0", "A whole number of points is required."),
        ("1e3", "A whole number of points is required."),
        ("0x10", "A whole number of points is required."),
        ("١٠", "A whole number of points is required."),  # Arabic-Indic digits: int() would take them
        ("1_000", "A whole number of points is required."),  # int() would take this too
        ("", "A whole number of points is required."),
        ("9" * 5000, "A whole number of points is required."),
        (True, "A whole number of points is required."),
        (False, "A whole number of points is required."),
        ([1], "A whole number of points is required."),
        ({"n": 1}, "A whole number of points is required."),
        (None, "This field may not be null."),
        (float("nan"), "A whole number of points is required."),
        (float("inf"), "A whole number of points is required."),
    ],
)
def test_amounts_refuse_everything_else(value, message):
    assert parse(amount=value) == {"amount": [message]}


def test_amount_variants():
    assert parse() == {"amount": 1, "points": 0}  # optional omitted, kudos points 0 allowed
    assert parse(optional="5")["optional"] == 5
    assert parse(optional=None) == {"optional": ["This field may not be null."]}
    assert parse(optional=0) == {"optional": ["Ensure this value is greater than or equal to 1."]}
    assert parse(points=-1) == {"points": ["Ensure this value is greater than or equal to 0."]}
    serializer = Sample(data={})
    assert serializer.is_valid() is False
    assert set(serializer.errors) == {"amount", "points"}


def test_ids_are_uuid_strings_only():
    value = uuid.uuid4()
    assert parse(id=str(value))["id"] == value
    assert parse(id=str(value).upper())["id"] == value
    for bad in (12, 1.5, True, [str(value)], "nope", ""):
        assert list(parse(id=bad)) == ["id"], bad


# --- the OpenAPI contract ------------------------------------------------------------------------------------------

SPEC_FIELDS = {
    # path: (request fields, required request fields, 200 response fields of SPEC §6)
    "/api/v1/points/allocate-to-tenant/": (
        {"tenant_id", "amount", "reference_note", "currency"},
        {"tenant_id", "amount"},
        {
            "success",
            "tenant_id",
            "amount_allocated",
            "new_allocation_balance",
            "currency",
            "allocation_log_id",
            "platform_log_id",
        },
    ),
    "/api/v1/points/delegate-to-lead/": (
        {"lead_id", "amount", "delegation_note"},
        {"lead_id", "amount"},
        {"success", "tenant_id", "lead_id", "amount_delegated", "lead_new_balance", "tenant_remaining_balance"},
    ),
    "/api/v1/points/recall-from-lead/": (
        {"lead_id", "amount", "note"},
        {"lead_id"},
        {"success", "tenant_id", "lead_id", "amount_recalled", "lead_new_balance", "tenant_remaining_balance"},
    ),
    "/api/v1/points/award-to-user/": (
        {"to_user_id", "amount", "recognition_message", "funding_source"},
        {"to_user_id", "amount", "recognition_message"},
        {
            "success",
            "tenant_id",
            "to_user_id",
            "amount_awarded",
            "recipient_new_wallet_balance",
            "tenant_remaining_pool",
            "funding_source",
            "recognition_id",
            "ledger_entry_id",
        },
    ),
    "/api/v1/points/distribute/": (
        {"amount_per_user", "recognition_message", "roles"},
        {"amount_per_user", "recognition_message"},
        {"success", "tenant_id", "recipients", "amount_per_user", "total_awarded", "tenant_remaining_pool", "group_id"},
    ),
    "/api/v1/points/clawback/{tenant_id}/": (
        {"reason", "amount"},
        {"reason"},
        {"success", "tenant_id", "amount_clawed_back", "new_balance", "platform_log_id", "reason"},
    ),
}
EXTRA_RESPONSE_FIELDS = {"delegation_log_id", "lead_remaining_budget", "allocation_log_id"}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/")
    assert response.status_code == 200
    return yaml.safe_load(response.content)


def _component(schema, ref_holder):
    ref = ref_holder["$ref"].rsplit("/", 1)[-1]
    return schema["components"]["schemas"][ref]


@pytest.mark.parametrize("path", list(SPEC_FIELDS))
def test_the_schema_documents_the_spec_fields(schema, path):
    request_fields, required, response_fields = SPEC_FIELDS[path]
    operation = schema["paths"][path]["post"]
    body = _component(schema, operation["requestBody"]["content"]["application/json"]["schema"])
    assert set(body["properties"]) == request_fields
    assert set(body.get("required", [])) == required
    ok = _component(schema, operation["responses"]["200"]["content"]["application/json"]["schema"])
    assert response_fields <= set(ok["properties"])
    assert set(ok["properties"]) - response_fields <= EXTRA_RESPONSE_FIELDS
    assert {"400", "401", "403", "404", "409", "422"} <= set(operation["responses"])
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in operation["parameters"])
    assert operation["summary"]
    amount_fields = [f for f in ("amount", "amount_per_user") if f in body["properties"]]
    for field in amount_fields:
        assert body["properties"][field]["type"] == "integer"
        assert body["properties"][field]["minimum"] == 1
        assert body["properties"][field]["maximum"] == MAX_AMOUNT


def test_the_schema_documents_the_lists_and_their_filters(schema):
    params = {p["name"] for p in schema["paths"]["/api/v1/points/allocation-logs/"]["get"]["parameters"]}
    assert {"tenant_id", "kind", "created_at_after", "created_at_before", "page", "page_size"} <= params
    params = {p["name"] for p in schema["paths"]["/api/v1/points/billing-logs/"]["get"]["parameters"]}
    assert {"tenant_id", "transaction_type", "created_at_after", "created_at_before"} <= params
    params = {p["name"] for p in schema["paths"]["/api/v1/points/liability/"]["get"]["parameters"]}
    assert {"tenant_id", "from", "to"} <= params
    stats = schema["paths"]["/api/v1/points/tenant-allocation-stats/"]["get"]
    card = _component(schema, stats["responses"]["200"]["content"]["application/json"]["schema"])
    assert set(card["properties"]) == {
        "tenant_id",
        "tenant_name",
        "points_allocation_balance",
        "currency",
        "currency_label",
        "status",
        "balance_status",
        "message",
        "low_balance_threshold",
        "delegated_outstanding",
        "wallets_outstanding",
    }
