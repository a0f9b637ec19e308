"""Single sign-on with a tenant's OpenID Connect provider: the authorization code flow with PKCE.

Authlib's OAuth 2 client builds the authorization URL (`state`, `nonce`, S256 code
challenge) and exchanges the code; joserfc (the JOSE library of Authlib's author, which
Authlib itself now delegates to) verifies the ID token: its signature against the
provider's published keys, `iss`, `aud`, `exp`/`iat` and the `nonce` of this sign-in.
Every refusal signs nobody in and says why on the login page.

The client secret is kept encrypted (Fernet, with a key derived from SECRET_KEY) or as
the name of an environment variable; it is never shown again.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import time
from dataclasses import dataclass

import requests
from authlib.integrations.requests_client import OAuth2Session
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.cache import cache
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from .models import SsoConfig

SESSION_KEY = "perksu_sso"
FLOW_TTL_SECONDS = 600
HTTP_TIMEOUT = 10
SCOPE = "openid email profile"
CLOCK_LEEWAY = 60


class SsoError(Exception):
    """A refused sign-in; the message is shown on the login page."""


# --- the client secret -------------------------------------------------------------------------------------------


def _fernet() -> Fernet:
    key = hashlib.sha256(f"perksu.identity.sso-secret|{settings.SECRET_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def client_secret(config: SsoConfig) -> str:
    if config.client_secret_env:
        value = os.environ.get(config.client_secret_env, "")
        if not value:
            raise SsoError("Single sign-on is not set up completely (the client secret is missing). Ask your admin.")
        return value
    try:
        return _fernet().decrypt(config.client_secret_encrypted.encode()).decode()
    except (InvalidToken, ValueError) as exc:
        raise SsoError("Single sign-on is not set up completely (the client secret cannot be read).") from exc


# --- the provider's metadata -------------------------------------------------------------------------------------


def _get_json(url: str) -> dict:
    try:
        response = requests.get(url, timeout=HTTP_TIMEOUT)
        response.raise_for_status()
        return response.json()
    except (requests.RequestException, ValueError) as exc:
        raise SsoError("Your company's sign-in provider did not answer. Try again in a moment.") from exc


def provider_metadata(config: SsoConfig) -> dict:
    """The provider's discovery document (cached 10 minutes); its `issuer` must be the configured one."""
    issuer = config.issuer.rstrip("/")
    key = "perksu:oidc:meta:" + hashlib.sha256(issuer.encode()).hexdigest()
    metadata = cache.get(key)
    if metadata is None:
        metadata = _get_json(f"{issuer}/.well-known/openid-configuration")
        if str(metadata.get("issuer", "")).rstrip("/") != issuer:
            raise SsoError("Your company's sign-in provider answered for another issuer: sign-in refused.")
        cache.set(key, metadata, 600)
    return metadata


# --- the flow ----------------------------------------------------------------------------------------------------


def start(request, config: SsoConfig, *, email: str, next_url: str) -> str:
    """Remember this sign-in's `state`, `nonce` and PKCE verifier in the session; return the provider URL."""
    metadata = provider_metadata(config)
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48)
    client = OAuth2Session(
        config.client_id,
        scope=SCOPE,
        redirect_uri=callback_url(request),
        code_challenge_method="S256",
    )
    url, _ = client.create_authorization_url(
        metadata["authorization_endpoint"], state=state, nonce=nonce, code_verifier=verifier, login_hint=email
    )
    request.session[SESSION_KEY] = {
        "tenant_id": str(config.tenant_id),
        "state": state,
        "nonce": nonce,
        "verifier": verifier,
        "next": next_url,
        "started": time.time(),
        "url": url,
    }
    return url


def callback_url(request) -> str:
    return request.build_absolute_uri("/accounts/sso/callback/")


@dataclass(frozen=True)
class Identity:
    email: str
    name: str
    config: SsoConfig
    next_url: str


def finish(request) -> Identity:
    """Check `state`, exchange the code (with the PKCE verifier), verify the ID token; the flow's
    session entry is used up whatever happens, so a callback cannot be replayed."""
    flow = request.session.pop(SESSION_KEY, None)
    if not flow or not secrets.compare_digest(str(request.GET.get("state", "")), flow["state"]):
        raise SsoError("This sign-in link is not the one we started (its state does not match). Please start again.")
    if time.time() - flow["started"] > FLOW_TTL_SECONDS:
        raise SsoError("This sign-in took too long. Please start again.")
    if request.GET.get("error"):
        raise SsoError(
            f"Your company's sign-in provider refused: {request.GET.get('error_description') or request.GET['error']}."
        )
    code = request.GET.get("code")
    if not code:
        raise SsoError("The sign-in provider sent no authorization code. Please start again.")
    config = SsoConfig.objects.select_related("tenant").filter(tenant_id=flow["tenant_id"], enabled=True).first()
    if config is None:
        raise SsoError("Single sign-on is no longer enabled for your company.")
    metadata = provider_metadata(config)
    client = OAuth2Session(
        config.client_id,
        client_secret(config),
        scope=SCOPE,
        redirect_uri=callback_url(request),
        code_challenge_method="S256",
    )
    try:
        token = client.fetch_token(
            metadata["token_endpoint"], code=code, code_verifier=flow["verifier"], timeout=HTTP_TIMEOUT
        )
    except Exception as exc:  # Authlib raises OAuthError, requests its own: both mean the same to the person.
        raise SsoError("Your company's sign-in provider refused the sign-in code. Please start again.") from exc
    id_token = token.get("id_token")
    if not id_token:
        raise SsoError("The sign-in provider sent no ID token.")
    claims = verify_id_token(id_token, config=config, metadata=metadata, nonce=flow["nonce"])
    email = str(claims.get("email") or "").strip().lower()
    if not email or claims.get("email_verified") is False:
        raise SsoError("Your sign-in provider did not confirm an e-mail address for you.")
    name = str(claims.get("name") or " ".join(p for p in (claims.get("given_name"), claims.get("family_name")) if p))
    return Identity(email=email, name=name.strip(), config=config, next_url=flow.get("next") or "/")


def verify_id_token(id_token: str, *, config: SsoConfig, metadata: dict, nonce: str) -> dict:
    keys = KeySet.import_key_set(_get_json(metadata["jwks_uri"]))
    try:
        token = jwt.decode(id_token, keys, algorithms=["RS256", "ES256", "PS256", "EdDSA"])
    except (JoseError, ValueError) as exc:
        raise SsoError("The ID token's signature is not the provider's: sign-in refused.") from exc
    registry = jwt.JWTClaimsRegistry(
        leeway=CLOCK_LEEWAY,
        iss={"essential": True, "value": metadata["issuer"]},
        aud={"essential": True, "value": config.client_id},
        exp={"essential": True},
        iat={"essential": True},
        sub={"essential": True},
        nonce={"essential": True, "value": nonce},
    )
    try:
        registry.validate(token.claims)
    except JoseError as exc:
        raise SsoError(f"The ID token was refused ({exc.error}: {exc.description or 'check failed'}).") from exc
    return token.claims
