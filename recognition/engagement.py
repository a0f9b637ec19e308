"""Company values, reactions and comments (SPEC §10): the writes that move no points.

Every function is tenant-scoped by the acting user; a recognition, value or comment
of another tenant answers like a missing one (404).
"""

from __future__ import annotations

import re
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.db.models.functions import Lower

from events import event_types, payloads
from events.services import record_event
from perksu.errors import DomainError, NotFoundError, PermissionDeniedError, get_or_not_found
from points.services import require_manager
from tenants.models import User

from .models import Comment, CompanyValue, Reaction, Recognition
from .services import recognition_group_of

MAX_COMMENT_LENGTH = 1000
EMOJI = tuple(Reaction.Emoji.values)
_HASHTAG = re.compile(r"^\w{1,40}$")


def _member(user: User) -> None:
    if not (user.is_active and user.member_tenant_id):
        raise PermissionDeniedError("Only active tenant members can do this.")


# Company values (managers).


def _clean_value_fields(tenant_id: UUID, fields: dict, *, exclude: UUID | None = None) -> dict:
    clean = {}
    if "name" in fields:
        name = (fields["name"] or "").strip()
        if not name or len(name) > 80:
            raise DomainError("A value needs a name of 1 to 80 characters.", code="invalid", field="name")
        clean["name"] = name
    if "hashtag" in fields:
        tag = (fields["hashtag"] or "").strip().lstrip("#")
        if not _HASHTAG.match(tag):
            raise DomainError(
                "A hashtag is 1 to 40 letters, digits or underscores (without spaces).", code="invalid", field="hashtag"
            )
        clean["hashtag"] = tag
    if "description" in fields:
        text = (fields["description"] or "").strip()
        if len(text) > 500:
            raise DomainError("The description is longer than 500 characters.", code="too_long", field="description")
        clean["description"] = text
    for flag in ("is_active",):
        if flag in fields:
            clean[flag] = bool(fields[flag])
    if "position" in fields:
        position = fields["position"]
        if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position <= 10_000:
            raise DomainError("The position is a whole number from 0 to 10,000.", code="invalid", field="position")
        clean["position"] = position
    others = CompanyValue.objects.filter(tenant_id=tenant_id).exclude(pk=exclude)
    if "name" in clean and others.annotate(n=Lower("name")).filter(n=clean["name"].lower()).exists():
        raise DomainError(f"There is already a value named {clean['name']!r}.", code="duplicate", field="name")
    if "hashtag" in clean and others.annotate(t=Lower("hashtag")).filter(t=clean["hashtag"].lower()).exists():
        raise DomainError(f"#{clean['hashtag']} is already a value's hashtag.", code="duplicate", field="hashtag")
    return clean


def value_create(*, actor: User, name: str, hashtag: str, description: str = "", position: int | None = None):
    """A new active company value of the manager's tenant (at the end of the list unless `position`)."""
    require_manager(actor)
    fields = {"name": name, "hashtag": hashtag, "description": description}
    if position is not None:
        fields["position"] = position
    clean = _clean_value_fields(actor.tenant_id, fields)
    if "position" not in clean:
        last = CompanyValue.objects.filter(tenant_id=actor.tenant_id).aggregate(m=Max("position"))["m"]
        clean["position"] = 0 if last is None else last + 1
    try:
        with transaction.atomic():
            return CompanyValue.objects.create(tenant_id=actor.tenant_id, **clean)
    except IntegrityError as exc:  # a concurrent create of the same name or hashtag
        raise DomainError("That value already exists.", code="duplicate", field="name") from exc


def value_update(*, actor: User, value_id: UUID | str, **fields) -> CompanyValue:
    """Change a value's name, hashtag, description, position or active flag. A value that
    recognitions name is deactivated, never deleted, so the feed keeps showing it."""
    require_manager(actor)
    value = get_or_not_found(CompanyValue.objects.filter(tenant_id=actor.tenant_id), "Value not found.", pk=value_id)
    clean = _clean_value_fields(actor.tenant_id, fields, exclude=value.pk)
    for key, item in clean.items():
        setattr(value, key, item)
    try:
        with transaction.atomic():
            value.save(update_fields=[*clean] or None)
    except IntegrityError as exc:
        raise DomainError("That value already exists.", code="duplicate", field="name") from exc
    return value


# Reactions (any member).


def _emoji(value: str) -> str:
    text = (value or "").strip()
    # Browsers and keyboards send ❤ with or without the emoji variation selector.
    if text == "❤":
        text = "❤️"
    if text not in EMOJI:
        raise DomainError(f"React with one of {' '.join(EMOJI)}.", code="invalid", field="emoji")
    return text


def reaction_add(*, user: User, recognition_id: UUID | str, emoji: str) -> bool:
    """React to a recognition; True if added, False if it was already there (idempotent)."""
    _member(user)
    group_id = recognition_group_of(tenant_id=user.tenant_id, recognition_id=recognition_id)
    emoji = _emoji(emoji)
    try:
        with transaction.atomic():
            _, created = Reaction.objects.get_or_create(
                tenant_id=user.tenant_id, group_id=group_id, user=user, emoji=emoji
            )
    except IntegrityError:  # the same reaction, added concurrently
        return False
    return created


def reaction_remove(*, user: User, recognition_id: UUID | str, emoji: str) -> bool:
    """Take back one's reaction; True if removed, False if there was none."""
    _member(user)
    group_id = recognition_group_of(tenant_id=user.tenant_id, recognition_id=recognition_id)
    emoji = _emoji(emoji)
    deleted, _ = Reaction.objects.filter(tenant_id=user.tenant_id, group_id=group_id, user=user, emoji=emoji).delete()
    return deleted > 0


def reaction_toggle(*, user: User, recognition_id: UUID | str, emoji: str) -> bool:
    """Add the reaction if absent, remove it if present; True if it is now there."""
    _member(user)
    group_id = recognition_group_of(tenant_id=user.tenant_id, recognition_id=recognition_id)
    emoji = _emoji(emoji)
    if Reaction.objects.filter(tenant_id=user.tenant_id, group_id=group_id, user=user, emoji=emoji).exists():
        reaction_remove(user=user, recognition_id=group_id, emoji=emoji)
        return False
    reaction_add(user=user, recognition_id=group_id, emoji=emoji)
    return True


# Comments.


def comment_create(*, author: User, recognition_id: UUID | str, text: str) -> Comment:
    """Comment on a recognition group; records `comment.created` (naming the group's recipients,
    who are told) in the same transaction as the comment."""
    _member(author)
    group_id = recognition_group_of(tenant_id=author.tenant_id, recognition_id=recognition_id)
    body = (text or "").strip()
    if not body:
        raise DomainError("A comment needs some text.", code="required", field="text")
    if len(body) > MAX_COMMENT_LENGTH:
        raise DomainError(
            f"A comment is at most {MAX_COMMENT_LENGTH:,} characters.",
            code="too_long",
            field="text",
            maximum=MAX_COMMENT_LENGTH,
        )
    recipients = [
        r.receiver
        for r in Recognition.objects.filter(tenant_id=author.tenant_id, group_id=group_id)
        .select_related("receiver")
        .order_by("receiver__full_name", "receiver_id")
    ]
    with transaction.atomic():
        comment = Comment.objects.create(tenant_id=author.tenant_id, group_id=group_id, author=author, text=body)
        record_event(
            tenant_id=author.tenant_id,
            name=event_types.COMMENT_CREATED,
            payload=payloads.comment(comment, author=author, recipients=recipients),
            actor_id=author.pk,
        )
    return comment


def _comment(user: User, comment_id: UUID | str) -> Comment:
    return get_or_not_found(Comment.objects.filter(tenant_id=user.tenant_id), "Comment not found.", pk=comment_id)


def comment_delete(*, user: User, comment_id: UUID | str) -> None:
    """The author deletes their own comment (a manager hides others' instead)."""
    _member(user)
    comment = _comment(user, comment_id)
    if comment.author_id != user.pk:
        raise PermissionDeniedError("Only the author can delete a comment; a manager can hide it.")
    comment.delete()


def comment_hide(*, actor: User, comment_id: UUID | str, hidden: bool = True) -> Comment:
    """A manager hides (or shows again) any comment of the tenant; the text is kept, not shown."""
    require_manager(actor)
    comment = _comment(actor, comment_id)
    comment.is_hidden = hidden
    comment.hidden_by = actor if hidden else None
    comment.save(update_fields=["is_hidden", "hidden_by"])
    return comment


def value_get(*, user: User, value_id: UUID | str) -> CompanyValue:
    try:
        return CompanyValue.objects.get(tenant_id=user.tenant_id, pk=value_id)
    except (CompanyValue.DoesNotExist, ValueError, TypeError) as exc:
        raise NotFoundError("Value not found.") from exc
