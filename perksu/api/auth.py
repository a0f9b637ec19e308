"""`POST /api/v1/auth/token/` — exchange an email and password for an API token."""

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from perksu.throttling import LoginThrottled, check_login_allowed

from .authentication import token_expired
from .schema import ERROR_RESPONSES


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()


class ObtainTokenView(APIView):
    """Returns the user's token, or a new one in place of an expired one (perksu/api/authentication.py)."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        operation_id="auth_token_create",
        request=TokenRequestSerializer,
        responses={200: TokenResponseSerializer, **ERROR_RESPONSES},
        auth=[],
        summary="Get an API token",
        description="Send it as `Authorization: Bearer <token>` (or `Token <token>`). A token is valid for "
        "`API_TOKEN_TTL_HOURS` (default 7 days) from when it was issued; asking again returns the same token "
        "until then, and a new one after.",
    )
    def post(self, request):
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
        token, _ = Token.objects.get_or_create(user=user)
        if token_expired(token):
            # Two logins at once: the second delete finds nothing, and get_or_create returns the first's new token.
            Token.objects.filter(pk=token.pk).delete()
            token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})

    def get_authenticate_header(self, request):
        return "Bearer"
