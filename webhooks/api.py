"""Webhook endpoints over HTTP (SPEC §12), for tenant managers.

- `/api/v1/webhooks/`: list, create (201 with the signing `secret`, shown only
  in that answer), retrieve, `PATCH` (url, events, format, description,
  is_active), `DELETE`; `POST …/{id}/rotate-secret/` issues a new secret (shown once).
- `/api/v1/webhooks/{id}/deliveries/`: the endpoint's deliveries, newest first,
  each with its attempts (status, latency, response excerpt);
  `POST /api/v1/webhooks/deliveries/{id}/redeliver/` sends one again.

Lists are read by keyset (`created_at`, `id`), never by OFFSET (SPEC §14).
"""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from perksu.api.fields import StrictInput, choice_field, valid
from perksu.api.permissions import IsManager
from perksu.api.schema import ERROR_RESPONSES
from perksu.api.viewsets import TenantScopedViewSet

from . import services
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

EVENT_CHOICES = [("*", "every event"), *((e, e) for e in services.EVENT_TYPES)]


class KeysetPagination(CursorPagination):
    """Newest first by (created_at, id): `?cursor=` from `next`/`previous`, `?page_size=` up to 200."""

    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class EndpointInput(StrictInput):
    url = serializers.CharField(max_length=2000)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_CHOICES), min_length=1, max_length=len(EVENT_CHOICES)
    )
    format = choice_field(WebhookEndpoint.Format.choices, enum_id="webhook-format", required=False, default="json")
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class EndpointUpdateInput(StrictInput):
    url = serializers.CharField(max_length=2000, required=False)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EVENT_CHOICES),
        min_length=1,
        max_length=len(EVENT_CHOICES),
        required=False,
    )
    format = choice_field(WebhookEndpoint.Format.choices, enum_id="webhook-format-update", required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False, help_text="true enables a disabled endpoint again.")

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if not attrs:
            raise serializers.ValidationError({"non_field_errors": ["Send at least one field to change."]})
        return attrs


class EndpointOutput(serializers.Serializer):
    id = serializers.UUIDField()
    url = serializers.CharField()
    events = serializers.ListField(child=serializers.CharField())
    format = serializers.CharField()
    description = serializers.CharField()
    is_active = serializers.BooleanField()
    consecutive_failures = serializers.IntegerField()
    disabled_at = serializers.DateTimeField(allow_null=True)
    disabled_reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class EndpointCreatedOutput(EndpointOutput):
    secret = serializers.CharField(help_text="The signing secret (`whsec_…`). Shown only in this answer: keep it.")


class AttemptOutput(serializers.Serializer):
    id = serializers.UUIDField()
    number = serializers.IntegerField()
    trigger = serializers.CharField()
    succeeded = serializers.BooleanField()
    status_code = serializers.IntegerField(allow_null=True)
    latency_ms = serializers.IntegerField()
    error = serializers.CharField()
    response_excerpt = serializers.CharField()
    created_at = serializers.DateTimeField()


class DeliveryOutput(serializers.Serializer):
    id = serializers.UUIDField(help_text="The `webhook-id` header of every attempt.")
    endpoint_id = serializers.UUIDField()
    event_id = serializers.UUIDField()
    event_type = serializers.CharField()
    status = serializers.CharField()
    attempt_count = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    retry_until = serializers.DateTimeField()
    last_status_code = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    attempts = AttemptOutput(many=True)


def _created(created: services.CreatedEndpoint) -> dict:
    return {**EndpointOutput(created.endpoint).data, "secret": created.secret}


@extend_schema_view(
    list=extend_schema(summary="Your company's webhook endpoints (manager)"),
    retrieve=extend_schema(summary="One webhook endpoint", responses={200: EndpointOutput, **ERROR_RESPONSES}),
)
class WebhookEndpointViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    queryset = WebhookEndpoint.objects.all()
    serializer_class = EndpointOutput
    permission_classes = [IsManager]
    pagination_class = KeysetPagination
    filter_backends = []

    @extend_schema(
        summary="Add a webhook endpoint; the answer carries its signing secret, once",
        request=EndpointInput,
        responses={201: EndpointCreatedOutput, **ERROR_RESPONSES},
    )
    def create(self, request):
        data = valid(EndpointInput, request.data)
        created = services.endpoint_create(actor=request.user, **data)
        return Response(_created(created), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a webhook endpoint (url, events, format, description, is_active)",
        request=EndpointUpdateInput,
        responses={200: EndpointOutput, **ERROR_RESPONSES},
    )
    def partial_update(self, request, pk=None):
        endpoint = self.get_object()
        data = valid(EndpointUpdateInput, request.data)
        endpoint = services.endpoint_update(actor=request.user, endpoint_id=endpoint.pk, **data)
        return Response(EndpointOutput(endpoint).data)

    @extend_schema(summary="Delete a webhook endpoint and its delivery log", responses={204: None, **ERROR_RESPONSES})
    def destroy(self, request, pk=None):
        services.endpoint_delete(actor=request.user, endpoint_id=self.get_object().pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Issue a new signing secret (shown once); the old one stops at once",
        request=None,
        responses={200: EndpointCreatedOutput, **ERROR_RESPONSES},
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        created = services.endpoint_rotate_secret(actor=request.user, endpoint_id=self.get_object().pk)
        return Response(_created(created))

    @extend_schema(
        summary="The endpoint's deliveries, newest first, with every attempt",
        responses={200: DeliveryOutput(many=True), **ERROR_RESPONSES},
    )
    @action(detail=True, methods=["get"], url_path="deliveries")
    def deliveries(self, request, pk=None):
        endpoint = self.get_object()
        queryset = WebhookDelivery.objects.filter(tenant_id=request.user.tenant_id, endpoint=endpoint).prefetch_related(
            Prefetch("attempts", queryset=WebhookAttempt.objects.order_by("number"))
        )
        paginator = KeysetPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(DeliveryOutput(page, many=True).data)


class WebhookDeliveryViewSet(TenantScopedViewSet):
    queryset = WebhookDelivery.objects.all()
    permission_classes = [IsManager]
    filter_backends = []

    @extend_schema(
        summary="Send a delivery again now (same webhook-id and body), with a fresh 24-hour retry window",
        request=None,
        responses={202: DeliveryOutput, **ERROR_RESPONSES},
    )
    @action(detail=True, methods=["post"], url_path="redeliver")
    def redeliver(self, request, pk=None):
        delivery = services.delivery_redeliver(actor=request.user, delivery_id=pk)
        delivery = WebhookDelivery.objects.prefetch_related("attempts").get(pk=delivery.pk)
        return Response(DeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)


router = SimpleRouter()
router.trailing_slash = "/?"
router.register("webhooks/deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")
router.register("webhooks", WebhookEndpointViewSet, basename="webhook")

urlpatterns = router.urls
