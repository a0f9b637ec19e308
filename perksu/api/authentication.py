"""Token authentication accepting both `Authorization: Bearer <token>` and `Token <token>`.

Tokens are stored only as a hash (`identity.models.ApiToken`). A token lives
`API_TOKEN_TTL` (settings; `API_TOKEN_TTL_HOURS`, default 7 days) from when it
was issued; after that it is refused. A deactivated user's tokens are deleted by
the deactivation, so they stop at once and a reactivation does not revive them.
"""

from django.utils import timezone
from rest_framework import HTTP_HEADER_ENCODING
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

KEYWORDS = (b"bearer", b"token")


def authorization_header(request) -> bytes:
    """The `Authorization` header as bytes, as DRF's `get_authorization_header` gives it, read from
    META as WSGI names it: DRF's reads `request.headers`, which builds a mapping of every header on
    each request, and nothing else on a token request needs it."""
    auth = request.META.get("HTTP_AUTHORIZATION", b"")
    if isinstance(auth, str):
        auth = auth.encode(HTTP_HEADER_ENCODING)
    return auth


def token_expired(token) -> bool:
    return token.expires_at <= timezone.now()


class BearerTokenAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        parts = authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Invalid Authorization header: send `Bearer <token>`.")
        try:
            secret = parts[1].decode()
        except UnicodeError as exc:
            raise AuthenticationFailed("Invalid token.") from exc
        return self.authenticate_credentials(secret)

    def authenticate_credentials(self, secret: str):
        from identity.services import api_token_authenticate  # the app that owns the tokens

        token = api_token_authenticate(secret)
        if token is None:
            raise AuthenticationFailed("Invalid token.")
        if not token.user.is_active:
            raise AuthenticationFailed("User inactive or deleted.")
        if token_expired(token):
            raise AuthenticationFailed("This token has expired: get a new one from POST /api/v1/auth/token/.")
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword
