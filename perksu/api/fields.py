"""Input fields shared by the API's serializers.

`AmountField` is the one way an amount of points enters the API (SPEC §3):
a whole number `1 ≤ amount ≤ 1,000,000,000`. JSON integers and numeric
strings (`10`, `"10"`) are accepted; everything else is refused with DRF's
field map (`{"amount": ["..."]}`): fractions (`1.5`, `"1.5"`, and also `1.0`
— points have no fractional part, so a float on the wire is a client bug),
booleans (Python would read `true` as 1), null, lists, objects, and numbers
out of range.
"""

from __future__ import annotations

import re

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

MAX_AMOUNT = 1_000_000_000
_NUMERIC_STRING = re.compile(r"[+-]?[0-9]{1,30}")


class AmountField(serializers.IntegerField):
    """A strict whole number of points, `1..1,000,000,000` unless told otherwise.

    `AmountField(min_value=0)` for a recognition's `points` (0 = kudos);
    `AmountField(required=False)` (or `OptionalAmountField()`) where the amount
    may be omitted (recall, clawback: "all of it"). Null is never an amount.
    """

    default_error_messages = {
        "invalid": "A whole number of points is required.",
        "max_string_length": "A whole number of points is required.",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_AMOUNT)
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> int:
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, int):
            return data
        if isinstance(data, str):
            text = data.strip()
            if _NUMERIC_STRING.fullmatch(text):
                return int(text)
        self.fail("invalid")


class OptionalAmountField(AmountField):
    """An amount that may be omitted (the service then takes its default, e.g. the whole balance)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)


class IdField(serializers.UUIDField):
    """A UUID id, as a JSON string only.

    DRF's UUIDField also turns a JSON number into a UUID (`12` →
    `00000000-…-00000000000c`), which would answer a typo with a confusing 404;
    here anything but a string is a 400 in the field map.
    """

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class StrictInput(serializers.Serializer):
    """An input serializer that refuses fields it does not know instead of silently ignoring them.

    On a money endpoint an ignored field is a wrong movement: a misspelt
    `funding_souce` would let the default source pay, a `tenant_id` in a
    manager's body would look honoured. Each unknown field gets its own entry
    in the field map: `{"funding_souce": ["Unknown or read-only field."]}`.
    """

    def validate(self, attrs):
        known = set(self.fields)
        data = getattr(self, "initial_data", None)
        unknown = sorted(set(data) - known) if hasattr(data, "keys") else []
        if unknown:
            raise serializers.ValidationError({name: ["Unknown or read-only field."] for name in unknown})
        return super().validate(attrs)


def valid(serializer_class: type[serializers.Serializer], data) -> dict:
    """Validate `data` with an input serializer; a failure is DRF's field-map 400."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def choice_field(choices, *, enum_id: str, **kwargs) -> serializers.ChoiceField:
    """A ChoiceField whose OpenAPI enum is named after its serializer (`TenantOutputStatusEnum`).

    `status`, `role` and `funding_source` mean different choice sets on different resources;
    a distinct `enum_id` per use keeps drf-spectacular from merging them under one ambiguous
    name. Give each use (including a subclass that re-declares the field) its own id.
    """
    schema = {"type": "string", "enum": [value for value, _ in choices], "x-spec-enum-id": enum_id}
    field_class = extend_schema_field(schema)(type("DocumentedChoiceField", (serializers.ChoiceField,), {}))
    return field_class(choices=choices, **kwargs)
