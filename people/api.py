"""Members, teams and the CSV import over HTTP (SPEC §11): `/api/v1/users/`, `/api/v1/teams/`.

`UserViewSet` of `tenants.api` with the people part: profiles in every answer, the
profile fields on create (an invitation e-mail goes out unless a password is given)
and on update, `POST /api/v1/users/import/`, and `PUT|DELETE /api/v1/users/{id}/photo/`.
A manager works on their own tenant only; another tenant's member, team or manager
answers 404 exactly like a missing one.
"""

from __future__ import annotations

import re
import uuid

from django.db import transaction
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from perksu.api.fields import IdField, StrictInput, choice_field, valid
from perksu.api.permissions import IsManagerOrPlatform
from perksu.api.schema import ERROR_RESPONSES
from perksu.api.viewsets import TenantScopedViewSet
from perksu.errors import DomainError, NotFoundError, PermissionDeniedError, get_or_not_found
from tenants import api as tenant_api
from tenants.models import TENANT_ROLES, Role, Tenant, User

from . import photos, services
from .imports import members_import
from .models import Team
from .selectors import photo_url, profile_of


class BirthdayField(serializers.CharField):
    """A birthday as "MM-DD" (no year)."""

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        if not re.fullmatch(r"\d{2}-\d{2}", text):
            raise serializers.ValidationError('A birthday is "MM-DD", e.g. "07-14".')
        month, day = (int(part) for part in text.split("-"))
        try:
            return services.validate_birthday(month, day)
        except DomainError as exc:
            raise serializers.ValidationError(exc.message) from exc


class ProfileInput(StrictInput):
    title = serializers.CharField(max_length=120, required=False, allow_blank=True)
    team_id = IdField(required=False, allow_null=True)
    manager_id = IdField(required=False, allow_null=True)
    hire_date = serializers.DateField(required=False, allow_null=True)
    birthday = BirthdayField(required=False, allow_null=True, help_text='"MM-DD", no year; null clears it.')
    birthday_consent = serializers.BooleanField(required=False)


class MemberCreateInput(ProfileInput, tenant_api.UserCreateInput):
    pass


class MemberUpdateInput(ProfileInput):
    role = choice_field([(r.value, r.label) for r in TENANT_ROLES], enum_id="member-role-update", required=False)
    is_active = serializers.BooleanField(required=False, help_text="false deactivates, true reactivates.")
    full_name = serializers.CharField(max_length=200, required=False)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if not attrs:
            raise serializers.ValidationError({"non_field_errors": ["Send at least one field to change."]})
        return attrs


class TeamRef(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class ManagerRef(serializers.Serializer):
    id = serializers.UUIDField()
    full_name = serializers.CharField()
    email = serializers.EmailField()


class MemberOutput(tenant_api.UserOutput):
    title = serializers.SerializerMethodField()
    team = serializers.SerializerMethodField()
    manager = serializers.SerializerMethodField()
    hire_date = serializers.SerializerMethodField()
    birthday = serializers.SerializerMethodField()
    birthday_consent = serializers.SerializerMethodField()
    photo_url = serializers.SerializerMethodField()
    photo_small_url = serializers.SerializerMethodField()

    def get_title(self, user) -> str:
        p = profile_of(user)
        return p.title if p else ""

    def get_team(self, user) -> TeamRef(allow_null=True):  # type: ignore[valid-type]
        p = profile_of(user)
        return TeamRef(p.team).data if p and p.team_id else None

    def get_manager(self, user) -> ManagerRef(allow_null=True):  # type: ignore[valid-type]
        p = profile_of(user)
        return ManagerRef(p.manager).data if p and p.manager_id else None

    def get_hire_date(self, user) -> serializers.DateField(allow_null=True):  # type: ignore[valid-type]
        p = profile_of(user)
        return p.hire_date.isoformat() if p and p.hire_date else None

    def get_birthday(self, user) -> serializers.CharField(allow_null=True):  # type: ignore[valid-type]
        p = profile_of(user)
        if p and p.birthday_month:
            return f"{p.birthday_month:02d}-{p.birthday_day:02d}"
        return None

    def get_birthday_consent(self, user) -> bool:
        p = profile_of(user)
        return bool(p and p.birthday_consent)

    def get_photo_url(self, user) -> str:
        return photo_url(user, 256)

    def get_photo_small_url(self, user) -> str:
        return photo_url(user, 64)


class ImportInput(serializers.Serializer):
    file = serializers.FileField(help_text="The CSV (UTF-8; `,` or `;`; a header row).")
    dry_run = serializers.BooleanField(required=False, default=True)
    deactivate_missing = serializers.BooleanField(required=False, default=False)


class ImportError_(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True)
    column = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class ImportRow(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text="null: a member missing from the file.")
    email = serializers.EmailField()
    action = serializers.ChoiceField(["create", "update", "deactivate", "unchanged"])


class ImportOutput(serializers.Serializer):
    dry_run = serializers.BooleanField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    deactivated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    errors = ImportError_(many=True)
    rows = ImportRow(many=True)


class PhotoInput(serializers.Serializer):
    photo = serializers.FileField(help_text="A JPEG, PNG or WebP image of at most 5 MB.")


def profile_changes(user: User, data: dict) -> dict:
    """Turn the input's ids into the tenant's rows (another tenant's: 404)."""
    changes = {k: data[k] for k in ("title", "hire_date", "birthday", "birthday_consent") if k in data}
    if "team_id" in data:
        changes["team"] = (
            None
            if data["team_id"] is None
            else get_or_not_found(Team.objects, "Team not found.", pk=data["team_id"], tenant_id=user.tenant_id)
        )
    if "manager_id" in data:
        changes["manager"] = (
            None
            if data["manager_id"] is None
            else get_or_not_found(User.objects, "Manager not found.", pk=data["manager_id"], tenant_id=user.tenant_id)
        )
    return changes


@extend_schema_view(
    list=extend_schema(
        summary="Members with their profiles (platform: every tenant, `?tenant_id=`; manager: own tenant)"
    ),
    retrieve=extend_schema(summary="One member with their profile", responses={200: MemberOutput, **ERROR_RESPONSES}),
)
class MemberViewSet(tenant_api.UserViewSet):
    queryset = User.objects.select_related("profile", "profile__team", "profile__manager").order_by(
        "full_name", "email", "id"
    )
    serializer_class = MemberOutput

    def get_queryset(self):
        queryset = super().get_queryset()
        team_id = self.request.query_params.get("team_id")
        if team_id:
            # Another tenant's team id gives the same empty list as an unknown one.
            try:
                queryset = queryset.filter(profile__team_id=uuid.UUID(team_id))
            except ValueError as exc:
                raise serializers.ValidationError({"team_id": ["Not a team id."]}) from exc
        return queryset

    def _fresh(self, user: User) -> User:
        return self.queryset.get(pk=user.pk)

    def _as_member(self, response: Response) -> Response:
        """A platform staff answer of the users API in MemberOutput's shape (no profile: empty fields), so
        every answer of /api/v1/users/ has the one documented shape."""
        response.data = MemberOutput(self.queryset.get(pk=response.data["id"])).data
        return response

    @extend_schema(
        summary="Add a member (platform: any tenant; manager: own tenant)",
        description="Wallet, profile (and a lead's budget) in one transaction. Without `password` the member "
        "gets an invitation e-mail with a one-time link to set one (valid 72 h). Profile fields are optional; "
        "`team_id` and `manager_id` of another tenant answer 404, a manager loop 400 `manager_cycle`.",
        request=MemberCreateInput,
        responses={201: MemberOutput, **ERROR_RESPONSES},
    )
    def create(self, request):
        data = dict(valid(MemberCreateInput, request.data))
        actor = request.user
        tenant_id = data.pop("tenant_id", None)
        if actor.is_platform_admin:
            if data["role"] == Role.PLATFORM_ADMIN:
                return self._as_member(super().create(request))
            if tenant_id is None:
                raise serializers.ValidationError({"tenant_id": ["Name the tenant of the new member."]})
            tenant = self.platform_tenant(tenant_id)
        else:
            if data["role"] == Role.PLATFORM_ADMIN:
                raise PermissionDeniedError("Managers may not create platform admins.")
            if tenant_id is not None and tenant_id != actor.tenant_id:
                raise NotFoundError("Tenant not found.")
            tenant = actor.tenant
        password = data.pop("password", None)
        probe = User(tenant=tenant)
        profile = profile_changes(probe, data)
        user = services.member_invite(
            tenant=tenant,
            email=data["email"],
            full_name=data["full_name"],
            role=data["role"],
            actor=actor,
            password=password,
            send_invitation=not password,
            base_url=request.build_absolute_uri("/"),
            **profile,
        )
        return Response(MemberOutput(self._fresh(user)).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a member: name, role, active, profile fields",
        description="All or nothing. `is_active: false` deactivates (a leaver: their tokens end; with the "
        "tenant's FORFEIT policy the wallet returns to the pool after the forfeit days), `true` reactivates. "
        "A lead still holding budget cannot change role (400 `lead_budget_not_empty`); you cannot deactivate "
        "yourself (403).",
        request=MemberUpdateInput,
        responses={200: MemberOutput, **ERROR_RESPONSES},
    )
    def partial_update(self, request, pk=None):
        user = self.get_object()
        if user.member_tenant_id is None:
            return self._as_member(super().partial_update(request, pk))
        data = valid(MemberUpdateInput, request.data)
        with transaction.atomic():
            if "role" in data and data["role"] != user.role:
                tenant_api.services.user_change_role(user=user, role=data["role"], actor=request.user)
            if "full_name" in data:
                name = data["full_name"].strip()
                if not name:
                    raise serializers.ValidationError({"full_name": ["A name cannot be empty."]})
                User.objects.filter(tenant_id=user.tenant_id, pk=user.pk).update(full_name=name)
            changes = profile_changes(user, data)
            if changes:
                services.profile_update(user=user, actor=request.user, **changes)
            if "is_active" in data and data["is_active"] != user.is_active:
                services.member_set_active(user=user, is_active=data["is_active"], actor=request.user)
        return Response(MemberOutput(self._fresh(user)).data)

    @extend_schema(
        summary="Import members from a CSV file (dry run by default)",
        description="Multipart: `file`, `dry_run` (default true), `deactivate_missing` (default false). Columns: "
        "email, full_name, role, title, team, manager_email, hire_date, birthday, active. The answer reports per "
        "row (the header is row 1) create / update / deactivate / unchanged and every error with its row and "
        "column. Applying is all or nothing: with any error nothing is written (400 with the same body). "
        "Managers: own tenant; platform admins name it with `?tenant_id=`.",
        request={"multipart/form-data": ImportInput},
        parameters=[OpenApiParameter("tenant_id", str, required=False, description="Platform admins only.")],
        responses={200: ImportOutput, 400: ImportOutput},
    )
    @action(detail=False, methods=["post"], url_path="import")
    def import_(self, request):
        data = valid(ImportInput, request.data)
        actor = request.user
        if actor.is_platform_admin:
            tenant_id = request.query_params.get("tenant_id")
            if not tenant_id:
                raise serializers.ValidationError({"tenant_id": ["Name the tenant (?tenant_id=)."]})
            tenant: Tenant = self.platform_tenant(tenant_id)
        else:
            tenant = actor.tenant
        result = members_import(
            tenant=tenant,
            actor=actor,
            data=data["file"].read(),
            dry_run=data["dry_run"],
            deactivate_missing=data["deactivate_missing"],
        )
        failed = bool(result.errors) and not result.dry_run
        return Response(result.as_dict(), status=status.HTTP_400_BAD_REQUEST if failed else status.HTTP_200_OK)

    @extend_schema(
        summary="Set or remove a member's photo",
        description="PUT/POST multipart `photo`: checked by decoding (JPEG, PNG or WebP, ≤ 5 MB), stripped of "
        "metadata, stored at 256 and 64 px. DELETE removes it. A member may change their own photo; a manager "
        "any member's of the tenant.",
        request={"multipart/form-data": PhotoInput},
        responses={200: MemberOutput, **ERROR_RESPONSES},
    )
    @action(
        detail=True,
        methods=["post", "put", "delete"],
        url_path="photo",
        permission_classes=[IsAuthenticated],
    )
    def photo(self, request, pk=None):
        actor = request.user
        if str(actor.pk) == str(pk) and actor.member_tenant_id:
            user = actor
        elif actor.is_manager or actor.is_platform_admin:
            user = self.get_object()
        else:
            raise NotFoundError("User not found.")
        if user.member_tenant_id is None:
            raise NotFoundError("User not found.")
        if request.method == "DELETE":
            photos.photo_remove(user=user)
        else:
            upload = request.FILES.get("photo")
            if upload is None:
                raise serializers.ValidationError({"photo": ["Send the image as the `photo` file field."]})
            if upload.size > photos.MAX_BYTES:
                raise DomainError("A photo is at most 5 MB.", code="invalid_photo", field="photo")
            photos.photo_set(user=user, data=upload.read())
        return Response(MemberOutput(self._fresh(user)).data)


class TeamInput(StrictInput):
    name = serializers.CharField(max_length=120)
    parent_id = IdField(required=False, allow_null=True)


class TeamUpdateInput(StrictInput):
    name = serializers.CharField(max_length=120, required=False)
    parent_id = IdField(required=False, allow_null=True)


class TeamOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    parent_id = serializers.UUIDField(allow_null=True)
    created_at = serializers.DateTimeField()


@extend_schema_view(
    list=extend_schema(summary="The tenant's teams"),
    retrieve=extend_schema(summary="One team", responses={200: TeamOutput, **ERROR_RESPONSES}),
)
class TeamViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    queryset = Team.objects.order_by("name", "id")
    serializer_class = TeamOutput
    permission_classes = [IsManagerOrPlatform]
    platform_sees_all = True

    def _parent(self, tenant_id, parent_id):
        if parent_id is None:
            return None
        return get_or_not_found(Team.objects, "Team not found.", pk=parent_id, tenant_id=tenant_id)

    @extend_schema(summary="Create a team", request=TeamInput, responses={201: TeamOutput, **ERROR_RESPONSES})
    def create(self, request):
        data = valid(TeamInput, request.data)
        actor = request.user
        if actor.is_platform_admin:
            tenant = self.platform_tenant(request.query_params.get("tenant_id"))
        else:
            tenant = actor.tenant
        team = services.team_create(
            tenant=tenant, name=data["name"], parent=self._parent(tenant.pk, data.get("parent_id"))
        )
        return Response(TeamOutput(team).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Rename a team or move it", request=TeamUpdateInput, responses={200: TeamOutput, **ERROR_RESPONSES}
    )
    def partial_update(self, request, pk=None):
        team = self.get_object()
        data = valid(TeamUpdateInput, request.data)
        kwargs = {}
        if "parent_id" in data:
            kwargs["parent"] = self._parent(team.tenant_id, data["parent_id"])
        team = services.team_update(team=team, name=data.get("name"), **kwargs)
        return Response(TeamOutput(team).data)

    @extend_schema(summary="Delete a team (its members stay, without a team)", responses={204: None, **ERROR_RESPONSES})
    def destroy(self, request, pk=None):
        services.team_delete(team=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


router = SimpleRouter()
router.trailing_slash = "/?"
router.register("users", MemberViewSet, basename="user")
router.register("teams", TeamViewSet, basename="team")

urlpatterns = router.urls
