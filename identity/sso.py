"""Which sign-in a person uses: their tenant's OpenID Connect provider, a password, or both."""

from __future__ import annotations

from .models import SsoConfig


def sso_config_for_tenant(tenant_id) -> SsoConfig | None:
    if tenant_id is None:
        return None
    return SsoConfig.objects.filter(tenant_id=tenant_id, enabled=True).first()


def password_login_allowed(user) -> bool:
    """Platform staff always sign in with a password; a member unless their tenant turned it off."""
    if user.member_tenant_id is None:
        return True
    config = sso_config_for_tenant(user.tenant_id)
    return config is None or config.password_login_enabled


def sso_config_for_email(email: str) -> SsoConfig | None:
    """The enabled single sign-on of the tenant this e-mail signs in to: the member's tenant, or —
    for an unknown e-mail — a tenant whose allowed domains include its domain and that creates
    accounts at first sign-in."""
    from tenants.models import User

    email = (email or "").strip().lower()
    if "@" not in email:
        return None
    user = User.objects.for_email(email)
    if user is not None:
        return sso_config_for_tenant(user.tenant_id)
    domain = email.rsplit("@", 1)[1]
    for config in SsoConfig.objects.filter(enabled=True, jit_enabled=True, allowed_domains__icontains=domain):
        if domain in config.domains:
            return config
    return None
