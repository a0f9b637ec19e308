"""The recognition feed (SPEC §10): one card per recognition group, read by keyset.

A page is a fixed number of queries whatever its length: the page's group heads
(keyset on `created_at, group_id`), then their rows, add-ons, values, reactions
and comments, each one query over the page's groups.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from uuid import UUID

from django.db.models import Count, Q

from perksu.errors import DomainError
from tenants.models import User

from .models import Comment, CompanyValue, Reaction, Recognition, RecognitionValue

PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def person(user: User | None) -> dict:
    """What a card shows of a person: name, initials and a stable colour (an avatar without a photo)."""
    if user is None:
        return {"id": None, "name": "The company", "initials": "★", "tone": 0, "user": None}
    name = user.full_name or user.email
    words = [w for w in name.replace("@", " ").split() if w[:1].isalnum()]
    initials = "".join(w[0] for w in (words[:1] + words[1:][-1:])).upper() or "?"
    tone = int(hashlib.sha256(str(user.pk).encode()).hexdigest()[:4], 16) % 12
    return {"id": user.pk, "name": name, "initials": initials, "tone": tone, "user": user}


@dataclass
class FeedFilters:
    giver_id: UUID | None = None
    receiver_id: UUID | None = None
    value_id: UUID | None = None
    team_id: UUID | None = None
    mine: bool = False


@dataclass
class FeedPage:
    cards: list[dict]
    next_cursor: str | None
    filters: FeedFilters = field(default_factory=FeedFilters)


def encode_cursor(created_at: dt.datetime, group_id: UUID) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{group_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, group = raw.split("|")
        moment = dt.datetime.fromisoformat(when)
        if moment.tzinfo is None:
            raise ValueError
        return moment, UUID(group)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DomainError("This page link is not valid.", code="invalid", field="cursor") from exc


def feed_page(
    *, viewer: User, filters: FeedFilters | None = None, cursor: str | None = None, size: int = PAGE_SIZE
) -> FeedPage:
    """One page of the viewer's tenant feed, newest first; add-ons show under their original."""
    filters = filters or FeedFilters()
    size = max(1, min(size, MAX_PAGE_SIZE))
    tenant_id = viewer.tenant_id
    heads = Recognition.objects.filter(tenant_id=tenant_id, parent_id__isnull=True)
    if filters.giver_id:
        heads = heads.filter(giver_id=filters.giver_id)
    if filters.receiver_id:
        heads = heads.filter(receiver_id=filters.receiver_id)
    if filters.mine:
        heads = heads.filter(Q(giver_id=viewer.pk) | Q(receiver_id=viewer.pk))
    if filters.value_id:
        heads = heads.filter(
            group_id__in=RecognitionValue.objects.filter(tenant_id=tenant_id, value_id=filters.value_id).values(
                "group_id"
            )
        )
    if filters.team_id:
        heads = heads.filter(Q(receiver__profile__team_id=filters.team_id) | Q(giver__profile__team_id=filters.team_id))
    if cursor:
        created_at, group_id = decode_cursor(cursor)
        heads = heads.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, group_id__lt=group_id))
    page = list(heads.values_list("created_at", "group_id").distinct().order_by("-created_at", "-group_id")[: size + 1])
    next_cursor = encode_cursor(*page[size - 1]) if len(page) > size else None
    groups = [group_id for _, group_id in page[:size]]
    return FeedPage(cards=cards_for(viewer=viewer, groups=groups), next_cursor=next_cursor, filters=filters)


def cards_for(*, viewer: User, groups: list[UUID]) -> list[dict]:
    """The cards of these groups (of the viewer's tenant), in the order given."""
    if not groups:
        return []
    tenant_id = viewer.tenant_id
    rows = defaultdict(list)
    for r in (
        Recognition.objects.filter(tenant_id=tenant_id, group_id__in=groups)
        .select_related("giver__profile", "receiver__profile", "tenant")
        .order_by("receiver__full_name", "id")
    ):
        rows[r.group_id].append(r)
    add_ons = defaultdict(list)
    for r in (
        Recognition.objects.filter(tenant_id=tenant_id, parent_id__in=groups)
        .select_related("giver__profile", "tenant")
        .order_by("created_at", "id")
    ):
        add_ons[r.parent_id].append(r)
    values = defaultdict(list)
    for link in (
        RecognitionValue.objects.filter(tenant_id=tenant_id, group_id__in=groups)
        .select_related("value")
        .order_by("value__position", "value__name")
    ):
        values[link.group_id].append(link.value)
    counts = defaultdict(dict)
    for row in (
        Reaction.objects.filter(tenant_id=tenant_id, group_id__in=groups)
        .values("group_id", "emoji")
        .annotate(n=Count("id"), mine=Count("id", filter=Q(user_id=viewer.pk)))
    ):
        counts[row["group_id"]][row["emoji"]] = (row["n"], row["mine"] > 0)
    comments = defaultdict(list)
    for c in Comment.objects.filter(tenant_id=tenant_id, group_id__in=groups).select_related("author__profile"):
        comments[c.group_id].append(c)

    cards = []
    for group_id in groups:
        members = rows.get(group_id)
        if not members:
            continue
        first = members[0]
        extra = []
        for r in add_ons.get(group_id, []):
            if extra and extra[-1]["group_id"] == r.group_id:
                extra[-1]["total_points"] += r.points
                continue
            extra.append(
                {
                    "group_id": r.group_id,
                    "id": r.pk,
                    "giver": person(r.giver) if r.giver_id else {**person(None), "name": r.giver_name},
                    "points": r.points,
                    "total_points": r.points,
                    "message": r.message,
                    "funding_source": r.funding_source,
                    "created_at": r.created_at,
                }
            )
        cards.append(
            {
                "group_id": group_id,
                "id": first.pk,
                "giver": person(first.giver) if first.giver_id else {**person(None), "name": first.giver_name},
                "automated": first.giver_id is None,
                "recipients": [person(r.receiver) for r in members],
                "points": first.points,
                "total_points": first.points * len(members),
                "message": first.message,
                "funding_source": first.funding_source,
                "created_at": first.created_at,
                "values": [{"id": v.pk, "name": v.name, "hashtag": v.hashtag} for v in values.get(group_id, [])],
                "reactions": [
                    {"emoji": emoji, "count": n, "mine": mine}
                    for emoji in Reaction.Emoji.values
                    for n, mine in [counts[group_id].get(emoji, (0, False))]
                ],
                "comments": [
                    {
                        "id": c.pk,
                        "author": person(c.author),
                        "text": "" if c.is_hidden else c.text,
                        "is_hidden": c.is_hidden,
                        "created_at": c.created_at,
                        "can_delete": c.author_id == viewer.pk,
                    }
                    for c in comments.get(group_id, [])
                ],
                "add_ons": extra,
                "add_on_points": sum(a["total_points"] for a in extra),
                "is_recipient": any(r.receiver_id == viewer.pk for r in members),
            }
        )
    return cards


def active_values(tenant_id: UUID) -> list[CompanyValue]:
    return list(CompanyValue.objects.filter(tenant_id=tenant_id, is_active=True).order_by("position", "name"))
