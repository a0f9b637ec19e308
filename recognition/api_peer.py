"""Peer recognition over HTTP (SPEC §10): allowances, company values, reactions, comments,
add-ons and the feed of cards.

Every endpoint is scoped to the caller's tenant; another tenant's recognition, value,
comment or member id answers 404 exactly like a missing one.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from perksu.api.fields import AmountField, IdField, StrictInput, valid
from perksu.api.permissions import IsManager, IsMember
from perksu.api.schema import ERROR_RESPONSES, IDEMPOTENCY_KEY, MONEY_ERROR_RESPONSES, OneObjectSchema
from perksu.api.viewsets import TenantScopedViewSet, money_response
from perksu.replica import replica_reads
from tenants.models import Tenant, User

from . import allowances, engagement
from .models import AllowanceUsage, Comment, CompanyValue, Reaction, Recognition
from .selectors import FeedFilters, feed_page
from .services import AwardResult, recognition_add_on, recognition_group_of

Source = Recognition.FundingSource


# Allowances.


class AllowanceOutput(serializers.Serializer):
    user_id = serializers.UUIDField()
    period_start = serializers.DateField()
    period_end = serializers.DateField(help_text="The first day after the period.")
    limit = serializers.IntegerField()
    given = serializers.IntegerField()
    remaining = serializers.IntegerField()
    resets_at = serializers.DateTimeField(help_text="Midnight of `period_end` in the company's time zone.")


class AllowanceListOutput(AllowanceOutput):
    full_name = serializers.CharField()
    role = serializers.CharField()


class BoostInput(StrictInput):
    amount = AmountField()
    reason = serializers.CharField(max_length=500)


class BoostOutput(AllowanceOutput):
    boost_id = serializers.UUIDField()
    amount = serializers.IntegerField()
    reason = serializers.CharField()


def _status_body(status_: allowances.AllowanceStatus) -> dict:
    return {
        "user_id": status_.user_id,
        "period_start": status_.period_start,
        "period_end": status_.period_end,
        "limit": status_.limit,
        "given": status_.given,
        "remaining": status_.remaining,
        "resets_at": status_.resets_at,
    }


class AllowanceViewSet(TenantScopedViewSet):
    """`GET /allowances/me/` (members), `GET /allowances/` (managers), `POST /allowances/{user_id}/boost/`."""

    queryset = User.objects.filter(is_active=True)
    permission_classes = [IsManager]
    lookup_field = "pk"
    lookup_url_kwarg = "user_id"

    def get_permissions(self):
        return [IsMember()] if self.action == "me" else super().get_permissions()

    @extend_schema(summary="Your giving allowance this period", responses={200: AllowanceOutput, **ERROR_RESPONSES})
    @action(detail=False, methods=["get"])
    def me(self, request):
        tenant = Tenant.objects.get(pk=request.user.tenant_id)
        return Response(_status_body(allowances.allowance_status(tenant=tenant, user=request.user)))

    @extend_schema(
        summary="Every active member's allowance this period (managers)",
        responses={200: AllowanceListOutput(many=True), **ERROR_RESPONSES},
    )
    def list(self, request):
        tenant = Tenant.objects.get(pk=request.user.tenant_id)
        start, end = allowances.period_bounds(tenant)
        resets_at = allowances.local_midnight(tenant, end)
        members = self.paginate_queryset(self.get_queryset().order_by("full_name", "id"))
        usage = {
            u.user_id: u
            for u in AllowanceUsage.objects.filter(
                tenant_id=tenant.pk, period_start=start, user_id__in=[m.pk for m in members]
            )
        }
        rows = []
        for member in members:
            row = usage.get(member.pk)
            limit = row.limit if row else allowances.role_allowance(tenant, member.role)
            given = row.given if row else 0
            rows.append(
                {
                    "user_id": member.pk,
                    "full_name": member.full_name,
                    "role": member.role,
                    "period_start": start,
                    "period_end": end,
                    "limit": limit,
                    "given": given,
                    "remaining": max(limit - given, 0),
                    "resets_at": resets_at,
                }
            )
        return self.get_paginated_response(AllowanceListOutput(rows, many=True).data)

    @extend_schema(
        summary="Boost a member's allowance for this period (managers; logged)",
        request=BoostInput,
        responses={201: BoostOutput, **MONEY_ERROR_RESPONSES},
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=True, methods=["post"])
    def boost(self, request, user_id=None):
        data = valid(BoostInput, request.data)

        def operation():
            boost = allowances.allowance_boost(
                actor=request.user, user_id=user_id, amount=data["amount"], reason=data["reason"]
            )
            tenant = Tenant.objects.get(pk=request.user.tenant_id)
            body = _status_body(allowances.allowance_status(tenant=tenant, user=boost.user))
            return status.HTTP_201_CREATED, {
                **body,
                "boost_id": boost.pk,
                "amount": boost.amount,
                "reason": boost.reason,
            }

        return money_response(request, "allowances.boost", operation)


# Company values.


class ValueOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    hashtag = serializers.CharField()
    description = serializers.CharField()
    is_active = serializers.BooleanField()
    position = serializers.IntegerField()


class ValueInput(StrictInput):
    name = serializers.CharField(max_length=80)
    hashtag = serializers.CharField(max_length=41)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    position = serializers.IntegerField(min_value=0, max_value=10_000, required=False)


class ValueUpdateInput(StrictInput):
    name = serializers.CharField(max_length=80, required=False)
    hashtag = serializers.CharField(max_length=41, required=False)
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    position = serializers.IntegerField(min_value=0, max_value=10_000, required=False)
    is_active = serializers.BooleanField(required=False)


class CompanyValueViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, TenantScopedViewSet
):
    """The company's values: members read (`?active=1` for the active ones), managers write."""

    queryset = CompanyValue.objects.order_by("position", "name", "id")
    serializer_class = ValueOutput
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_permissions(self):
        return [IsMember()] if self.action in ("list", "retrieve") else [IsManager()]

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.request.query_params.get("active") in ("1", "true"):
            queryset = queryset.filter(is_active=True)
        return queryset

    @extend_schema(request=ValueInput, responses={201: ValueOutput, **ERROR_RESPONSES}, summary="Add a value")
    def create(self, request):
        data = valid(ValueInput, request.data)
        value = engagement.value_create(actor=request.user, **data)
        return Response(ValueOutput(value).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ValueUpdateInput, responses={200: ValueOutput, **ERROR_RESPONSES}, summary="Change a value")
    def partial_update(self, request, pk=None):
        self.get_object()  # 404 for another tenant's value, before the body is judged
        data = valid(ValueUpdateInput, request.data)
        value = engagement.value_update(actor=request.user, value_id=pk, **data)
        return Response(ValueOutput(value).data)


# Reactions, comments, add-ons: actions on /recognitions/{id}/ (any row id of a group, or the group id).


class ReactionInput(StrictInput):
    emoji = serializers.CharField(max_length=8, help_text="One of 👏 🎉 ❤️ 🙌 💡.")


class ReactionOutput(serializers.Serializer):
    emoji = serializers.CharField()
    reacted = serializers.BooleanField(help_text="Whether your reaction is now there.")
    count = serializers.IntegerField()


class CommentInput(StrictInput):
    text = serializers.CharField(max_length=engagement.MAX_COMMENT_LENGTH)


class CommentOutput(serializers.Serializer):
    id = serializers.UUIDField()
    group_id = serializers.UUIDField()
    author_id = serializers.UUIDField()
    author_name = serializers.CharField(source="author.full_name")
    text = serializers.SerializerMethodField()
    is_hidden = serializers.BooleanField()
    created_at = serializers.DateTimeField()

    def get_text(self, comment) -> str:
        return "" if comment.is_hidden else comment.text


class AddOnInput(StrictInput):
    points = AmountField()
    message = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    funding_source = serializers.ChoiceField(
        choices=[Source.POOL, Source.LEAD_BUDGET, Source.ALLOWANCE], required=False
    )


class AddOnOutput(serializers.Serializer):
    group_id = serializers.UUIDField()
    parent_id = serializers.UUIDField()
    points = serializers.IntegerField()
    receiver_ids = serializers.ListField(child=serializers.UUIDField())
    total_points = serializers.IntegerField()
    funding_source = serializers.CharField()
    tenant_remaining_pool = serializers.IntegerField(allow_null=True)
    lead_remaining_budget = serializers.IntegerField(allow_null=True)
    allowance_remaining = serializers.IntegerField(allow_null=True)


def award_figures(result: AwardResult, giver: User) -> dict:
    """The payer's figures after an award, as the create and add-on responses show them."""
    remaining = None
    if result.funding_source == Source.ALLOWANCE:
        limit = (
            AllowanceUsage.objects.filter(
                tenant_id=result.tenant_id, user_id=giver.pk, period_start=result.allowance_period
            )
            .values_list("limit", flat=True)
            .first()
        )
        remaining = None if limit is None else max(limit - result.allowance_given, 0)
    return {
        "tenant_remaining_pool": result.pool_balance_after
        if result.funding_source in (Source.POOL, Source.ALLOWANCE)
        else None,
        "lead_remaining_budget": result.lead_budget_after if result.funding_source == Source.LEAD_BUDGET else None,
        "allowance_remaining": remaining,
    }


class RecognitionEngagementMixin:
    """Reactions, comments and add-ons of a recognition (mixed into RecognitionViewSet)."""

    @extend_schema(
        summary="React (POST) or take back your reaction (DELETE)",
        request=ReactionInput,
        responses={200: ReactionOutput, **ERROR_RESPONSES},
    )
    @action(detail=True, methods=["post", "delete"], url_path="reactions")
    def reactions(self, request, pk=None):
        data = valid(ReactionInput, request.data)
        if request.method == "POST":
            engagement.reaction_add(user=request.user, recognition_id=pk, emoji=data["emoji"])
        else:
            engagement.reaction_remove(user=request.user, recognition_id=pk, emoji=data["emoji"])
        group_id = recognition_group_of(tenant_id=request.user.tenant_id, recognition_id=pk)
        emoji = engagement._emoji(data["emoji"])
        mine = Reaction.objects.filter(tenant_id=request.user.tenant_id, group_id=group_id, emoji=emoji)
        return Response({"emoji": emoji, "reacted": mine.filter(user=request.user).exists(), "count": mine.count()})

    @extend_schema(
        summary="Comments of a recognition (GET) or add one (POST, 1–1,000 characters)",
        request=CommentInput,
        responses={200: CommentOutput(many=True), 201: CommentOutput, **ERROR_RESPONSES},
    )
    # Every comment of one recognition (at most 500), oldest first: a plain list, neither paged nor filtered.
    @action(detail=True, methods=["get", "post"], url_path="comments", pagination_class=None, filter_backends=[])
    def comments(self, request, pk=None):
        if request.method == "POST":
            data = valid(CommentInput, request.data)
            comment = engagement.comment_create(author=request.user, recognition_id=pk, text=data["text"])
            return Response(CommentOutput(comment).data, status=status.HTTP_201_CREATED)
        group_id = recognition_group_of(tenant_id=request.user.tenant_id, recognition_id=pk)
        rows = Comment.objects.filter(tenant_id=request.user.tenant_id, group_id=group_id).select_related("author")
        return Response(CommentOutput(rows.order_by("created_at", "id")[:500], many=True).data)

    @extend_schema(
        summary="Add points to a recognition: its recipients each receive `points`, paid like any award",
        request=AddOnInput,
        responses={201: AddOnOutput, **MONEY_ERROR_RESPONSES},
        parameters=[IDEMPOTENCY_KEY],
    )
    @action(detail=True, methods=["post"], url_path="add-on")
    def add_on(self, request, pk=None):
        data = valid(AddOnInput, request.data)

        def operation():
            result = recognition_add_on(
                giver=request.user,
                recognition_id=pk,
                points=data["points"],
                message=data.get("message"),
                funding_source=data.get("funding_source"),
            )
            return status.HTTP_201_CREATED, {
                "group_id": result.group_id,
                "parent_id": result.recognitions[0].parent_id,
                "points": result.points,
                "receiver_ids": [r.receiver_id for r in result.recognitions],
                "total_points": result.points * len(result.recognitions),
                "funding_source": result.funding_source,
                **award_figures(result, request.user),
            }

        return money_response(request, "recognitions.add_on", operation)


class CommentViewSet(TenantScopedViewSet):
    """`DELETE /comments/{id}/` (the author), `POST /comments/{id}/hide/` and `/unhide/` (managers)."""

    queryset = Comment.objects.select_related("author")
    serializer_class = CommentOutput
    permission_classes = [IsMember]

    @extend_schema(summary="Delete your own comment", responses={204: None, **ERROR_RESPONSES})
    def destroy(self, request, pk=None):
        engagement.comment_delete(user=request.user, comment_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(summary="Hide a comment (managers)", request=None, responses={200: CommentOutput})
    @action(detail=True, methods=["post"], permission_classes=[IsManager])
    def hide(self, request, pk=None):
        return Response(CommentOutput(engagement.comment_hide(actor=request.user, comment_id=pk)).data)

    @extend_schema(summary="Show a hidden comment again (managers)", request=None, responses={200: CommentOutput})
    @action(detail=True, methods=["post"], permission_classes=[IsManager])
    def unhide(self, request, pk=None):
        comment = engagement.comment_hide(actor=request.user, comment_id=pk, hidden=False)
        return Response(CommentOutput(comment).data)


# The feed of cards.


class PersonOutput(serializers.Serializer):
    id = serializers.UUIDField(allow_null=True)
    name = serializers.CharField()
    initials = serializers.CharField()


class CardOutput(serializers.Serializer):
    id = serializers.UUIDField(help_text="The first recognition of the group: use it for reactions and comments.")
    group_id = serializers.UUIDField()
    giver = PersonOutput()
    recipients = PersonOutput(many=True)
    points = serializers.IntegerField()
    total_points = serializers.IntegerField()
    message = serializers.CharField()
    funding_source = serializers.CharField()
    created_at = serializers.DateTimeField()
    values = serializers.ListField(child=serializers.DictField())
    reactions = serializers.ListField(child=serializers.DictField())
    comments = serializers.ListField(child=serializers.DictField())
    add_ons = serializers.ListField(child=serializers.DictField())


class FeedPageOutput(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="The next page, or null on the last one.")
    next_cursor = serializers.CharField(allow_null=True, help_text="Pass as `cursor` for the next page.")
    results = CardOutput(many=True)


def _plain(card: dict) -> dict:
    """A card without the model instances the pages use."""
    strip = lambda p: {k: v for k, v in p.items() if k not in ("user", "tone")}  # noqa: E731
    out = {**card, "giver": strip(card["giver"]), "recipients": [strip(p) for p in card["recipients"]]}
    out["comments"] = [{**c, "author": strip(c["author"])} for c in card["comments"]]
    out["add_ons"] = [{**a, "giver": strip(a["giver"])} for a in card["add_ons"]]
    return out


class FeedViewSet(TenantScopedViewSet):
    permission_classes = [IsMember]
    queryset = Recognition.objects.none()
    # Its own keyset page (`next`, `next_cursor`, `results`) and its own filters (FeedQuery).
    pagination_class = None
    filter_backends: list = []
    schema = OneObjectSchema()

    @extend_schema(
        summary="The feed: one card per recognition, newest first, by keyset (`cursor`)",
        parameters=[
            OpenApiParameter("giver_id", str, description="Given by this member."),
            OpenApiParameter("receiver_id", str, description="Received by this member."),
            OpenApiParameter("value_id", str, description="Naming this company value."),
            OpenApiParameter("team_id", str, description="Given or received by a member of this team."),
            OpenApiParameter("mine", bool, description="Given or received by you."),
            OpenApiParameter("cursor", str, description="`next_cursor` of the previous page."),
            OpenApiParameter("page_size", int, description="1–100 (20)."),
        ],
        responses={200: FeedPageOutput, **ERROR_RESPONSES},
    )
    @replica_reads()
    def list(self, request):
        data = valid(FeedQuery, request.query_params)
        page = feed_page(
            viewer=request.user,
            filters=FeedFilters(
                giver_id=data.get("giver_id"),
                receiver_id=data.get("receiver_id"),
                value_id=data.get("value_id"),
                team_id=data.get("team_id"),
                mine=data.get("mine", False),
            ),
            cursor=data.get("cursor"),
            size=data.get("page_size", 20),
        )
        next_url = None
        if page.next_cursor:
            query = request.query_params.copy()
            query["cursor"] = page.next_cursor
            next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        return Response(
            {
                "next": next_url,
                "next_cursor": page.next_cursor,
                "results": [_plain(c) for c in page.cards],
            }
        )


class FeedQuery(serializers.Serializer):
    giver_id = IdField(required=False)
    receiver_id = IdField(required=False)
    value_id = IdField(required=False)
    team_id = IdField(required=False)
    mine = serializers.BooleanField(required=False)
    cursor = serializers.CharField(required=False, max_length=200)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=100)
