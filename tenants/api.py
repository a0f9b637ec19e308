"""Tenants and users over HTTP (SPEC §6): `/api/v1/tenants/` and `/api/v1/users/`.

Views parse the input, call one service of `tenants.services` and render the
result. The pool balance is shown but never written here: only allocate and
clawback move it. A manager works on its own tenant's users only (the tenant
comes from the manager, never from the body); a platform admin names the tenant
of a new user with `tenant_id`.
"""

from __future__ import annotations

from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from perksu.api.fields import IdField, StrictInput, choice_field, valid
from perksu.api.permissions import IsManagerOrPlatform, IsPlatformAdmin
from perksu.api.schema import ERROR_RESPONSES
from perksu.api.viewsets import TenantScopedViewSet
from perksu.errors import NotFoundError, PermissionDeniedError

from . import services
from .filters import TenantFilter, UserFilter
from .models import TENANT_ROLES, Role, Tenant, User

# --- Tenants ---------------------------------------------------------------------------------------------------------


class TenantCreateInput(StrictInput):
    name = serializers.CharField(max_length=200)
    slug = serializers.SlugField(max_length=80)
    currency = serializers.RegexField(
        r"^[A-Za-z]{3}$", required=False, default="INR", help_text="ISO 4217 code (default INR)."
    )
    currency_label = serializers.CharField(max_length=40, required=False, default="Points")
    point_value = serializers.DecimalField(
        max_digits=12, decimal_places=4, min_value=0, required=False, help_text="Value of one point (default 1.00)."
    )
    low_balance_threshold = serializers.IntegerField(min_value=0, max_value=1_000_000_000, required=False, default=100)
    max_award_points = serializers.IntegerField(
        min_value=1, max_value=1_000_000_000, required=False, allow_null=True, default=None
    )


class TenantStatusInput(StrictInput):
    status = choice_field(Tenant.Status.choices, enum_id="tenant-status-input")


class TenantOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    slug = serializers.CharField()
    status = choice_field(Tenant.Status.choices, enum_id="tenant-status-output")
    currency = serializers.CharField()
    currency_label = serializers.CharField()
    point_value = serializers.DecimalField(max_digits=12, decimal_places=4)
    points_allocation_balance = serializers.IntegerField(help_text="The pool (read-only: allocate/clawback move it).")
    low_balance_threshold = serializers.IntegerField()
    max_award_points = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()


@extend_schema_view(
    list=extend_schema(summary="Every tenant with its pool balance and status (platform)"),
    retrieve=extend_schema(summary="One tenant (platform)", responses={200: TenantOutput, **ERROR_RESPONSES}),
)
class TenantViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    queryset = Tenant.objects.order_by("name", "slug")
    serializer_class = TenantOutput
    filterset_class = TenantFilter
    permission_classes = [IsPlatformAdmin]
    tenant_field = "pk"
    platform_sees_all = True

    @extend_schema(
        summary="Create a tenant (platform)",
        description="The pool starts at 0; allocate points with POST /api/v1/points/allocate-to-tenant.",
        request=TenantCreateInput,
        responses={201: TenantOutput, **ERROR_RESPONSES},
    )
    def create(self, request):
        data = valid(TenantCreateInput, request.data)
        tenant = services.tenant_create(**data)
        return Response(TenantOutput(tenant).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Suspend or reactivate a tenant (platform)",
        description='Body `{"status": "SUSPENDED"}` or `{"status": "ACTIVE"}`. A suspended tenant moves no points. '
        "Any other field is refused (the pool is moved only by allocate and clawback).",
        request=TenantStatusInput,
        responses={200: TenantOutput, **ERROR_RESPONSES},
    )
    def partial_update(self, request, pk=None):
        tenant = self.get_object()
        data = valid(TenantStatusInput, request.data)
        tenant = services.tenant_set_status(tenant=tenant, status=data["status"])
        return Response(TenantOutput(tenant).data)


# --- Users -----------------------------------------------------------------------------------------------------------


class UserCreateInput(StrictInput):
    email = serializers.EmailField(max_length=254)
    full_name = serializers.CharField(max_length=200)
    role = choice_field(Role.choices, enum_id="user-role-create")
    password = serializers.CharField(
        max_length=4096,
        trim_whitespace=False,
        required=False,
        allow_null=True,
        default=None,
        style={"input_type": "password"},
        help_text="Omitted: the user cannot log in until a password is set.",
    )
    tenant_id = IdField(
        required=False,
        help_text="Platform admins: the tenant of the new member (required unless role is platform_admin). "
        "Managers: omitted (your tenant); another tenant's id answers 404.",
    )


class UserUpdateInput(StrictInput):
    role = choice_field([(r.value, r.label) for r in TENANT_ROLES], enum_id="user-role-update", required=False)
    is_active = serializers.BooleanField(required=False, help_text="false deactivates, true reactivates.")

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if not attrs:
            raise serializers.ValidationError({"non_field_errors": ["Send `role` and/or `is_active`."]})
        return attrs


class UserOutput(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    full_name = serializers.CharField()
    role = choice_field(Role.choices, enum_id="user-role-output")
    tenant_id = serializers.UUIDField(source="member_tenant_id", allow_null=True)
    is_active = serializers.BooleanField()
    date_joined = serializers.DateTimeField()


@extend_schema_view(
    list=extend_schema(summary="Users (platform: every tenant, `?tenant_id=`; manager: own tenant)"),
    retrieve=extend_schema(summary="One user", responses={200: UserOutput, **ERROR_RESPONSES}),
)
class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    queryset = User.objects.order_by("full_name", "email")
    serializer_class = UserOutput
    filterset_class = UserFilter
    permission_classes = [IsManagerOrPlatform]
    platform_sees_all = True

    @extend_schema(
        summary="Create a user (platform: any tenant; manager: own tenant)",
        description="A member gets its wallet (and a lead its budget) in the same transaction. Platform admins "
        "name the tenant with `tenant_id`; a manager's new user joins the manager's tenant. A manager may not "
        "create platform admins: 403 `permission_denied`. Duplicate email: 400 `duplicate_email`.",
        request=UserCreateInput,
        responses={201: UserOutput, **ERROR_RESPONSES},
    )
    def create(self, request):
        data = valid(UserCreateInput, request.data)
        actor = request.user
        tenant_id = data.pop("tenant_id", None)
        if actor.is_platform_admin:
            tenant = None if tenant_id is None else self.platform_tenant(tenant_id)
            if data["role"] == Role.PLATFORM_ADMIN and tenant is not None:
                raise serializers.ValidationError({"tenant_id": ["Platform admins belong to no tenant."]})
            if data["role"] != Role.PLATFORM_ADMIN and tenant is None:
                raise serializers.ValidationError({"tenant_id": ["Name the tenant of the new member."]})
        else:
            if data["role"] == Role.PLATFORM_ADMIN:
                raise PermissionDeniedError("Managers may not create platform admins.")
            if tenant_id is not None and tenant_id != actor.tenant_id:
                raise NotFoundError("Tenant not found.")
            tenant = actor.tenant
        user = services.user_create(tenant=tenant, **data)
        return Response(UserOutput(user).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a user's role, or deactivate / reactivate it",
        description="`role` (a tenant role) and/or `is_active`, all or nothing. A lead that still holds budget "
        "must have it recalled first (400 `lead_budget_not_empty`); you cannot deactivate yourself (403). "
        "A deactivated user cannot log in or receive points; the wallet and history stay.",
        request=UserUpdateInput,
        responses={200: UserOutput, **ERROR_RESPONSES},
    )
    def partial_update(self, request, pk=None):
        user = self.get_object()
        data = valid(UserUpdateInput, request.data)
        # Both changes or neither: each service is atomic, this joins them.
        with transaction.atomic():
            if "role" in data and data["role"] != user.role:
                services.user_change_role(user=user, role=data["role"], actor=request.user)
            if "is_active" in data and data["is_active"] != user.is_active:
                services.user_set_active(user=user, is_active=data["is_active"], actor=request.user)
        return Response(UserOutput(user).data)


router = SimpleRouter()
router.trailing_slash = "/?"
router.register("tenants", TenantViewSet, basename="tenant")
# /users/ is served by people.api.MemberViewSet (this viewset with the profiles).

urlpatterns = router.urls
