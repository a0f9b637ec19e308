"""Every write to teams and profiles, and the member lifecycle (invite, deactivate, reactivate).

A manager edits their own tenant's members only; another tenant's team or member
answers exactly like a missing one (`NotFoundError`). A member edits only their own
photo and birthday consent (`photos.py`, `profile_set_consent`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from perksu.errors import DomainError, NotFoundError, PermissionDeniedError
from tenants import services as tenant_services
from tenants.models import TENANT_ROLES, Tenant, User

from .models import Profile, Team

UNSET: Any = object()
"""A keyword left out of `profile_update` (None means "clear it")."""

PROFILE_FIELDS = ("title", "team", "manager", "hire_date", "birthday", "birthday_consent")


# --- Teams -----------------------------------------------------------------------------------------------------------


def team_create(*, tenant: Tenant, name: str, parent: Team | None = None) -> Team:
    name = _team_name(name)
    if parent is not None and parent.tenant_id != tenant.pk:
        raise NotFoundError("Team not found.")
    team = Team(tenant=tenant, name=name, parent=parent)
    try:
        with transaction.atomic():
            team.save(force_insert=True)
    except IntegrityError as exc:
        raise DomainError(f"A team named {name!r} already exists.", code="duplicate_team", field="name") from exc
    return team


def team_update(*, team: Team, name: str | None = None, parent: Team | None = UNSET) -> Team:
    """Rename a team and/or move it under another parent (None: top level). A team
    cannot end up inside itself."""
    if name is not None:
        team.name = _team_name(name)
    if parent is not UNSET:
        if parent is not None:
            if parent.tenant_id != team.tenant_id:
                raise NotFoundError("Team not found.")
            parents = dict(Team.objects.filter(tenant_id=team.tenant_id).values_list("id", "parent_id"))
            node: Any = parent.pk
            while node is not None:
                if node == team.pk:
                    raise DomainError("A team cannot be inside itself.", code="team_cycle", field="parent")
                node = parents.get(node)
        team.parent = parent
    try:
        with transaction.atomic():
            team.save(update_fields=["name", "parent"])
    except IntegrityError as exc:
        raise DomainError(f"A team named {team.name!r} already exists.", code="duplicate_team", field="name") from exc
    return team


def team_delete(*, team: Team) -> None:
    """Delete a team; its members and sub-teams stay, without it."""
    team.delete()


def _team_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise DomainError("A team name is 1 to 120 characters.", code="invalid", field="name")
    return name


# --- Profiles --------------------------------------------------------------------------------------------------------


def validate_birthday(month: int, day: int) -> tuple[int, int]:
    """A month and day that exist in some year (29 February does)."""
    try:
        dt.date(2000, int(month), int(day))
    except (TypeError, ValueError) as exc:
        raise DomainError("Birthday is not a valid month and day.", code="invalid", field="birthday") from exc
    return int(month), int(day)


def would_cycle(edges: dict[Any, Any], user_id: Any, manager_id: Any) -> bool:
    """Whether making `manager_id` the manager of `user_id` closes a loop, given
    `edges` {member: their manager} of the tenant."""
    seen = set()
    node = manager_id
    while node is not None and node not in seen:
        if node == user_id:
            return True
        seen.add(node)
        node = edges.get(node)
    return False


def profile_update(
    *,
    user: User,
    actor: User | None,
    title: str = UNSET,
    team: Team | None = UNSET,
    manager: User | None = UNSET,
    hire_date: dt.date | None = UNSET,
    birthday: tuple[int, int] | None = UNSET,
    birthday_consent: bool = UNSET,
) -> Profile:
    """Change the given profile fields (left out: unchanged; None: cleared), all or nothing.

    The team and the manager must belong to the member's tenant (another tenant's answers
    404); a manager must be an active member and must not close a reporting loop."""
    if user.member_tenant_id is None:
        raise DomainError("Platform staff have no profile.", code="invalid")
    changes: dict[str, Any] = {}
    if title is not UNSET:
        title = (title or "").strip()
        if len(title) > 120:
            raise DomainError("A title is at most 120 characters.", code="invalid", field="title")
        changes["title"] = title
    if team is not UNSET:
        if team is not None and team.tenant_id != user.tenant_id:
            raise NotFoundError("Team not found.")
        changes["team"] = team
    if hire_date is not UNSET:
        changes["hire_date"] = hire_date
    if birthday is not UNSET:
        month, day = validate_birthday(*birthday) if birthday is not None else (None, None)
        changes.update(birthday_month=month, birthday_day=day)
    if birthday_consent is not UNSET:
        changes["birthday_consent"] = bool(birthday_consent)
    with transaction.atomic():
        if manager is not UNSET:
            changes["manager"] = _checked_manager(user, manager)
        profile = Profile.objects.select_for_update().get(tenant_id=user.tenant_id, user=user)
        for field, value in changes.items():
            setattr(profile, field, value)
        profile.updated_at = timezone.now()
        Profile.objects.filter(tenant_id=profile.tenant_id, pk=profile.pk).update(
            **changes, updated_at=profile.updated_at
        )
    return profile


def _checked_manager(user: User, manager: User | None) -> User | None:
    if manager is None:
        return None
    if manager.tenant_id != user.tenant_id:
        raise NotFoundError("Manager not found.")
    if manager.pk == user.pk:
        raise DomainError("Nobody is their own manager.", code="manager_cycle", field="manager")
    if not manager.is_active:
        raise DomainError(f"{manager.email} is deactivated.", code="manager_inactive", field="manager")
    # One read of the tenant's reporting lines; a loop is refused whatever its length.
    edges = dict(
        Profile.objects.filter(tenant_id=user.tenant_id, manager__isnull=False).values_list("user_id", "manager_id")
    )
    if would_cycle(edges, user.pk, manager.pk):
        raise DomainError(
            f"{manager.email} already reports (directly or not) to {user.email}: that would be a loop.",
            code="manager_cycle",
            field="manager",
        )
    return manager


def profile_set_consent(*, user: User, birthday_consent: bool) -> Profile:
    """The member's own switch: whether their birthday is shown and celebrated."""
    return profile_update(user=user, actor=user, birthday_consent=birthday_consent)


# --- Members ---------------------------------------------------------------------------------------------------------


def member_invite(
    *,
    tenant: Tenant,
    email: str,
    full_name: str,
    role: str,
    actor: User | None,
    password: str | None = None,
    send_invitation: bool = True,
    base_url: str | None = None,
    **profile: Any,
) -> User:
    """Add a member (wallet, profile, and for a lead the budget, in one transaction) and
    e-mail them a one-time link to set their password, valid 72 hours, once committed
    (no e-mail when a password is given, or with `send_invitation=False`)."""
    from .emails import send_invitation as send

    if role not in [r.value for r in TENANT_ROLES]:
        raise DomainError(f"Unknown role {role!r}.", code="invalid_role", field="role")
    unknown = set(profile) - set(PROFILE_FIELDS)
    if unknown:
        raise DomainError(f"Unknown profile fields: {', '.join(sorted(unknown))}.", code="invalid")
    with transaction.atomic():
        user = tenant_services.user_create(
            tenant=tenant, email=email, full_name=full_name, role=role, password=password, is_active=True
        )
        if profile:
            profile_update(user=user, actor=actor, **profile)
        if send_invitation:
            transaction.on_commit(lambda: send(user=user, invited_by=actor, base_url=base_url))
    return user


def member_set_active(*, user: User, is_active: bool, actor: User | None) -> User:
    """Deactivate (a leaver) or reactivate a member.

    Deactivation stamps `deactivated_at` (the forfeit of the wallet counts from it) and
    revokes the member's API tokens; reactivation clears the stamp, so a member
    reactivated before the forfeit keeps their points. Their sessions and tokens end with
    `tenants.services.user_set_active` and are not revived."""
    if user.member_tenant_id is None:
        raise DomainError("Only tenant members are deactivated here.", code="invalid")
    if actor is not None and actor.pk == user.pk and not is_active:
        raise PermissionDeniedError("You cannot deactivate yourself.")
    with transaction.atomic():
        tenant_services.user_set_active(user=user, is_active=is_active, actor=actor)
        profiles = Profile.objects.filter(tenant_id=user.tenant_id, user=user)
        if is_active:
            profiles.update(deactivated_at=None, updated_at=timezone.now())
        else:
            # A second deactivation does not restart the forfeit clock.
            profiles.filter(deactivated_at__isnull=True).update(
                deactivated_at=timezone.now(), updated_at=timezone.now()
            )
    return user
