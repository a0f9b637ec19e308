"""Wallets, rewards and redemptions over HTTP (SPEC §6).

- `/api/v1/wallets/me/` and `/api/v1/wallets/me/ledger/`: the caller's own wallet and its entries.
- `/api/v1/rewards/`: members read the active catalog of their tenant; managers also see
  inactive rewards and write through `reward_create` / `reward_update`.
- `/api/v1/redemptions/`: members see their own, managers the tenant's. Redeem and refund
  run through `money_response` under the request's `Idempotency-Key`.

A voucher code is a bearer secret: it is shown only to the member who redeemed it
(a manager sees the tenant's redemptions, with `voucher_code: null` for the others').
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from perksu.api.fields import AmountField, IdField, StrictInput, choice_field, valid
from perksu.api.permissions import IsManager, IsMember
from perksu.api.schema import ERROR_RESPONSES, IDEMPOTENCY_KEY, MONEY_ERROR_RESPONSES
from perksu.api.viewsets import TenantScopedViewSet, money_response
from perksu.errors import get_or_not_found
from perksu.replica import ReplicaListMixin

from . import services
from .filters import LedgerFilter, RedemptionFilter, RewardFilter
from .models import Redemption, Reward, Wallet, WalletLedger
from .selectors import voucher_code_of

MAX_STOCK = 2_147_483_647

# --- Wallet ----------------------------------------------------------------------------------------------------------


class WalletOutput(serializers.Serializer):
    id = serializers.UUIDField()
    user_id = serializers.UUIDField()
    balance = serializers.IntegerField(help_text="Spendable points.")
    lifetime_earned = serializers.IntegerField()
    lifetime_spent = serializers.IntegerField(help_text="Net of refunds.")
    currency_label = serializers.CharField(source="tenant.currency_label")


class LedgerEntryOutput(serializers.Serializer):
    id = serializers.UUIDField()
    entry_no = serializers.IntegerField(help_text="Position in the wallet's ledger, from 1.")
    entry_type = serializers.ChoiceField(choices=WalletLedger.EntryType.choices)
    source = serializers.ChoiceField(choices=WalletLedger.Source.choices)
    amount = serializers.IntegerField()
    balance_after = serializers.IntegerField()
    note = serializers.CharField()
    recognition_id = serializers.UUIDField(allow_null=True)
    redemption_id = serializers.UUIDField(allow_null=True)
    actor_id = serializers.UUIDField(allow_null=True)
    actor_name = serializers.CharField(source="actor.full_name", allow_null=True)
    created_at = serializers.DateTimeField()


class WalletViewSet(TenantScopedViewSet):
    queryset = Wallet.objects.select_related("tenant")
    permission_classes = [IsMember]
    filter_backends = []

    @extend_schema(
        operation_id="wallets_me",
        summary="Your wallet: balance, lifetime earned and spent",
        responses={200: WalletOutput, **ERROR_RESPONSES},
    )
    @action(detail=False, methods=["get"], url_path="me", pagination_class=None)
    def me(self, request):
        wallet = get_or_not_found(self.get_queryset(), "Wallet not found.", user=request.user)
        return Response(WalletOutput(wallet).data)


@extend_schema_view(list=extend_schema(summary="Your wallet's ledger, newest first"))
class LedgerViewSet(ReplicaListMixin, mixins.ListModelMixin, TenantScopedViewSet):
    queryset = WalletLedger.objects.select_related("actor")
    serializer_class = LedgerEntryOutput
    filterset_class = LedgerFilter
    permission_classes = [IsMember]

    def get_queryset(self):
        return super().get_queryset().filter(wallet__user=self.request.user)


# --- Rewards ---------------------------------------------------------------------------------------------------------


class RewardCreateInput(StrictInput):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True, default="")
    points_cost = AmountField()
    stock = AmountField(
        min_value=0, max_value=MAX_STOCK, required=False, allow_null=True, default=None, help_text="null: unlimited."
    )
    is_active = serializers.BooleanField(required=False, default=True)


class RewardUpdateInput(StrictInput):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    points_cost = AmountField(required=False)
    stock = AmountField(
        min_value=0, max_value=MAX_STOCK, required=False, allow_null=True, help_text="The new stock; null: unlimited."
    )
    is_active = serializers.BooleanField(required=False)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if not attrs:
            raise serializers.ValidationError({"non_field_errors": ["Send at least one field to change."]})
        return attrs


class RewardOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    description = serializers.CharField()
    points_cost = serializers.IntegerField()
    stock = serializers.IntegerField(allow_null=True, help_text="null: unlimited.")
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()


@extend_schema_view(
    list=extend_schema(summary="The reward catalog (members: active rewards; managers: all)"),
    retrieve=extend_schema(summary="One reward", responses={200: RewardOutput, **ERROR_RESPONSES}),
)
class RewardViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    queryset = Reward.objects.order_by("points_cost", "name", "pk")
    serializer_class = RewardOutput
    filterset_class = RewardFilter

    def get_permissions(self):
        manager_only = self.action in ("create", "partial_update")
        return [IsManager()] if manager_only else [IsMember()]

    def get_queryset(self):
        queryset = super().get_queryset()
        if not self.request.user.is_manager:
            queryset = queryset.filter(is_active=True)
        return queryset

    @extend_schema(
        summary="Add a reward to the catalog (manager)",
        request=RewardCreateInput,
        responses={201: RewardOutput, **ERROR_RESPONSES},
    )
    def create(self, request):
        data = valid(RewardCreateInput, request.data)
        reward = services.reward_create(actor=request.user, **data)
        return Response(RewardOutput(reward).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a reward (manager): name, description, points_cost, stock, is_active",
        description="`stock` is the new absolute stock (null: unlimited). Deactivate instead of deleting: "
        "redemptions keep pointing at it.",
        request=RewardUpdateInput,
        responses={200: RewardOutput, **ERROR_RESPONSES},
    )
    def partial_update(self, request, pk=None):
        reward = self.get_object()
        data = valid(RewardUpdateInput, request.data)
        reward = services.reward_update(actor=request.user, reward=reward, **data)
        return Response(RewardOutput(reward).data)


# --- Redemptions -----------------------------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.STR)
class VoucherCodeField(serializers.Field):
    """The voucher code for the member who redeemed it; null for anyone else (a manager)."""

    def __init__(self, **kwargs):
        kwargs.update(source="*", read_only=True, allow_null=True)
        super().__init__(**kwargs)

    def to_representation(self, redemption: Redemption):
        viewer = self.context.get("viewer_id")
        return redemption.voucher_code if viewer is not None and viewer == redemption.user_id else None


class RedemptionCreateInput(StrictInput):
    reward_id = IdField()
    expected_points_cost = AmountField(
        required=False,
        help_text="The price the member was shown. If the reward's price is another, nothing moves: "
        "400 `price_changed` with the current `points_cost`.",
    )


class RedemptionOutput(serializers.Serializer):
    id = serializers.UUIDField()
    status = choice_field(Redemption.Status.choices, enum_id="redemption-status")
    voucher_code = VoucherCodeField(help_text="Shown only to the member who redeemed; null for others.")
    points_spent = serializers.IntegerField()
    reward_id = serializers.UUIDField()
    reward_name = serializers.CharField(source="reward.name")
    user_id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    refunded_at = serializers.DateTimeField(allow_null=True)


class RedemptionResultOutput(RedemptionOutput):
    status = choice_field(Redemption.Status.choices, enum_id="redemption-status-result")
    wallet_balance_after = serializers.IntegerField(help_text="The redeemer's wallet after this movement.")
    ledger_entry_id = serializers.UUIDField(help_text="The wallet DEBIT (redeem) or CREDIT (refund).")


def _result_body(result: services.RedemptionResult, viewer_id) -> dict:
    body = dict(RedemptionOutput(result.redemption, context={"viewer_id": viewer_id}).data)
    body["wallet_balance_after"] = result.wallet_balance_after
    body["ledger_entry_id"] = result.ledger_entry.pk
    return body


@extend_schema_view(
    list=extend_schema(summary="Redemptions (members: your own; managers: the tenant's), newest first"),
    retrieve=extend_schema(summary="One redemption", responses={200: RedemptionOutput, **ERROR_RESPONSES}),
)
class RedemptionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    queryset = Redemption.objects.select_related("reward")
    serializer_class = RedemptionOutput
    filterset_class = RedemptionFilter
    permission_classes = [IsMember]
    throttle_scope = "money"  # counts redeem and refund only: reads are never throttled as money

    def get_queryset(self):
        queryset = super().get_queryset()
        if not self.request.user.is_manager:
            queryset = queryset.filter(user=self.request.user)
        return queryset

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "viewer_id": self.request.user.pk}

    @extend_schema(
        summary="Redeem a reward with wallet points",
        description="wallet −= cost, stock −= 1, a wallet DEBIT and a voucher code. Refusals: `reward_inactive`, "
        "`out_of_stock`, `insufficient_balance`, `price_changed` (with `expected_points_cost`); another tenant's "
        "reward answers 404.",
        request=RedemptionCreateInput,
        responses={201: RedemptionResultOutput, **MONEY_ERROR_RESPONSES},
        parameters=[IDEMPOTENCY_KEY],
    )
    def create(self, request):
        data = valid(RedemptionCreateInput, request.data)

        issued: dict[str, str] = {}

        def operation():
            result = services.redemption_create(
                user=request.user, reward_id=data["reward_id"], expected_points_cost=data.get("expected_points_cost")
            )
            issued["voucher_code"] = result.redemption.voucher_code
            # Stored for replays without the code (docs/SECURITY.md): `reveal` adds it to each answer.
            return status.HTTP_201_CREATED, {**_result_body(result, request.user.pk), "voucher_code": None}

        def reveal(body: dict) -> dict:
            code = issued.get("voucher_code") or voucher_code_of(request.user, body.get("id"))
            return {**body, "voucher_code": code}

        return money_response(request, "redemptions.create", operation, reveal=reveal)

    @extend_schema(
        summary="Refund a redemption (manager)",
        description="wallet += cost, stock += 1, a wallet CREDIT (REFUND); status REFUNDED. "
        "A second refund: 400 `already_refunded`.",
        request=None,
        parameters=[OpenApiParameter("id", OpenApiTypes.UUID, OpenApiParameter.PATH), IDEMPOTENCY_KEY],
        responses={200: RedemptionResultOutput, **MONEY_ERROR_RESPONSES},
    )
    @action(detail=True, methods=["post"], permission_classes=[IsManager], throttle_scope="money")
    def refund(self, request, pk=None):
        def operation():
            result = services.redemption_refund(actor=request.user, redemption_id=pk)
            return status.HTTP_200_OK, _result_body(result, request.user.pk)

        return money_response(request, "redemptions.refund", operation)


router = SimpleRouter()
router.trailing_slash = "/?"
router.register("wallets/me/ledger", LedgerViewSet, basename="wallet-ledger")
router.register("wallets", WalletViewSet, basename="wallet")
router.register("rewards", RewardViewSet, basename="reward")
router.register("redemptions", RedemptionViewSet, basename="redemption")

urlpatterns = router.urls
