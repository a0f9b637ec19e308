"""The API of credentials: one's API tokens (`/api/v1/auth/tokens/`) and the tenant's SCIM
tokens (`/api/v1/integrations/scim-tokens/`)."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from perksu.api.permissions import IsManagerOrPlatform
from perksu.api.schema import ERROR_RESPONSES
from perksu.errors import DomainError, PermissionDeniedError
from tenants.models import Tenant

from . import services
from .models import ApiToken, ScimToken


class KeysetPagination(CursorPagination):
    """Newest first, by (`created_at`, `id`): no OFFSET (SPEC §14)."""

    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class ApiTokenOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    prefix = serializers.CharField(help_text="The first characters of the token, to tell tokens apart.")
    user_id = serializers.UUIDField()
    user_email = serializers.EmailField(source="user.email")
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)


def keyset_page(item: serializers.Serializer, name: str) -> type[serializers.Serializer]:
    """The schema of a `KeysetPagination` answer around `item`."""
    return type(
        name,
        (serializers.Serializer,),
        {
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item,
        },
    )


class ApiTokenListView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="auth_tokens_list",
        parameters=[
            OpenApiParameter(
                "scope", str, enum=["mine", "tenant"], description="`tenant`: every token of the tenant (managers)."
            ),
            OpenApiParameter("cursor", str),
            OpenApiParameter("page_size", int),
        ],
        responses={200: keyset_page(ApiTokenOutput(many=True), "ApiTokenPage"), **ERROR_RESPONSES},
        summary="List API tokens",
        description="Your own live API tokens, newest first (never the secret). Managers may ask for "
        "`?scope=tenant`: every token of their tenant.",
    )
    def get(self, request):
        user = request.user
        tokens = ApiToken.objects.select_related("user")
        scope = request.query_params.get("scope", "mine")
        if scope == "tenant":
            if not user.is_manager:
                raise PermissionDeniedError("Only managers list the tenant's tokens.")
            tokens = tokens.filter(tenant_id=user.tenant_id)
        elif scope == "mine":
            tokens = tokens.filter(user=user)
        else:
            raise DomainError("`scope` is `mine` or `tenant`.", code="invalid", field="scope")
        paginator = KeysetPagination()
        page = paginator.paginate_queryset(tokens, request, view=self)
        return paginator.get_paginated_response(ApiTokenOutput(page, many=True).data)


class ApiTokenDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="auth_tokens_destroy",
        request=None,
        responses={204: None, **ERROR_RESPONSES},
        summary="Revoke an API token",
        description="Your own token, or — for a manager — any token of the tenant. It stops working at once. "
        "Another tenant's token answers 404, like a missing one.",
    )
    def delete(self, request, token_id):
        services.api_token_revoke(actor=request.user, token_id=token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ScimTokenInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    tenant_id = serializers.UUIDField(required=False, help_text="Platform admins only: the tenant.")


class ScimTokenOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    prefix = serializers.CharField()
    tenant_id = serializers.UUIDField()
    created_by = serializers.EmailField(source="created_by.email", allow_null=True, default=None)
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)


class ScimTokenCreatedOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    token = serializers.CharField(help_text="Shown only in this answer.")


def _tenant_of(request, tenant_id=None) -> Tenant:
    """The caller's tenant; a platform admin names one (`tenant_id`)."""
    from perksu.errors import get_or_not_found

    user = request.user
    if user.is_platform_admin:
        if not tenant_id:
            raise DomainError("Name the tenant: `tenant_id`.", code="invalid", field="tenant_id")
        return get_or_not_found(Tenant.objects, "Tenant not found.", pk=tenant_id)
    return user.tenant


class ScimTokenListView(APIView):
    permission_classes = [IsManagerOrPlatform]

    @extend_schema(
        operation_id="integrations_scim_tokens_list",
        parameters=[OpenApiParameter("tenant_id", str, description="Platform admins: the tenant.")],
        responses={200: keyset_page(ScimTokenOutput(many=True), "ScimTokenPage"), **ERROR_RESPONSES},
        summary="List SCIM tokens",
    )
    def get(self, request):
        tenant = _tenant_of(request, request.query_params.get("tenant_id"))
        tokens = ScimToken.objects.filter(tenant=tenant).prefetch_related("created_by")
        paginator = KeysetPagination()
        page = paginator.paginate_queryset(tokens, request, view=self)
        return paginator.get_paginated_response(ScimTokenOutput(page, many=True).data)

    @extend_schema(
        operation_id="integrations_scim_tokens_create",
        request=ScimTokenInput,
        responses={201: ScimTokenCreatedOutput, **ERROR_RESPONSES},
        summary="Create a SCIM token",
        description="The bearer token an identity provider (Okta, Microsoft Entra) sends to `/scim/v2/`. "
        "The token is shown only in this answer; Perksu keeps its hash.",
    )
    def post(self, request):
        data = ScimTokenInput(data=request.data)
        data.is_valid(raise_exception=True)
        tenant = _tenant_of(request, data.validated_data.get("tenant_id"))
        token, secret = services.scim_token_create(tenant=tenant, name=data.validated_data["name"], actor=request.user)
        return Response({"id": token.pk, "name": token.name, "token": secret}, status=status.HTTP_201_CREATED)


class ScimTokenDetailView(APIView):
    permission_classes = [IsManagerOrPlatform]

    @extend_schema(
        operation_id="integrations_scim_tokens_destroy",
        request=None,
        responses={204: None, **ERROR_RESPONSES},
        summary="Revoke a SCIM token",
    )
    def delete(self, request, token_id):
        tokens_tenant = None if request.user.is_platform_admin else request.user.tenant_id
        if tokens_tenant is None:
            token = ScimToken.objects.filter(pk=_uuid_or_none(token_id)).first()
            tokens_tenant = token.tenant_id if token else None
        services.scim_token_revoke(tenant_id=tokens_tenant, token_id=token_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _uuid_or_none(value):
    import uuid

    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


urlpatterns = [
    path("auth/tokens/", ApiTokenListView.as_view(), name="api-tokens"),
    path("auth/tokens/<str:token_id>/", ApiTokenDetailView.as_view(), name="api-token-detail"),
    path("integrations/scim-tokens/", ScimTokenListView.as_view(), name="scim-tokens"),
    path("integrations/scim-tokens/<str:token_id>/", ScimTokenDetailView.as_view(), name="scim-token-detail"),
]
