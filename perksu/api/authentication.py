"""Token authentication accepting both `Authorization: Bearer <token>` and `Token <token>`."""

from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

KEYWORDS = (b"bearer", b"token")


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
