"""Which sign-in a person uses: their tenant's OpenID Connect provider, a password, or both."""

from __future__ import annotations

from .models import SsoConfig


def sso_config_for_tenant(tenant_id) -> SsoConfig | None:
    if tenant_id is None:
        return None
    return SsoConfig.objects.filter(tenant_id=tenant_id, enabled=True).first()


def password_login_allowed(user) -> bool:
    """Platform staff always sign in with a password; a member unless their tenant turned it off."""
    if user.tenant_id is None:
        return True
    config = sso_config_for_tenant(user.tenant_id)
    return config is None or config.password_login_enabled
