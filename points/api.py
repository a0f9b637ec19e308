"""The company side of the API (SPEC §6): the seed's `/api/v1/points/…` endpoints
and the allocation, billing, delegation, lead-budget and liability lists.

Views parse the input (input serializers), call one service or selector, and
render its figures (output serializers). Every money POST runs through
`money_response` under its `Idempotency-Key`. Paths take an optional trailing
slash, as the seed's clients send them without one.
"""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from perksu.api.fields import AmountField, IdField, OptionalAmountField, StrictInput
from perksu.api.permissions import (
    IsManager,
    IsManagerOrLead,
    IsManagerOrLeadOrPlatform,
    IsManagerOrPlatform,
    IsPlatformAdmin,
)
from perksu.api.schema import ERROR_RESPONSES, MONEY_ERROR_RESPONSES
from perksu.api.viewsets import TenantScopedViewSet, money_response
from recognition.models import Recognition
from recognition.services import MAX_MESSAGE_LENGTH, recognition_create, recognition_distribute
from tenants.models import TENANT_ROLES, Tenant
from wallets.models import WalletLedger

from . import services
from .filters import AllocationLogFilter, BillingLogFilter, DelegationLogFilter, LeadBudgetFilter
from .models import AllocationLog, DelegationLog, LeadBudget, PlatformBillingLog
from .selectors import Liability, RollForward, liabilities, pool_stats

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Optional, 1–255 characters. Repeating the same key with the same body replays the stored response "
    "(header `Idempotent-Replayed: true`) and moves nothing twice; another body → 422; while the first request "
    "is still running → 409.",
)
NOTE_LENGTH = 500


def _valid(serializer_class: type[serializers.Serializer], data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


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


class PointsViewSet(TenantScopedViewSet):
    """`/api/v1/points/<verb>`: the seed-compatible money endpoints and the pool card."""

    throttle_scope: str | None = None
    """Money actions set `throttle_scope="money"`; the pool card is not throttled as one."""

    @extend_schema(
        operation_id="points_allocate_to_tenant",
        summary="Allocate points to a tenant's pool (platform)",
        description="A purchase of points: pool += amount; writes an AllocationLog and a PlatformBillingLog.",
        request=AllocateInput,
        responses={200: AllocateOutput, **MONEY_ERROR_RESPONSES},
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="allocate-to-tenant",
        permission_classes=[IsPlatformAdmin],
        throttle_scope="money",
    )
    def allocate_to_tenant(self, request):
        data = _valid(AllocateInput, request.data)

        def operation():
            result = services.tenant_allocate(
                actor=request.user,
                tenant_id=data["tenant_id"],
                amount=data["amount"],
                reference_note=data["reference_note"],
                currency=data.get("currency"),
            )
            body = {
                "success": True,
                "tenant_id": result.tenant_id,
                "amount_allocated": result.amount,
                "new_allocation_balance": result.balance_after,
                "currency": result.currency,
                "allocation_log_id": result.allocation_log.pk,
                "platform_log_id": result.billing_log.pk,
            }
            return 200, AllocateOutput(body).data

        return money_response(request, "points.allocate-to-tenant", operation)

    @extend_schema(
        operation_id="points_tenant_allocation_stats",
        summary="The company pool card: balance, status and what is outstanding",
        description="Managers and leads see their own tenant; platform admins name one with `?tenant_id=`.",
        parameters=[
            OpenApiParameter("tenant_id", OpenApiTypes.UUID, description="Required for platform admins; else ignored.")
        ],
        responses={200: StatsOutput, **ERROR_RESPONSES},
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="tenant-allocation-stats",
        permission_classes=[IsManagerOrLeadOrPlatform],
    )
    def tenant_allocation_stats(self, request):
        if request.user.is_platform_admin:
            query = _valid(StatsQuery, request.query_params)
            if "tenant_id" not in query:
                raise serializers.ValidationError({"tenant_id": ["Platform admins name the tenant: ?tenant_id=…"]})
            tenant_id = self.platform_tenant(query["tenant_id"]).pk
        else:
            tenant_id = request.user.tenant_id
        return Response(StatsOutput(pool_stats(tenant_id)).data)

    @extend_schema(
        operation_id="points_delegate_to_lead",
        summary="Delegate points from the pool to a lead's budget (manager)",
        request=DelegateInput,
        responses={200: DelegateOutput, **MONEY_ERROR_RESPONSES},
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="delegate-to-lead",
        permission_classes=[IsManager],
        throttle_scope="money",
    )
    def delegate_to_lead(self, request):
        data = _valid(DelegateInput, request.data)

        def operation():
            result = services.lead_delegate(
                actor=request.user, lead_id=data["lead_id"], amount=data["amount"], note=data["delegation_note"]
            )
            body = {
                "success": True,
                "tenant_id": result.tenant_id,
                "lead_id": result.lead_id,
                "amount_delegated": result.amount,
                "lead_new_balance": result.lead_balance_after,
                "tenant_remaining_balance": result.pool_balance_after,
                "delegation_log_id": result.log.pk,
            }
            return 200, DelegateOutput(body).data

        return money_response(request, "points.delegate-to-lead", operation)

    @extend_schema(
        operation_id="points_recall_from_lead",
        summary="Recall points from a lead's budget to the pool (manager)",
        request=RecallInput,
        responses={200: RecallOutput, **MONEY_ERROR_RESPONSES},
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="recall-from-lead",
        permission_classes=[IsManager],
        throttle_scope="money",
    )
    def recall_from_lead(self, request):
        data = _valid(RecallInput, request.data)

        def operation():
            result = services.lead_recall(
                actor=request.user, lead_id=data["lead_id"], amount=data.get("amount"), note=data["note"]
            )
            body = {
                "success": True,
                "tenant_id": result.tenant_id,
                "lead_id": result.lead_id,
                "amount_recalled": result.amount,
                "lead_new_balance": result.lead_balance_after,
                "tenant_remaining_balance": result.pool_balance_after,
                "delegation_log_id": result.log.pk,
            }
            return 200, RecallOutput(body).data

        return money_response(request, "points.recall-from-lead", operation)

    @extend_schema(
        operation_id="points_award_to_user",
        summary="Award points to one employee (manager: pool or budget; lead: budget)",
        description="Funding: the pool pays if you are a manager and it covers the award, else your lead budget; "
        "`funding_source` names one explicitly. Writes one Recognition and one wallet CREDIT.",
        request=AwardInput,
        responses={200: AwardOutput, **MONEY_ERROR_RESPONSES},
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="award-to-user",
        permission_classes=[IsManagerOrLead],
        throttle_scope="money",
    )
    def award_to_user(self, request):
        data = _valid(AwardInput, request.data)

        def operation():
            result = recognition_create(
                giver=request.user,
                recipient_ids=[data["to_user_id"]],
                points=data["amount"],
                message=data["recognition_message"],
                funding_source=data.get("funding_source"),
            )
            body = {
                "success": True,
                "tenant_id": result.tenant_id,
                "to_user_id": data["to_user_id"],
                "amount_awarded": result.points,
                "recipient_new_wallet_balance": result.wallet_balances_after[data["to_user_id"]],
                "tenant_remaining_pool": result.pool_balance_after,
                "lead_remaining_budget": result.lead_budget_after,
                "funding_source": result.funding_source,
                "recognition_id": result.recognitions[0].pk,
                "ledger_entry_id": result.ledger_entries[0].pk,
            }
            return 200, AwardOutput(body).data

        return money_response(request, "points.award-to-user", operation)

    @extend_schema(
        operation_id="points_distribute",
        summary="Award the same amount to every active member, from the pool (manager)",
        description="One transaction: `amount_per_user × recipients` from the pool; you are left out.",
        request=DistributeInput,
        responses={200: DistributeOutput, **MONEY_ERROR_RESPONSES},
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(
        detail=False, methods=["post"], url_path="distribute", permission_classes=[IsManager], throttle_scope="money"
    )
    def distribute(self, request):
        data = _valid(DistributeInput, request.data)

        def operation():
            result = recognition_distribute(
                giver=request.user,
                amount_per_user=data["amount_per_user"],
                message=data["recognition_message"],
                roles=data.get("roles"),
            )
            body = {
                "success": True,
                "tenant_id": result.tenant_id,
                "recipients": result.recipients,
                "amount_per_user": result.amount_per_user,
                "total_awarded": result.total_awarded,
                "tenant_remaining_pool": result.pool_balance_after,
                "group_id": result.group_id,
            }
            return 200, DistributeOutput(body).data

        return money_response(request, "points.distribute", operation)

    @extend_schema(
        operation_id="points_clawback",
        summary="Claw points back from a tenant's pool (platform)",
        description="Only the undistributed pool: lead budgets and wallets are never clawed back.",
        parameters=[OpenApiParameter("tenant_id", OpenApiTypes.UUID, OpenApiParameter.PATH), IDEMPOTENCY_KEY],
        request=ClawbackInput,
        responses={200: ClawbackOutput, **MONEY_ERROR_RESPONSES},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path=r"clawback/(?P<tenant_id>[^/]+)",
        permission_classes=[IsPlatformAdmin],
        throttle_scope="money",
    )
    def clawback(self, request, tenant_id: str):
        data = _valid(ClawbackInput, request.data)

        def operation():
            result = services.tenant_clawback(
                actor=request.user, tenant_id=tenant_id, reason=data["reason"], amount=data.get("amount")
            )
            body = {
                "success": True,
                "tenant_id": result.tenant_id,
                "amount_clawed_back": result.amount,
                "new_balance": result.balance_after,
                "platform_log_id": result.billing_log.pk,
                "allocation_log_id": result.allocation_log.pk,
                "reason": result.allocation_log.reference_note,
            }
            return 200, ClawbackOutput(body).data

        return money_response(request, "points.clawback", operation)


# --- Lists ---------------------------------------------------------------------------------------------------------


class _ReadOnlyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    pass


@extend_schema_view(
    list=extend_schema(summary="Allocations and clawbacks of the pool (platform: every tenant; manager: own)"),
    retrieve=extend_schema(
        summary="One allocation or clawback", responses={200: AllocationLogOutput, **ERROR_RESPONSES}
    ),
)
class AllocationLogViewSet(_ReadOnlyViewSet):
    queryset = AllocationLog.objects.select_related("tenant", "actor")
    serializer_class = AllocationLogOutput
    filterset_class = AllocationLogFilter
    permission_classes = [IsManagerOrPlatform]
    platform_sees_all = True


@extend_schema_view(
    list=extend_schema(summary="The platform's billing log (platform)"),
    retrieve=extend_schema(summary="One billing log entry", responses={200: BillingLogOutput, **ERROR_RESPONSES}),
)
class BillingLogViewSet(_ReadOnlyViewSet):
    queryset = PlatformBillingLog.objects.select_related("tenant", "admin")
    serializer_class = BillingLogOutput
    filterset_class = BillingLogFilter
    permission_classes = [IsPlatformAdmin]
    platform_sees_all = True


class _LeadSeesOwn:
    """Leads see only their own rows; managers see their tenant's."""

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.request.user.is_lead:
            queryset = queryset.filter(lead_id=self.request.user.pk)
        return queryset


@extend_schema_view(
    list=extend_schema(summary="Delegations to and recalls from leads (manager: tenant; lead: own)"),
    retrieve=extend_schema(summary="One delegation or recall", responses={200: DelegationLogOutput, **ERROR_RESPONSES}),
)
class DelegationViewSet(_LeadSeesOwn, _ReadOnlyViewSet):
    queryset = DelegationLog.objects.select_related("lead", "actor")
    serializer_class = DelegationLogOutput
    filterset_class = DelegationLogFilter
    permission_classes = [IsManagerOrLead]


@extend_schema_view(
    list=extend_schema(summary="Lead budgets (manager: every lead of the tenant; lead: own)"),
    retrieve=extend_schema(summary="One lead budget", responses={200: LeadBudgetOutput, **ERROR_RESPONSES}),
)
class LeadBudgetViewSet(_LeadSeesOwn, _ReadOnlyViewSet):
    queryset = LeadBudget.objects.select_related("lead").order_by("lead__full_name", "lead__email", "pk")
    serializer_class = LeadBudgetOutput
    filterset_class = LeadBudgetFilter
    permission_classes = [IsManagerOrLead]


class LiabilityViewSet(TenantScopedViewSet):
    """Outstanding points per tenant and their value; with `?from=&to=` the roll-forward of the period."""

    queryset = Tenant.objects.all()
    tenant_field = "pk"
    platform_sees_all = True
    permission_classes = [IsManagerOrPlatform]
    filter_backends = []

    @extend_schema(
        operation_id="points_liability_list",
        summary="Outstanding points and their value per tenant (platform: all or ?tenant_id=; manager: own)",
        parameters=[
            OpenApiParameter("tenant_id", OpenApiTypes.UUID, description="Platform admins: only this tenant."),
            OpenApiParameter("from", OpenApiTypes.DATE, description="Roll-forward start (inclusive), with `to`."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Roll-forward end (inclusive), with `from`."),
        ],
        responses={200: LiabilityOutput(many=True), **ERROR_RESPONSES},
    )
    def list(self, request):
        query = _valid(LiabilityQuery, request.query_params)
        if request.user.is_platform_admin:
            tenant_id = query.get("tenant_id")
            if tenant_id is not None:
                self.platform_tenant(tenant_id)
        else:
            tenant_id = request.user.tenant_id
        page = self.paginate_queryset(liabilities(tenant_id))
        periods = {}
        if "from" in query:
            periods = roll_forwards([row.tenant_id for row in page], date_from=query["from"], date_to=query["to"])
        rows = [_liability_row(row, periods.get(row.tenant_id)) for row in page]
        return self.get_paginated_response(LiabilityOutput(rows, many=True).data)


def _liability_row(row: Liability, period: RollForward | None) -> dict:
    return {
        "tenant_id": row.tenant_id,
        "tenant_name": row.tenant_name,
        "tenant_slug": row.tenant_slug,
        "currency": row.currency,
        "point_value": row.point_value,
        "pool": row.pool,
        "lead_budgets": row.lead_budgets,
        "wallets": row.wallets,
        "outstanding": row.outstanding,
        "value": row.value,
        "roll_forward": period,
    }


def roll_forwards(tenant_ids: list[UUID], *, date_from: dt.date, date_to: dt.date) -> dict[UUID, RollForward]:
    """`points.selectors.roll_forward` for many tenants in two grouped aggregates (not two per tenant).

    The same figures as the selector (a test holds them equal): closing =
    opening + allocated − clawed_back − redeemed + refunded.
    """
    start = timezone.make_aware(dt.datetime.combine(date_from, dt.time.min))
    end = timezone.make_aware(dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min))

    def grouped(qs, **kinds: Q) -> dict[UUID, dict[str, int]]:
        sums = {}
        for name, condition in kinds.items():
            sums[f"{name}_before"] = Coalesce(Sum("amount", filter=condition & Q(created_at__lt=start)), 0)
            sums[name] = Coalesce(Sum("amount", filter=condition & Q(created_at__gte=start, created_at__lt=end)), 0)
        rows = qs.filter(tenant_id__in=tenant_ids).values("tenant_id").annotate(**sums).order_by()
        return {row["tenant_id"]: row for row in rows}

    alloc = grouped(
        AllocationLog.objects,
        allocated=Q(kind=AllocationLog.Kind.ALLOCATION),
        clawed_back=Q(kind=AllocationLog.Kind.CLAWBACK),
    )
    spent = grouped(
        WalletLedger.objects.filter(source__in=[WalletLedger.Source.REDEMPTION, WalletLedger.Source.REFUND]),
        redeemed=Q(source=WalletLedger.Source.REDEMPTION),
        refunded=Q(source=WalletLedger.Source.REFUND),
    )
    result = {}
    for tenant_id in tenant_ids:
        a = alloc.get(tenant_id, {})
        s = spent.get(tenant_id, {})

        def get(d, key):
            return d.get(key, 0)

        opening = (
            get(a, "allocated_before")
            - get(a, "clawed_back_before")
            - get(s, "redeemed_before")
            + get(s, "refunded_before")
        )
        allocated, clawed_back = get(a, "allocated"), get(a, "clawed_back")
        redeemed, refunded = get(s, "redeemed"), get(s, "refunded")
        result[tenant_id] = RollForward(
            tenant_id=tenant_id,
            date_from=date_from,
            date_to=date_to,
            opening=opening,
            allocated=allocated,
            clawed_back=clawed_back,
            redeemed=redeemed,
            refunded=refunded,
            closing=opening + allocated - clawed_back - redeemed + refunded,
        )
    return result


router = SimpleRouter()
router.trailing_slash = "/?"  # the seed's clients send no trailing slash; both forms work
router.register("points/allocation-logs", AllocationLogViewSet, basename="allocation-log")
router.register("points/billing-logs", BillingLogViewSet, basename="billing-log")
router.register("points/delegations", DelegationViewSet, basename="delegation")
router.register("points/lead-budgets", LeadBudgetViewSet, basename="lead-budget")
router.register("points/liability", LiabilityViewSet, basename="liability")
router.register("points", PointsViewSet, basename="points")

urlpatterns = router.urls
