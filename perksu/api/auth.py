"""`POST /api/v1/auth/token/` — exchange an email and password for an API token."""

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from perksu.throttling import LoginThrottled, check_login_allowed

from .schema import ERROR_RESPONSES


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})
    name = serializers.CharField(max_length=100, required=False, allow_blank=True)


class TokenResponseSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()


class ObtainTokenView(APIView):
    """Issues a new token on each call (only its hash is stored, so an earlier one cannot be shown again)."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        operation_id="auth_token_create",
        request=TokenRequestSerializer,
        responses={200: TokenResponseSerializer, **ERROR_RESPONSES},
        auth=[],
        summary="Get an API token",
        description="Send it as `Authorization: Bearer <token>` (or `Token <token>`). A token is valid for "
        "`API_TOKEN_TTL_HOURS` (default 7 days) from when it was issued. Each call issues a new token; the "
        "token is shown only in this answer (Perksu keeps only its hash). `name` labels it in "
        "`GET /api/v1/auth/tokens/`, where it can be revoked.",
    )
    def post(self, request):
        from identity.services import api_token_issue

        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        check_login_allowed(request, data.validated_data["email"])  # 429 while locked out (perksu/throttling.py)
        user = authenticate(
            request, username=data.validated_data["email"].lower(), password=data.validated_data["password"]
        )
        if user is None and getattr(request, "login_retry_after", None) is not None:
            raise LoginThrottled(request.login_retry_after)  # the limit was reached by concurrent attempts
        if user is None or not user.is_active:
            raise AuthenticationFailed("The email or password is wrong, or the account is deactivated.")
        if not password_login_allowed(user):
            raise AuthenticationFailed(
                "Your company requires single sign-on: passwords do not sign in to this account.",
                code="password_login_disabled",
            )
        token, secret = api_token_issue(user=user, name=data.validated_data.get("name", ""))
        return Response({"id": token.pk, "token": secret, "expires_at": token.expires_at})

    def get_authenticate_header(self, request):
        return "Bearer"


def password_login_allowed(user) -> bool:
    from identity.sso import password_login_allowed as allowed

    return allowed(user)
