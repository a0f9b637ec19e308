"""Credentials: API tokens, SCIM provisioning tokens and each tenant's single sign-on.

Tokens are stored only as the SHA-256 of the secret (a 160-bit random value, so
a fast hash is enough: nothing to brute-force) plus its first characters, which
the lists show so a person can tell their tokens apart. A token is looked up by
its hash before the tenant is known, so the hash is unique across tenants: in
`TokenKey` (hash → tenant, token), not on the token tables, which are distributed
by tenant on Citus (docs/SCALING.md). A token row is then found by its tenant and id.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from tenants.fields import TenantForeignKey, TenantOneToOneField, TenantRow


class ApiToken(TenantRow, models.Model):
    """A bearer token for the API, issued by `POST /api/v1/auth/token/`. `tenant` is the user's:
    a platform admin's token carries the platform's own tenant (`tenants.models.PLATFORM_TENANT_ID`)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    user = TenantForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64)  # unique through TokenKey, which also finds the token by it
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "identity_api_tokens"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "user", "created_at", "id"], name="api_tokens_tenant_user_idx"),
            models.Index(fields=["tenant", "created_at", "id"], name="api_tokens_tenant_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user_id})"


class ScimToken(TenantRow, models.Model):
    """A tenant's SCIM provisioning credential: it acts for the tenant, not for a person."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64)  # unique through TokenKey, which also finds the token by it
    # A manager, or a platform admin (the console, the API's tenant_id): no constraint through the tenant.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "identity_scim_tokens"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "created_at", "id"], name="scim_tokens_tenant_idx")]
        verbose_name = "SCIM token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class TokenKey(models.Model):
    """Which token each secret's hash belongs to, for API and SCIM tokens alike (a SCIM secret has its
    own scheme prefix, so the two never share a hash): the one place a hash is unique across tenants.

    A small reference table on Citus (a copy on every node), so without foreign keys: `tenant_id` and
    `token_id` are plain columns, written and deleted by `identity.services` in the token's own
    transaction. A request's token read starts here and joins the token row by (tenant, id).
    """

    key_hash = models.CharField(max_length=64, primary_key=True)
    tenant_id = models.UUIDField()
    token_id = models.UUIDField(unique=True)

    class Meta:
        db_table = "token_keys"

    def __str__(self) -> str:
        return f"{self.key_hash[:8]}… → {self.token_id}"


class ScimExternalId(TenantRow, models.Model):
    """The identifier a tenant's identity provider gave a member (SCIM `externalId`).

    Issued by the provisioning client and kept exactly as sent (case-sensitive); unique within
    a tenant, so `filter=externalId eq "…"` finds at most one member. No row: no externalId.
    """

    user = TenantOneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="scim_external_id"
    )
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+", db_index=False)
    external_id = models.CharField(max_length=255)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "identity_scim_external_ids"
        verbose_name = "SCIM external id"
        constraints = [
            models.UniqueConstraint(fields=["tenant", "external_id"], name="scim_external_id_unique_per_tenant")
        ]

    def __str__(self) -> str:
        return f"{self.external_id} → {self.user_id}"


class SsoConfig(TenantRow, models.Model):
    """A tenant's OpenID Connect provider (one per tenant)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.OneToOneField("tenants.Tenant", on_delete=models.CASCADE, related_name="sso")
    enabled = models.BooleanField(
        default=False, help_text="Send members whose e-mail domain is allowed to the provider."
    )
    issuer = models.URLField(max_length=500, help_text="The provider's issuer URL, e.g. https://example.okta.com")
    client_id = models.CharField(max_length=255)
    client_secret_encrypted = models.TextField(blank=True, editable=False)
    client_secret_env = models.CharField(
        max_length=100, blank=True, help_text="Or the name of an environment variable holding the client secret."
    )
    allowed_domains = models.CharField(
        max_length=1000, help_text="E-mail domains that sign in here, separated by commas or spaces."
    )
    jit_enabled = models.BooleanField(
        default=False,
        help_text="Create an employee account at first sign-in for an unknown e-mail of an allowed domain.",
    )
    password_login_enabled = models.BooleanField(
        default=True, help_text="Members may also sign in with a password (turn off to require single sign-on)."
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "identity_sso_configs"
        verbose_name = "single sign-on configuration"

    def __str__(self) -> str:
        return f"SSO of {self.tenant_id}"

    @property
    def domains(self) -> list[str]:
        return sorted({d.strip().lower().lstrip("@") for d in self.allowed_domains.replace(",", " ").split() if d})

    @property
    def has_secret(self) -> bool:
        return bool(self.client_secret_encrypted or self.client_secret_env)
