"""The company side of the API (SPEC §6): the seed's `/api/v1/points/…` endpoints
and the allocation, billing, delegation, lead-budget and liability lists.

Views parse the input (input serializers), call one service or selector, and
render its figures (output serializers). Every money POST runs through
`money_response` under its `Idempotency-Key`. Paths take an optional trailing
slash, as the seed's clients send them without one.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from perksu.api.fields import valid
from perksu.api.permissions import (
    IsManager,
    IsManagerOrLead,
    IsManagerOrLeadOrPlatform,
    IsManagerOrPlatform,
    IsPlatformAdmin,
)
from perksu.api.schema import ERROR_RESPONSES, IDEMPOTENCY_KEY, MONEY_ERROR_RESPONSES
from perksu.api.viewsets import TenantScopedViewSet, money_response
from perksu.replica import ReplicaListMixin
from recognition.services import recognition_create, recognition_distribute
from tenants.models import Tenant

from . import services
from .filters import AllocationLogFilter, BillingLogFilter, DelegationLogFilter, LeadBudgetFilter
from .models import AllocationLog, DelegationLog, LeadBudget, PlatformBillingLog
from .selectors import Liability, RollForward, liabilities, pool_stats, roll_forwards
from .serializers import (
    AllocateInput,
    AllocateOutput,
    AllocationLogOutput,
    AwardInput,
    AwardOutput,
    BillingLogOutput,
    ClawbackInput,
    ClawbackOutput,
    DelegateInput,
    DelegateOutput,
    DelegationLogOutput,
    DistributeInput,
    DistributeOutput,
    LeadBudgetOutput,
    LiabilityOutput,
    LiabilityQuery,
    RecallInput,
    RecallOutput,
    StatsOutput,
    StatsQuery,
    award_input,
)


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
        data = valid(AllocateInput, request.data)

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
            query = valid(StatsQuery, request.query_params)
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
        data = valid(DelegateInput, request.data)

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
        data = valid(RecallInput, request.data)

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
        data = award_input(request.data)

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
            # Already plain values in AwardOutput's shape (money_response turns the ids into strings):
            # the award is the API's hottest path, and the serializer's copy of its fields cost more
            # CPU than the award's statement. test_manager_awards_from_the_pool pins the shape.
            return 200, body

        # recognition_create is atomic by itself (on PostgreSQL one statement in autocommit).
        return money_response(request, "points.award-to-user", operation, self_contained=True)

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
        data = valid(DistributeInput, request.data)

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
        data = valid(ClawbackInput, request.data)

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


class _ReadOnlyViewSet(ReplicaListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    pass


@extend_schema_view(
    list=extend_schema(summary="Allocations and clawbacks of the pool (platform: every tenant; manager: own)"),
    retrieve=extend_schema(
        summary="One allocation or clawback", responses={200: AllocationLogOutput, **ERROR_RESPONSES}
    ),
)
class AllocationLogViewSet(_ReadOnlyViewSet):
    # The actor may be platform staff, in the platform's tenant: read apart by id, not joined (docs/SCALING.md).
    queryset = AllocationLog.objects.select_related("tenant").prefetch_related("actor")
    serializer_class = AllocationLogOutput
    filterset_class = AllocationLogFilter
    permission_classes = [IsManagerOrPlatform]
    platform_sees_all = True


@extend_schema_view(
    list=extend_schema(summary="The platform's billing log (platform)"),
    retrieve=extend_schema(summary="One billing log entry", responses={200: BillingLogOutput, **ERROR_RESPONSES}),
)
class BillingLogViewSet(_ReadOnlyViewSet):
    queryset = PlatformBillingLog.objects.select_related("tenant").prefetch_related("admin")
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
        query = valid(LiabilityQuery, request.query_params)
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


router = SimpleRouter()
router.trailing_slash = "/?"  # the seed's clients send no trailing slash; both forms work
router.register("points/allocation-logs", AllocationLogViewSet, basename="allocation-log")
router.register("points/billing-logs", BillingLogViewSet, basename="billing-log")
router.register("points/delegations", DelegationViewSet, basename="delegation")
router.register("points/lead-budgets", LeadBudgetViewSet, basename="lead-budget")
router.register("points/liability", LiabilityViewSet, basename="liability")
router.register("points", PointsViewSet, basename="points")

urlpatterns = router.urls
