"""The award's plain validator (`points.serializers.award_input`) against `AwardInput` itself.

The award's body is checked in plain Python when it is unmistakably valid; anything else goes to the
serializer. Either way the result must be the serializer's: the same validated data, or the same
field map. Here every generated body goes through both, and the bad-input table runs again over HTTP
with a real Bearer token (the path the API's clients and the bench take).
"""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import serializers
from rest_framework.test import APIClient

from identity.services import api_token_issue
from perksu.api.fields import MAX_AMOUNT, valid
from points import serializers as point_serializers
from points.serializers import AwardInput, award_input
from points.tests.test_api import AWARD, books
from points.tests.test_api_inputs import BAD_AMOUNTS, BAD_IDS, MISSING
from recognition.services import MAX_MESSAGE_LENGTH

UUIDS = st.one_of(
    st.uuids().map(str),
    st.uuids().map(lambda u: u.hex),
    st.uuids().map(lambda u: "{" + str(u).upper() + "}"),
    st.uuids().map(lambda u: f"urn:uuid:{u}"),
    st.uuids().map(lambda u: " " + str(u)),
    st.text(max_size=40),
    st.integers(),
    st.none(),
)
AMOUNTS = st.one_of(
    st.integers(min_value=-3, max_value=3),
    st.integers(min_value=MAX_AMOUNT - 2, max_value=MAX_AMOUNT + 2),
    st.integers(),
    st.booleans(),
    st.floats(allow_nan=False),
    st.sampled_from(["10", " 7 ", "1.5", "", "ten", "1e3"]),
    st.none(),
    st.lists(st.integers(), max_size=2),
)
TEXTS = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-16", exclude_categories=[]), max_size=10),
    st.sampled_from(["  Thanks  ", "\t\n", "", "a\x00b", "x\ud800y", "x" * MAX_MESSAGE_LENGTH]),
    st.sampled_from([" " + "x" * MAX_MESSAGE_LENGTH + " ", "x" * (MAX_MESSAGE_LENGTH + 1)]),
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.lists(st.text(max_size=3), max_size=2),
)
SOURCES = st.one_of(
    st.sampled_from(["POOL", "pool", "Lead_Budget", "LEAD_BUDGET", "BANK", "", "ALLOWANCE"]),
    st.text(max_size=12),
    st.none(),
    st.integers(),
)
FIELDS = {"to_user_id": UUIDS, "amount": AMOUNTS, "recognition_message": TEXTS, "funding_source": SOURCES}


@st.composite
def bodies(draw):
    body = {name: draw(values) for name, values in FIELDS.items() if draw(st.booleans()) or name != "funding_source"}
    for name in draw(st.lists(st.sampled_from(list(FIELDS)), max_size=2)):
        body.pop(name, None)
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        body[draw(st.sampled_from(["funding_souce", "tenant_id", "Amount"]))] = draw(st.text(max_size=5))
    return body


def outcome(function, data):
    try:
        return "valid", dict(function(data))
    except serializers.ValidationError as exc:
        return "refused", exc.detail


@settings(max_examples=600, deadline=None)
@given(bodies())
def test_award_input_agrees_with_the_serializer(body):
    assert outcome(award_input, body) == outcome(lambda data: valid(AwardInput, data), body)


@pytest.mark.parametrize(
    "body",
    [
        {"to_user_id": str(uuid.uuid4()), "amount": 1, "recognition_message": "Thanks"},
        {
            "to_user_id": str(uuid.uuid4()),
            "amount": MAX_AMOUNT,
            "recognition_message": " Thanks ",
            "funding_source": "pool",
        },
        {"to_user_id": str(uuid.uuid4()).upper(), "amount": 5, "recognition_message": "x" * MAX_MESSAGE_LENGTH},
    ],
)
def test_the_plain_path_takes_the_common_bodies(monkeypatch, body):
    """The common bodies never reach the serializer (else the plain path would save nothing), and agree with it."""
    expected = valid(AwardInput, body)

    def refuse(*args, **kwargs):
        raise AssertionError("the serializer ran")

    monkeypatch.setattr(point_serializers, "valid", refuse)
    assert award_input(body) == dict(expected)


@pytest.mark.parametrize("body", [[1, 2], "text", None, {"to_user_id": None}])
def test_what_is_not_an_award_body_goes_to_the_serializer(body):
    with pytest.raises(serializers.ValidationError) as caught:
        award_input(body)
    with pytest.raises(serializers.ValidationError) as expected:
        valid(AwardInput, body)
    assert caught.value.detail == expected.value.detail


def _bad_bodies():
    for name, value in BAD_AMOUNTS.items():
        yield pytest.param("amount", value, 400, id=f"amount-{name}")
    for name, (value, status) in BAD_IDS.items():
        yield pytest.param("to_user_id", value, status, id=f"to_user_id-{name}")
    for field in ("to_user_id", "amount", "recognition_message"):
        yield pytest.param(field, MISSING, 400, id=f"{field}-missing")
    yield pytest.param("recognition_message", "   ", 400, id="message-blank")
    yield pytest.param("recognition_message", "x" * (MAX_MESSAGE_LENGTH + 1), 400, id="message-too-long")
    yield pytest.param("recognition_message", "x\ud800", 400, id="message-surrogate")
    yield pytest.param("funding_source", "BANK", 400, id="source-unknown")
    yield pytest.param("funding_source", None, 400, id="source-null")
    yield pytest.param("funding_souce", "LEAD_BUDGET", 400, id="unknown-field")


@pytest.mark.parametrize(("field", "value", "status"), list(_bad_bodies()))
def test_bad_award_bodies_over_a_bearer_token(funded_lead, manager, employee, field, value, status):
    """The bad-input table through real token authentication: the serializer's field map (or 404), nothing moves."""
    _, secret = api_token_issue(user=manager)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    body = {"to_user_id": str(employee.pk), "amount": 10, "recognition_message": "Thanks"}
    if value is MISSING:
        body.pop(field)
    else:
        body[field] = value
    before = books()
    # As a client's JSON encoder writes it (ASCII, so a lone surrogate travels as its escape).
    response = client.post(AWARD, json.dumps(body), content_type="application/json")
    assert response.status_code == status, response.json()
    if status == 400:
        serializer = AwardInput(data=body)
        assert not serializer.is_valid()
        assert response.json() == serializer.errors
    else:
        assert response.json()["code"] == "not_found"
    assert books() == before
