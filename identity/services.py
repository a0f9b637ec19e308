"""Every write to credentials: API tokens, SCIM tokens, and the ending of a person's access.

A secret is returned once, by the function that makes it, and never stored: the
row keeps its SHA-256 and first characters (`identity.tokens`).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connections, router, transaction
from django.db.models import F, QuerySet, Subquery
from django.utils import timezone

from perksu.db import prepared_read
from perksu.errors import DomainError, NotFoundError, PermissionDeniedError
from tenants.models import Tenant, User

from .models import ApiToken, ScimToken, SsoConfig, TokenKey
from .tokens import display_prefix, hash_secret, new_secret

SCIM_SCHEME = "scim_"
LAST_USED_GRANULARITY = timedelta(minutes=5)
"""`last_used_at` is written at most this often per token, not on every request."""


def api_token_issue(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new API token for an active user; returns the row and the secret (shown once).
    The user's expired tokens are removed on the way, so they do not pile up."""
    if not user.is_active:
        raise PermissionDeniedError("This account is deactivated.")
    secret = new_secret()
    now = timezone.now()
    with transaction.atomic():
        _tokens_delete(ApiToken.objects.filter(tenant_id=user.tenant_id, user=user, expires_at__lte=now))
        token = ApiToken.objects.create(
            tenant_id=user.tenant_id,
            user=user,
            name=(name or "").strip()[:100],
            prefix=display_prefix(secret),
            key_hash=hash_secret(secret),
            created_at=now,
            expires_at=now + settings.API_TOKEN_TTL,
        )
        _token_key_create(token)
    return token, secret


def _token_key_create(token: ApiToken | ScimToken) -> None:
    """The token's hash in token_keys, where it is unique across tenants (the caller's transaction)."""
    TokenKey.objects.create(key_hash=token.key_hash, tenant_id=token.tenant_id, token_id=token.pk)


def _tokens_delete(tokens: QuerySet) -> int:
    """Delete these tokens and their rows in token_keys (the caller's transaction). The keys are read
    first and deleted by hash: token_keys has no foreign key to cascade from (a reference table)."""
    doomed = list(tokens.values_list("pk", "key_hash"))
    if not doomed:
        return 0
    TokenKey.objects.filter(key_hash__in=[key_hash for _, key_hash in doomed]).delete()
    deleted, _ = tokens.filter(pk__in=[pk for pk, _ in doomed]).delete()
    return deleted


class _TokenWithUser:
    """The token and its user in one statement, written once per database alias: the secret's hash
    in token_keys names the token's tenant and id, and the token row is joined by both.

    Every API request authenticates, so this read is the API's hottest: building it
    through the ORM's compiler cost more CPU than the award's own statement. The SQL
    and the column converters (UUIDs and datetimes on SQLite) are made once; each
    request only runs them, and on PostgreSQL as a prepared statement that is also the
    request's connection health check (`perksu.db.prepared_read`).
    """

    _by_alias: dict[str, _TokenWithUser] = {}

    def __init__(self, alias: str) -> None:
        quote = connections[alias].ops.quote_name
        self.alias = alias
        self.token_fields = ApiToken._meta.concrete_fields
        self.user_fields = User._meta.concrete_fields
        columns = [f"t.{quote(f.column)}" for f in self.token_fields] + [
            f"u.{quote(f.column)}" for f in self.user_fields
        ]
        token_user, token_tenant = (ApiToken._meta.get_field(name).column for name in ("user", "tenant"))
        self.sql = (
            f"SELECT {', '.join(columns)} FROM {quote(TokenKey._meta.db_table)} k "
            f"JOIN {quote(ApiToken._meta.db_table)} t "
            f"ON t.{quote(token_tenant)} = k.tenant_id AND t.{quote(ApiToken._meta.pk.column)} = k.token_id "
            # The member by (tenant_id, id): the token's tenant is its user's (a platform admin's too).
            f"JOIN {quote(User._meta.db_table)} u "
            f"ON u.{quote(User._meta.get_field('tenant').column)} = t.{quote(token_tenant)} "
            f"AND u.{quote(User._meta.pk.column)} = t.{quote(token_user)} "
            f"WHERE k.key_hash = %s"
        )
        fields = [*self.token_fields, *self.user_fields]
        self.compiler = ApiToken.objects.none().query.get_compiler(alias)
        self.converters = self.compiler.get_converters([f.get_col(f.model._meta.db_table) for f in fields])

    def rows(self, key_hash: str) -> list[tuple]:
        # On PostgreSQL prepared once per connection, and the request's connection health check (perksu.db).
        if connections[self.alias].vendor == "postgresql":
            return prepared_read(self.sql, [key_hash], self.alias)
        with connections[self.alias].cursor() as cursor:
            cursor.execute(self.sql, [key_hash])
            return cursor.fetchall()

    @classmethod
    def on(cls, alias: str) -> _TokenWithUser:
        if alias not in cls._by_alias:
            cls._by_alias[alias] = cls(alias)
        return cls._by_alias[alias]

    def fetch(self, key_hash: str) -> ApiToken | None:
        rows = self.rows(key_hash)
        if not rows:
            return None
        [row] = self.compiler.apply_converters(rows, self.converters) if self.converters else rows
        split = len(self.token_fields)
        token = ApiToken.from_db(self.alias, [f.attname for f in self.token_fields], row[:split])
        token.user = User.from_db(self.alias, [f.attname for f in self.user_fields], row[split:])
        return token


def api_token_authenticate(secret: str) -> ApiToken | None:
    """The live token for this secret with its user, or None (unknown, revoked or expired)."""
    token = _TokenWithUser.on(router.db_for_read(ApiToken)).fetch(hash_secret(secret))
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or token.last_used_at <= now - LAST_USED_GRANULARITY:
        ApiToken.objects.filter(tenant_id=token.tenant_id, pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def api_token_revoke(*, actor: User, token_id: object) -> None:
    """Revoke one API token: one's own, or (a manager) any of the tenant's. Another tenant's id,
    or a colleague's for a non-manager, answers like a missing id."""
    tokens = ApiToken.objects.all()
    if actor.is_manager:
        tokens = tokens.filter(tenant_id=actor.tenant_id)
    elif not actor.is_platform_admin:
        tokens = tokens.filter(user=actor)
    with transaction.atomic():
        deleted = _tokens_delete(_filter_by_id(tokens, token_id))
    if not deleted:
        raise NotFoundError("Token not found.")


def user_credentials_revoke(*, user: User) -> None:
    """End every session and API token of a person at once (deactivation). The caller holds the
    transaction. Sessions end because `auth_epoch` is part of their hash; tokens are deleted, so a
    later reactivation brings neither back."""
    users_credentials_revoke(tenant_id=user.tenant_id, user_ids=[user.pk])
    user.refresh_from_db(fields=["auth_epoch"])


def users_credentials_revoke(*, tenant_id, user_ids: list) -> None:
    """`user_credentials_revoke` for many people of one tenant (staff: the platform's own) in two
    statements (a bulk deactivation)."""
    if not user_ids:
        return
    User.objects.filter(tenant_id=tenant_id, pk__in=user_ids).update(auth_epoch=F("auth_epoch") + 1)
    _tokens_delete(ApiToken.objects.filter(tenant_id=tenant_id, user_id__in=user_ids))


def scim_token_create(*, tenant: Tenant, name: str, actor: User | None) -> tuple[ScimToken, str]:
    name = (name or "").strip()
    if not name:
        raise DomainError("Give the token a name, e.g. the identity provider it is for.", code="invalid", field="name")
    if len(name) > 100:
        raise DomainError("A token name has at most 100 characters.", code="invalid", field="name")
    secret = new_secret(SCIM_SCHEME)
    with transaction.atomic():
        token = ScimToken.objects.create(
            tenant=tenant,
            name=name,
            prefix=display_prefix(secret),
            key_hash=hash_secret(secret),
            created_by=actor,
        )
        _token_key_create(token)
    return token, secret


def scim_token_revoke(*, tenant_id: object, token_id: object) -> None:
    with transaction.atomic():
        deleted = _tokens_delete(_filter_by_id(ScimToken.objects.filter(tenant_id=tenant_id), token_id))
    if not deleted:
        raise NotFoundError("Token not found.")


def scim_token_authenticate(secret: str) -> ScimToken | None:
    """The SCIM token for this secret with its tenant, or None: one statement, the hash's row in
    token_keys naming the token's tenant and id."""
    key = TokenKey.objects.filter(key_hash=hash_secret(secret))
    token = (
        ScimToken.objects.select_related("tenant")
        .filter(tenant_id=Subquery(key.values("tenant_id")[:1]), pk=Subquery(key.values("token_id")[:1]))
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or token.last_used_at <= now - LAST_USED_GRANULARITY:
        ScimToken.objects.filter(tenant_id=token.tenant_id, pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def _filter_by_id(queryset, token_id: object):
    import uuid

    try:
        return queryset.filter(pk=uuid.UUID(str(token_id)))
    except ValueError:
        return queryset.none()


def sso_config_save(
    *,
    tenant: Tenant,
    issuer: str,
    client_id: str,
    allowed_domains: str,
    client_secret: str | None = None,
    client_secret_env: str | None = None,
    enabled: bool = True,
    jit_enabled: bool = False,
    password_login_enabled: bool = True,
) -> SsoConfig:
    """Create or change a tenant's OpenID Connect sign-in. A new `client_secret` is stored
    encrypted and never shown again; None keeps the stored one. An issuer must be https
    (http only for 127.0.0.1/localhost, for local providers)."""
    from urllib.parse import urlparse

    from .oidc import encrypt_secret

    issuer = (issuer or "").strip().rstrip("/")
    parsed = urlparse(issuer)
    local = parsed.hostname in ("127.0.0.1", "localhost")
    if parsed.scheme != "https" and not (parsed.scheme == "http" and local):
        raise DomainError("The issuer must be an https:// URL.", code="invalid", field="issuer")
    client_id = (client_id or "").strip()
    if not client_id:
        raise DomainError("The client id is required.", code="invalid", field="client_id")
    domains = sorted({d.strip().lower().lstrip("@") for d in (allowed_domains or "").replace(",", " ").split() if d})
    if not domains or any("." not in d or "/" in d for d in domains):
        raise DomainError("List the e-mail domains, e.g. triton.com.", code="invalid", field="allowed_domains")
    if not enabled and not password_login_enabled:
        password_login_enabled = True  # nobody could sign in otherwise
    with transaction.atomic():
        config = SsoConfig.objects.select_for_update().filter(tenant=tenant).first() or SsoConfig(tenant=tenant)
        config.issuer, config.client_id, config.allowed_domains = issuer, client_id, " ".join(domains)
        config.enabled, config.jit_enabled, config.password_login_enabled = enabled, jit_enabled, password_login_enabled
        if client_secret_env is not None:
            config.client_secret_env = client_secret_env.strip()
        if client_secret:
            config.client_secret_encrypted = encrypt_secret(client_secret)
            config.client_secret_env = ""
        if enabled and not config.has_secret:
            raise DomainError("The client secret is required.", code="invalid", field="client_secret")
        config.updated_at = timezone.now()
        config.save()
    return config
