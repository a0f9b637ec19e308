"""Reads of members with their profiles: a fixed number of queries whatever the page size."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.urls import reverse

from tenants.models import User

from .models import Profile, Team


def members(*, tenant_id, search: str = "", team_id=None, role: str = "", is_active: bool | None = None) -> QuerySet:
    """A tenant's members with profile, team and manager joined (one query for a page)."""
    queryset = (
        User.objects.filter(tenant_id=tenant_id)
        .select_related("profile", "profile__team", "profile__manager")
        .order_by("full_name", "email", "id")
    )
    if search:
        queryset = queryset.filter(
            Q(full_name__icontains=search) | Q(email__icontains=search) | Q(profile__title__icontains=search)
        )
    if team_id:
        queryset = queryset.filter(profile__team_id=team_id)
    if role:
        queryset = queryset.filter(role=role)
    if is_active is not None:
        queryset = queryset.filter(is_active=is_active)
    return queryset


def teams(*, tenant_id) -> QuerySet:
    return Team.objects.filter(tenant_id=tenant_id).select_related("parent").order_by("name")


def profile_of(user: User) -> Profile | None:
    """The member's profile, already joined when the query asked for it; None for platform staff."""
    try:
        return user.profile
    except Profile.DoesNotExist:
        return None


def photo_url(user: User, size: int = 256) -> str:
    """The address of the member's photo at `size` (256 or 64), or "" when there is none.
    The file's random name is in the query string, so a new photo is never a stale cache."""
    profile = profile_of(user)
    if profile is None or not profile.avatar:
        return ""
    name = (profile.avatar if size == 256 else profile.avatar_small).name
    version = name.rsplit("-", 2)[-2] if name.count("-") >= 2 else "1"
    return f"{reverse('people:photo', kwargs={'user_id': user.pk, 'size': size})}?v={version}"
