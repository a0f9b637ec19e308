"""Role permissions (SPEC §2). A refusal answers 403 with `code: permission_denied`."""

from rest_framework.permissions import BasePermission

from tenants.models import Role


class _RolePermission(BasePermission):
    roles: tuple[str, ...] = ()
    allow_platform = False
    message = "Your role may not do this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if user.is_platform_admin:
            return self.allow_platform
        return user.member_tenant_id is not None and user.role in self.roles


def roles(*allowed: str, platform: bool = False) -> type[BasePermission]:
    """A permission class for the given tenant roles (and platform admins when `platform`)."""
    names = "_".join(allowed) or "none"
    return type(
        f"Role_{names}_{'p' if platform else 'np'}", (_RolePermission,), {"roles": allowed, "allow_platform": platform}
    )


IsPlatformAdmin = roles(platform=True)
IsManager = roles(Role.TENANT_MANAGER)
IsManagerOrLead = roles(Role.TENANT_MANAGER, Role.TENANT_LEAD)
IsMember = roles(Role.TENANT_MANAGER, Role.TENANT_LEAD, Role.EMPLOYEE)
IsManagerOrPlatform = roles(Role.TENANT_MANAGER, platform=True)
IsManagerOrLeadOrPlatform = roles(Role.TENANT_MANAGER, Role.TENANT_LEAD, platform=True)
