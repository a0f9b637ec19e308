"""Recognitions over HTTP (SPEC §6): `/api/v1/recognitions/` and the seed's `POST /api/recognitions`.

Create calls `recognition.services.recognition_create` (awards with points,
kudos without) under the request's `Idempotency-Key`; the list is the tenant's
feed, newest first. Wallet balances in a create response are shown only for an
award (the giver moved the points); kudos never show a colleague's balance.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.routers import SimpleRouter

from perksu.api.fields import AmountField, IdField, StrictInput, choice_field, valid
from perksu.api.permissions import IsMember
from perksu.api.schema import ERROR_RESPONSES, IDEMPOTENCY_KEY, MONEY_ERROR_RESPONSES
from perksu.api.viewsets import TenantScopedViewSet, money_response
from perksu.replica import ReplicaListMixin

from .api_peer import (
    AllowanceViewSet,
    CommentViewSet,
    CompanyValueViewSet,
    FeedViewSet,
    RecognitionEngagementMixin,
    award_figures,
)
from .filters import RecognitionFilter
from .models import Recognition
from .services import MAX_MESSAGE_LENGTH, MAX_RECIPIENTS, MAX_VALUES, AwardResult, recognition_create

Source = Recognition.FundingSource


@extend_schema_field({"type": "string", "enum": Source.values, "x-spec-enum-id": "recognition-source-input"})
class AnyFundingSourceField(serializers.ChoiceField):
    """`POOL`, `LEAD_BUDGET`, `ALLOWANCE` or `NONE` (kudos), case-insensitive; omitted → the funding rule picks one."""

    def __init__(self, **kwargs):
        super().__init__(choices=Source.choices, **kwargs)

    def to_internal_value(self, data):
        return super().to_internal_value(data.upper() if isinstance(data, str) else data)


class RecognitionCreateInput(StrictInput):
    to_user_id = IdField(required=False, help_text="One recipient (or use `to_user_ids`).")
    to_user_ids = serializers.ListField(
        child=IdField(),
        required=False,
        allow_empty=False,
        max_length=MAX_RECIPIENTS,
        help_text=f"1 to {MAX_RECIPIENTS} recipients, each once.",
    )
    points = AmountField(min_value=0, help_text="Per recipient; 0 = kudos (anyone may give them).")
    message = serializers.CharField(max_length=MAX_MESSAGE_LENGTH)
    funding_source = AnyFundingSourceField(
        required=False,
        help_text="Omitted: a manager's pool, then lead budget; a lead's budget, then allowance; an employee's "
        "allowance.",
    )
    values = serializers.ListField(
        child=IdField(),
        required=False,
        max_length=MAX_VALUES,
        help_text=f"0–{MAX_VALUES} company value ids (a #hashtag in the message names one too).",
    )

    def validate(self, attrs):
        attrs = super().validate(attrs)
        one, many = "to_user_id" in attrs, "to_user_ids" in attrs
        if one == many:
            raise serializers.ValidationError({"to_user_id": ["Send exactly one of `to_user_id` or `to_user_ids`."]})
        attrs["recipient_ids"] = [attrs.pop("to_user_id")] if one else attrs.pop("to_user_ids")
        return attrs


class RecognitionOutput(serializers.Serializer):
    id = serializers.UUIDField()
    group_id = serializers.UUIDField(help_text="Shared by the rows of one multi-recipient recognition.")
    giver_id = serializers.UUIDField(allow_null=True, help_text="null for an automated award: the company gave it.")
    giver_name = serializers.CharField(help_text="The colleague, or the company for an automated award.")
    automated = serializers.BooleanField(help_text="A birthday, anniversary or new-hire award.")
    receiver_id = serializers.UUIDField()
    receiver_name = serializers.CharField(source="receiver.full_name")
    points = serializers.IntegerField()
    message = serializers.CharField()
    funding_source = choice_field(Source.choices, enum_id="recognition-source-output")
    created_at = serializers.DateTimeField()


class RecognitionRowOutput(RecognitionOutput):
    funding_source = choice_field(Source.choices, enum_id="recognition-source-row")
    wallet_balance_after = serializers.IntegerField(
        allow_null=True, help_text="The recipient's wallet after the award; null for kudos."
    )
    ledger_entry_id = serializers.UUIDField(allow_null=True, help_text="The wallet CREDIT; null for kudos.")


class RecognitionCreateOutput(RecognitionOutput):
    """The first (for one recipient: the only) recognition, and every row of the group."""

    funding_source = choice_field(Source.choices, enum_id="recognition-source-created")
    receiver_ids = serializers.ListField(child=serializers.UUIDField())
    total_points = serializers.IntegerField(help_text="points × recipients, paid by `funding_source`.")
    recognitions = RecognitionRowOutput(many=True)
    tenant_remaining_pool = serializers.IntegerField(allow_null=True, help_text="Set when the pool paid.")
    lead_remaining_budget = serializers.IntegerField(allow_null=True, help_text="Set when your lead budget paid.")
    allowance_remaining = serializers.IntegerField(allow_null=True, help_text="Set when your allowance paid.")
    value_ids = serializers.ListField(child=serializers.UUIDField())


def _created_body(result: AwardResult, recipient_ids: list, giver) -> dict:
    """The body of `RecognitionCreateOutput`, read back in one query (the rows with giver and receiver)."""
    rows = {
        r.receiver_id: r
        for r in Recognition.objects.filter(group_id=result.group_id).select_related("giver", "receiver", "tenant")
    }
    entries = {e.recognition_id: e.pk for e in result.ledger_entries}
    award = result.points > 0
    recognitions = []
    for user_id in recipient_ids:
        row = rows[user_id]
        item = RecognitionOutput(row).data
        item["wallet_balance_after"] = result.wallet_balances_after[user_id] if award else None
        item["ledger_entry_id"] = entries.get(row.pk)
        recognitions.append(item)
    first = {key: value for key, value in recognitions[0].items() if key in RecognitionOutput().fields}
    return {
        **first,
        "receiver_ids": [str(user_id) for user_id in recipient_ids],
        "total_points": result.points * len(recipient_ids),
        "recognitions": recognitions,
        **award_figures(result, giver),
        "value_ids": [str(v) for v in result.value_ids],
    }


@extend_schema_view(
    list=extend_schema(summary="The tenant's recognition feed, newest first"),
    retrieve=extend_schema(
        summary="One recognition of the feed", responses={200: RecognitionOutput, **ERROR_RESPONSES}
    ),
)
class RecognitionViewSet(
    ReplicaListMixin, RecognitionEngagementMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet
):
    queryset = Recognition.objects.select_related("giver", "receiver", "tenant")
    serializer_class = RecognitionOutput
    filterset_class = RecognitionFilter
    permission_classes = [IsMember]
    throttle_scope = "money"  # counts the create only: reads are never throttled as money

    @extend_schema(
        summary="Recognise colleagues: points (manager, lead, or anyone from an allowance) or kudos (0 points)",
        description="`to_user_id` or `to_user_ids` (1–50, each once), `points` per recipient, `message`, "
        "`values` (0–3 ids; a `#hashtag` in the message names a value too). One source pays `points × "
        "recipients`: a manager's pool, else lead budget; a lead's budget, else allowance; an employee's "
        "allowance (`funding_source` names one, `ALLOWANCE` included). Refusals: `self_recognition`, "
        "`inactive_user`, `duplicate_recipients`, `over_award_cap`, `insufficient_balance`, "
        "`allowance_exceeded` (`remaining`, `required`), `value_required`, `too_many_values`, "
        "`tenant_suspended`; a recipient or value outside your tenant answers 404.",
        request=RecognitionCreateInput,
        responses={201: RecognitionCreateOutput, **MONEY_ERROR_RESPONSES},
        parameters=[IDEMPOTENCY_KEY],
    )
    def create(self, request):
        data = valid(RecognitionCreateInput, request.data)

        def operation():
            result = recognition_create(
                giver=request.user,
                recipient_ids=data["recipient_ids"],
                points=data["points"],
                message=data["message"],
                funding_source=data.get("funding_source"),
                values=data.get("values"),
            )
            return status.HTTP_201_CREATED, _created_body(result, data["recipient_ids"], request.user)

        return money_response(request, "recognitions.create", operation)


@extend_schema_view(
    create=extend_schema(
        operation_id="seed_recognitions_create",
        summary="The seed's recognition endpoint: the same as POST /api/v1/recognitions/",
    )
)
class SeedRecognitionViewSet(RecognitionViewSet):
    """`POST /api/recognitions` (with or without the trailing slash), kept for the seed's clients."""


seed_recognition_create = SeedRecognitionViewSet.as_view({"post": "create"})

router = SimpleRouter()
router.trailing_slash = "/?"
router.register("recognitions", RecognitionViewSet, basename="recognition")
router.register("allowances", AllowanceViewSet, basename="allowance")
router.register("values", CompanyValueViewSet, basename="company-value")
router.register("comments", CommentViewSet, basename="comment")
router.register("feed", FeedViewSet, basename="feed")

urlpatterns = router.urls
