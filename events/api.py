"""In-app notifications and e-mail preferences over HTTP (SPEC §12).

- `GET /api/v1/notifications/` — the caller's notices, newest first, by keyset (`?cursor=`; `next` in the answer)
- `GET /api/v1/notifications/unread-count/` — `{"unread": n}`
- `POST /api/v1/notifications/{id}/read/` — mark one read (another member's id: 404)
- `POST /api/v1/notifications/read-all/` — `{"marked": n}`
- `GET/PATCH /api/v1/notifications/preferences/` — `{"email": {"recognition": true, …}}`
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from perksu.api.fields import StrictInput, valid
from perksu.api.permissions import IsMember
from perksu.api.schema import ERROR_RESPONSES

from . import selectors, services
from .models import EmailCategory, Notification


class NotificationOutput(serializers.ModelSerializer):
    is_read = serializers.SerializerMethodField()
    event_id = serializers.UUIDField(read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "url", "is_read", "read_at", "created_at", "event_id"]

    def get_is_read(self, obj: Notification) -> bool:
        return obj.read_at is not None


class NewestFirst(CursorPagination):
    """Keyset pages on (created_at, id), newest first: no OFFSET however long the list (SPEC §14)."""

    ordering = ("-created_at", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class PreferencesInput(StrictInput):
    email = serializers.DictField(child=serializers.BooleanField(), help_text="Category → on/off.")

    def validate_email(self, value: dict) -> dict:
        unknown = sorted(set(value) - set(EmailCategory.values))
        if unknown:
            raise serializers.ValidationError(f"Unknown category {unknown[0]!r}; use one of {EmailCategory.values}.")
        return value


PREFERENCES = inline_serializer("EmailPreferences", {"email": serializers.DictField(child=serializers.BooleanField())})


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    queryset = Notification.objects.none()  # for the schema; get_queryset scopes to the caller
    serializer_class = NotificationOutput
    permission_classes = [IsMember]
    pagination_class = NewestFirst

    def get_queryset(self):
        user = self.request.user
        return Notification.objects.filter(tenant_id=user.tenant_id, user=user)

    @extend_schema(summary="Your notifications, newest first", responses={200: NotificationOutput(many=True)})
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="How many of your notifications are unread",
        responses={200: inline_serializer("UnreadCount", {"unread": serializers.IntegerField()})},
    )
    @action(detail=False, methods=["get"], url_path="unread-count")
    def unread_count(self, request):
        return Response({"unread": selectors.unread_count(request.user)})

    @extend_schema(
        summary="Mark one notification read", request=None, responses={200: NotificationOutput, **ERROR_RESPONSES}
    )
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        _ = request.data  # no body is needed, but a malformed one is refused (400 parse_error), not ignored
        notification = services.notification_mark_read(user=request.user, notification_id=pk)
        return Response(NotificationOutput(notification).data)

    @extend_schema(
        summary="Mark all your notifications read",
        request=None,
        responses={200: inline_serializer("MarkedRead", {"marked": serializers.IntegerField()})},
    )
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        _ = request.data  # as above: a malformed body is a 400, never silently accepted
        return Response({"marked": services.notification_mark_all_read(user=request.user)})

    @extend_schema(methods=["GET"], summary="Your e-mail preferences", responses={200: PREFERENCES})
    @extend_schema(
        methods=["PATCH"],
        summary="Switch e-mail categories on or off",
        request=PreferencesInput,
        responses={200: PREFERENCES, **ERROR_RESPONSES},
    )
    @action(detail=False, methods=["get", "patch"], permission_classes=[IsAuthenticated])
    def preferences(self, request):
        if request.method == "PATCH":
            data = valid(PreferencesInput, request.data)
            allowed = {value for value, _ in selectors.categories_for(request.user)}
            services.email_preferences_set(
                user=request.user, enabled={k: v for k, v in data["email"].items() if k in allowed}
            )
        return Response({"email": {value: on for value, _, on in selectors.email_preferences(request.user)}})


router = SimpleRouter()
router.trailing_slash = "/?"
router.register("notifications", NotificationViewSet, basename="notification")

urlpatterns = router.urls
