"""Whose figures a caller may see (SPEC §13).

- a tenant manager: the whole tenant, or one of its teams and the teams below it;
- a team lead: their own team and the teams below it, nothing else;
- a platform admin: any tenant, named by its id (and optionally one of its teams);
- an employee: no insights.

A team id of another tenant, or outside what the caller may see, answers exactly
like an unknown id (404).
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID
from zoneinfo import ZoneInfo

from django.db.models import Q, QuerySet

from people.models import Profile, Team
from perksu.errors import DomainError, NotFoundError, PermissionDeniedError, get_or_not_found
from tenants.models import TENANT_ROLES, Tenant, User


@dataclass(frozen=True)
class Scope:
    """A tenant, and within it the members whose figures are shown."""

    tenant: Tenant
    team_id: UUID | None = None
    team_name: str | None = None
    team_ids: tuple[UUID, ...] | None = None
    """The team and every team below it; `None` for the whole tenant."""
    sees_pool: bool = True
    """Leads do not see the company pool (SPEC §2), so not its burn rate either."""
    teams: TeamTree | None = None
    """Every team of the tenant (names and parents), read once."""

    @property
    def tenant_id(self) -> UUID:
        return self.tenant.pk

    @property
    def tenant_tz(self) -> ZoneInfo:
        return ZoneInfo(self.tenant.timezone)

    @property
    def is_whole_tenant(self) -> bool:
        return self.team_ids is None

    def member_ids(self):
        """A subquery of the scope's members' ids (every member of the tenant when whole)."""
        return User.objects.filter(self.member_q()).values("pk")

    def member_q(self, prefix: str = "") -> Q:
        """The filter that keeps the scope's members, on `User` or through `prefix` (e.g. "receiver__")."""
        q = Q(**{f"{prefix}tenant_id": self.tenant_id, f"{prefix}role__in": [r.value for r in TENANT_ROLES]})
        if self.team_ids is not None:
            q &= Q(**{f"{prefix}profile__team_id__in": self.team_ids})
        return q

    def members(self) -> QuerySet[User]:
        return User.objects.filter(self.member_q())

    def active_members(self) -> QuerySet[User]:
        return self.members().filter(is_active=True)


def resolve_scope(user: User, *, tenant_id: object = None, team_id: object = None) -> Scope:
    """The scope `user` asked for, or the refusal: 403 for a role without insights (and a
    lead without a team), 400 for a platform admin naming no tenant, 404 for an unknown or
    foreign tenant or team. Two statements: the tenant and its teams."""
    if user.is_platform_admin:
        if tenant_id in (None, ""):
            raise DomainError("Name the tenant with `tenant_id`.", code="required", field="tenant_id")
        tenant = get_or_not_found(Tenant.objects, "Tenant not found.", pk=tenant_id)
        return _narrow(tenant, _teams(tenant), team_id, within=None, sees_pool=True)
    if user.member_tenant_id is None or not (user.is_manager or user.is_lead):
        raise PermissionDeniedError("Insights are for managers, team leads and platform admins.")
    tenant = Tenant.objects.get(pk=user.tenant_id)
    teams = _teams(tenant)
    if user.is_manager:
        return _narrow(tenant, teams, team_id, within=None, sees_pool=True)
    own = Profile.objects.filter(user_id=user.pk).values_list("team_id", flat=True).first()
    if own is None:
        raise PermissionDeniedError("Team insights need a team on your profile; ask a manager to set it.")
    return _narrow(tenant, teams, team_id or own, within=own, sees_pool=False)


@dataclass(frozen=True)
class TeamTree:
    names: dict[UUID, str]
    parents: dict[UUID, UUID | None]

    def below(self, root: UUID) -> tuple[UUID, ...]:
        """`root` and every team under it (a cycle, which the services refuse, would not loop)."""
        children: dict[UUID | None, list[UUID]] = {}
        for team, parent in self.parents.items():
            children.setdefault(parent, []).append(team)
        found, todo = [], [root]
        while todo:
            team = todo.pop()
            if team in found:
                continue
            found.append(team)
            todo.extend(children.get(team, []))
        return tuple(found)

    def choices(self) -> list[tuple[str, str]]:
        """Every team, parents before their children, indented by depth."""
        children: dict[UUID | None, list[UUID]] = {}
        for team, parent in self.parents.items():
            children.setdefault(parent if parent in self.names else None, []).append(team)
        result: list[tuple[str, str]] = []
        seen: set[UUID] = set()

        def walk(parent: UUID | None, depth: int) -> None:
            for team in sorted(children.get(parent, []), key=lambda t: self.names[t].lower()):
                if team in seen:
                    continue
                seen.add(team)
                result.append((str(team), "\u2003" * depth + self.names[team]))
                walk(team, depth + 1)

        walk(None, 0)
        return result


def _teams(tenant: Tenant) -> TeamTree:
    rows = Team.objects.filter(tenant_id=tenant.pk).values_list("pk", "name", "parent_id")
    names, parents = {}, {}
    for pk, name, parent in rows:
        names[pk], parents[pk] = name, parent
    return TeamTree(names, parents)


def _narrow(tenant: Tenant, teams: TeamTree, team_id: object, *, within: UUID | None, sees_pool: bool) -> Scope:
    if team_id in (None, ""):
        return Scope(tenant=tenant, teams=teams, sees_pool=sees_pool)
    try:
        team = team_id if isinstance(team_id, UUID) else UUID(str(team_id))
    except ValueError as exc:
        raise NotFoundError("Team not found.") from exc
    if team not in teams.names or (within is not None and team not in teams.below(within)):
        raise NotFoundError("Team not found.")
    return Scope(
        tenant=tenant,
        teams=teams,
        team_id=team,
        team_name=teams.names[team],
        team_ids=teams.below(team),
        sees_pool=sees_pool,
    )
