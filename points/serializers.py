"""Input and output serializers of the company-side API (`points/api.py`).

Inputs parse and validate shapes only; outputs render the figures a service returns.
"""

from __future__ import annotations

import re
import uuid

from rest_framework import serializers

from perksu.api.fields import AmountField, IdField, OptionalAmountField, StrictInput, valid
from recognition.models import Recognition
from recognition.services import MAX_MESSAGE_LENGTH
from tenants.models import TENANT_ROLES, Tenant

from .models import AllocationLog, DelegationLog, PlatformBillingLog
from .selectors import day_out_of_range

NOTE_LENGTH = 500


class FundingSourceField(serializers.ChoiceField):
    """`POOL` or `LEAD_BUDGET` (case-insensitive); omitted → the seed's rule picks one."""

    def __init__(self, **kwargs):
        sources = [Recognition.FundingSource.POOL, Recognition.FundingSource.LEAD_BUDGET]
        super().__init__(choices=[(s.value, s.label) for s in sources], **kwargs)

    def to_internal_value(self, data):
        return super().to_internal_value(data.upper() if isinstance(data, str) else data)


# --- Input ---------------------------------------------------------------------------------------------------------


class AllocateInput(StrictInput):
    tenant_id = IdField()
    amount = AmountField()
    reference_note = serializers.CharField(max_length=NOTE_LENGTH, required=False, allow_blank=True, default="")
    currency = serializers.RegexField(
        r"^[A-Za-z]{3}$", required=False, help_text="ISO 4217; must be the tenant's billing currency if given."
    )


class DelegateInput(StrictInput):
    lead_id = IdField()
    amount = AmountField()
    delegation_note = serializers.CharField(max_length=NOTE_LENGTH, required=False, allow_blank=True, default="")


class RecallInput(StrictInput):
    lead_id = IdField()
    amount = OptionalAmountField(help_text="Omitted: the lead's whole budget.")
    note = serializers.CharField(max_length=NOTE_LENGTH, required=False, allow_blank=True, default="")


class AwardInput(StrictInput):
    to_user_id = IdField()
    amount = AmountField()
    recognition_message = serializers.CharField(max_length=MAX_MESSAGE_LENGTH)
    funding_source = FundingSourceField(
        required=False, help_text="Omitted: the pool if you are a manager and it covers the award, else your budget."
    )


_AWARD_FIELDS = frozenset(AwardInput._declared_fields)
_AWARD_AMOUNT = AwardInput._declared_fields["amount"]
_AWARD_MESSAGE_LENGTH = AwardInput._declared_fields["recognition_message"].max_length
_AWARD_SOURCES = frozenset(AwardInput._declared_fields["funding_source"].choices)
_ABSENT = object()
_NOT_IN_TEXT = re.compile("[\x00\ud800-\udfff]")
"""What CharField's validators refuse: NUL and lone surrogates."""


def award_input(data) -> dict:
    """`AwardInput`'s validated data, with the common body checked in plain Python.

    The award is the API's hottest path, and DRF's validation (a deep copy of the
    serializer's fields per request, then each field's run) cost more CPU than
    the award's statement. A JSON object whose four fields are unmistakably
    valid — a UUID string, an `int` within the amount's bounds, a non-blank string
    within the message's length once trimmed, a known funding source —
    gives exactly what the serializer gives. Anything else, including what the
    serializer would still accept (a numeric string, a form body), goes to
    `AwardInput` itself, so every refusal is the serializer's own field map.
    `test_award_input_agrees_with_the_serializer` pins the equivalence.
    """
    if type(data) is dict and data.keys() <= _AWARD_FIELDS:
        to_user_id = data.get("to_user_id")
        amount = data.get("amount")
        message = data.get("recognition_message")
        source = data.get("funding_source", _ABSENT)
        if (
            type(to_user_id) is str
            and type(amount) is int
            and _AWARD_AMOUNT.min_value <= amount <= _AWARD_AMOUNT.max_value
            and type(message) is str
            and (source is _ABSENT or (type(source) is str and source.upper() in _AWARD_SOURCES))
        ):
            text = message.strip()
            if text and len(text) <= _AWARD_MESSAGE_LENGTH and not _NOT_IN_TEXT.search(text):
                try:
                    user_id = uuid.UUID(hex=to_user_id)
                except ValueError:
                    user_id = None
                if user_id is not None:
                    out = {"to_user_id": user_id, "amount": amount, "recognition_message": text}
                    if source is not _ABSENT:
                        out["funding_source"] = source.upper()
                    return out
    return valid(AwardInput, data)


class DistributeInput(StrictInput):
    amount_per_user = AmountField()
    recognition_message = serializers.CharField(max_length=MAX_MESSAGE_LENGTH)
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=[(r.value, r.label) for r in TENANT_ROLES]),
        required=False,
        allow_empty=False,
        max_length=len(TENANT_ROLES),
        help_text="Only members with these roles (omitted: every active member except you).",
    )


class ClawbackInput(StrictInput):
    reason = serializers.CharField(max_length=NOTE_LENGTH)
    amount = OptionalAmountField(help_text="Omitted: the whole pool (delegated budgets and wallets are never touched).")


class StatsQuery(serializers.Serializer):
    tenant_id = serializers.UUIDField(required=False)


class LiabilityQuery(serializers.Serializer):
    """`?tenant_id=` (platform), `?from=YYYY-MM-DD&to=YYYY-MM-DD` (inclusive) for the roll-forward."""

    def get_fields(self):
        # `from` is a Python keyword, so the fields are named here rather than as attributes.
        return {
            "tenant_id": serializers.UUIDField(required=False),
            "from": serializers.DateField(required=False),
            "to": serializers.DateField(required=False),
        }

    def validate(self, attrs):
        date_from, date_to = attrs.get("from"), attrs.get("to")
        for name, day in (("from", date_from), ("to", date_to)):
            problem = day and day_out_of_range(day)
            if problem:
                raise serializers.ValidationError({name: [problem]})
        if (date_from is None) != (date_to is None):
            missing = "to" if date_to is None else "from"
            raise serializers.ValidationError({missing: ["Give both `from` and `to` (YYYY-MM-DD) for a roll-forward."]})
        if date_from and date_from > date_to:
            raise serializers.ValidationError({"to": ["`to` must not be before `from`."]})
        return attrs


# --- Output --------------------------------------------------------------------------------------------------------


class AllocateOutput(serializers.Serializer):
    success = serializers.BooleanField()
    tenant_id = serializers.UUIDField()
    amount_allocated = serializers.IntegerField()
    new_allocation_balance = serializers.IntegerField()
    currency = serializers.CharField()
    allocation_log_id = serializers.UUIDField()
    platform_log_id = serializers.UUIDField()


class StatsOutput(serializers.Serializer):
    tenant_id = serializers.UUIDField()
    tenant_name = serializers.CharField()
    points_allocation_balance = serializers.IntegerField()
    currency = serializers.CharField()
    currency_label = serializers.CharField()
    status = serializers.ChoiceField(choices=Tenant.Status.choices, help_text="The tenant's status.")
    balance_status = serializers.ChoiceField(choices=["ready", "low", "empty"])
    message = serializers.CharField()
    low_balance_threshold = serializers.IntegerField()
    delegated_outstanding = serializers.IntegerField(help_text="Σ lead budgets.")
    wallets_outstanding = serializers.IntegerField(help_text="Σ employees' wallets.")


class DelegateOutput(serializers.Serializer):
    success = serializers.BooleanField()
    tenant_id = serializers.UUIDField()
    lead_id = serializers.UUIDField()
    amount_delegated = serializers.IntegerField()
    lead_new_balance = serializers.IntegerField()
    tenant_remaining_balance = serializers.IntegerField()
    delegation_log_id = serializers.UUIDField()


class RecallOutput(serializers.Serializer):
    success = serializers.BooleanField()
    tenant_id = serializers.UUIDField()
    lead_id = serializers.UUIDField()
    amount_recalled = serializers.IntegerField()
    lead_new_balance = serializers.IntegerField()
    tenant_remaining_balance = serializers.IntegerField()
    delegation_log_id = serializers.UUIDField()


class AwardOutput(serializers.Serializer):
    success = serializers.BooleanField()
    tenant_id = serializers.UUIDField()
    to_user_id = serializers.UUIDField()
    amount_awarded = serializers.IntegerField()
    recipient_new_wallet_balance = serializers.IntegerField()
    tenant_remaining_pool = serializers.IntegerField()
    lead_remaining_budget = serializers.IntegerField(allow_null=True, help_text="Set when the lead budget paid.")
    funding_source = serializers.ChoiceField(choices=["POOL", "LEAD_BUDGET"])
    recognition_id = serializers.UUIDField()
    ledger_entry_id = serializers.UUIDField()


class DistributeOutput(serializers.Serializer):
    success = serializers.BooleanField()
    tenant_id = serializers.UUIDField()
    recipients = serializers.IntegerField()
    amount_per_user = serializers.IntegerField()
    total_awarded = serializers.IntegerField()
    tenant_remaining_pool = serializers.IntegerField()
    group_id = serializers.UUIDField()


class ClawbackOutput(serializers.Serializer):
    success = serializers.BooleanField()
    tenant_id = serializers.UUIDField()
    amount_clawed_back = serializers.IntegerField()
    new_balance = serializers.IntegerField()
    platform_log_id = serializers.UUIDField()
    allocation_log_id = serializers.UUIDField()
    reason = serializers.CharField()


class AllocationLogOutput(serializers.Serializer):
    id = serializers.UUIDField()
    tenant_id = serializers.UUIDField()
    tenant_name = serializers.CharField(source="tenant.name")
    kind = serializers.ChoiceField(choices=AllocationLog.Kind.choices)
    amount = serializers.IntegerField()
    balance_after = serializers.IntegerField(help_text="The tenant pool after this movement.")
    reference_note = serializers.CharField()
    actor_id = serializers.UUIDField(allow_null=True)
    actor_name = serializers.CharField(source="actor.full_name", allow_null=True)
    created_at = serializers.DateTimeField()


class BillingLogOutput(serializers.Serializer):
    id = serializers.UUIDField()
    tenant_id = serializers.UUIDField()
    tenant_name = serializers.CharField(source="tenant.name")
    allocation_log_id = serializers.UUIDField()
    transaction_type = serializers.ChoiceField(choices=PlatformBillingLog.TransactionType.choices)
    amount = serializers.IntegerField()
    currency = serializers.CharField()
    reference_note = serializers.CharField()
    admin_id = serializers.UUIDField(allow_null=True)
    admin_email = serializers.CharField(source="admin.email", allow_null=True)
    created_at = serializers.DateTimeField()


class DelegationLogOutput(serializers.Serializer):
    id = serializers.UUIDField()
    tenant_id = serializers.UUIDField()
    lead_id = serializers.UUIDField()
    lead_name = serializers.CharField(source="lead.full_name")
    kind = serializers.ChoiceField(choices=DelegationLog.Kind.choices)
    amount = serializers.IntegerField()
    pool_balance_after = serializers.IntegerField()
    lead_balance_after = serializers.IntegerField()
    note = serializers.CharField()
    actor_id = serializers.UUIDField(allow_null=True)
    actor_name = serializers.CharField(source="actor.full_name", allow_null=True)
    created_at = serializers.DateTimeField()


class LeadBudgetOutput(serializers.Serializer):
    id = serializers.UUIDField()
    tenant_id = serializers.UUIDField()
    lead_id = serializers.UUIDField()
    lead_name = serializers.CharField(source="lead.full_name")
    lead_email = serializers.EmailField(source="lead.email")
    lead_is_active = serializers.BooleanField(source="lead.is_active")
    balance = serializers.IntegerField()


class RollForwardOutput(serializers.Serializer):
    date_from = serializers.DateField()
    date_to = serializers.DateField()
    opening = serializers.IntegerField()
    allocated = serializers.IntegerField()
    clawed_back = serializers.IntegerField()
    redeemed = serializers.IntegerField()
    refunded = serializers.IntegerField()
    closing = serializers.IntegerField(help_text="opening + allocated − clawed_back − redeemed + refunded.")


class LiabilityOutput(serializers.Serializer):
    id = serializers.UUIDField(source="tenant_id", help_text="The tenant's id.")
    tenant_id = serializers.UUIDField()
    tenant_name = serializers.CharField()
    tenant_slug = serializers.CharField()
    currency = serializers.CharField()
    point_value = serializers.DecimalField(max_digits=12, decimal_places=4, help_text="Value of one point.")
    pool = serializers.IntegerField()
    lead_budgets = serializers.IntegerField()
    wallets = serializers.IntegerField()
    outstanding = serializers.IntegerField(help_text="pool + lead_budgets + wallets.")
    value = serializers.DecimalField(
        max_digits=None, decimal_places=2, help_text="outstanding × point_value, in `currency` (a decimal string)."
    )
    roll_forward = RollForwardOutput(allow_null=True, help_text="With `?from=&to=` only.")


# --- The seed's verb-style endpoints -------------------------------------------------------------------------------
