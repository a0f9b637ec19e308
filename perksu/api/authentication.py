"""Token authentication accepting both `Authorization: Bearer <token>` and `Token <token>`.

A token lives `API_TOKEN_TTL` (settings; `API_TOKEN_TTL_HOURS`, default 7 days)
from when it was issued; after that it is refused, and the token endpoint
issues a new one in its place. A deactivated user's token stops working at once.
"""

from django.conf import settings
from django.utils import timezone
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed

KEYWORDS = (b"bearer", b"token")


def token_expired(token: Token) -> bool:
    return token.created <= timezone.now() - settings.API_TOKEN_TTL


class BearerTokenAuthentication(TokenAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Invalid Authorization header: send `Bearer <token>`.")
        try:
            token = parts[1].decode()
        except UnicodeError as exc:
            raise AuthenticationFailed("Invalid token.") from exc
        return self.authenticate_credentials(token)

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_expired(token):
            raise AuthenticationFailed("This token has expired: get a new one from POST /api/v1/auth/token/.")
        return user, token
