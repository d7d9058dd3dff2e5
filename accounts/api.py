"""API sign-in: an e-mail and password (and, for users with two-factor authentication,
a code from their authenticator app or a recovery code) buy a token."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.access import Who, allow
from accounts.client_ip import client_ip
from accounts.models import User
from flexpool.input import TextField


def _mfa_code_valid(user: User, code: str) -> bool:
    """Check ``code`` with allauth's own TOTP and recovery-code validators."""
    for authenticator in Authenticator.objects.filter(
        user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES]
    ):
        if authenticator.wrap().validate_code(code):
            authenticator.record_usage()
            return True
    return False


class ClientThrottle(ScopedRateThrottle):
    """Keyed on the client's address from our trusted proxies (never a client's own
    X-Forwarded-For)."""

    def get_ident(self, request: Request) -> str:
        return client_ip(request._request)


@allow(Who.PUBLIC)
class TokenApi(APIView):
    authentication_classes: list[type] = []
    throttle_classes = [ClientThrottle]
    throttle_scope = "token"

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TokenRequest"

        email = serializers.EmailField()
        password = serializers.CharField(trim_whitespace=False)
        code = TextField(required=False, allow_blank=True, max_length=64)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TokenResponse"

        token = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            email=data.validated_data["email"].lower(),
            password=data.validated_data["password"],
        )
        if user is None or not user.is_active:
            return Response(
                {"non_field_errors": ["Those details do not match an account."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        assert isinstance(user, User)
        needs_code = Authenticator.objects.filter(
            user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES]
        ).exists()
        if needs_code:
            code = (data.validated_data.get("code") or "").replace(" ", "")
            if not code:
                return Response(
                    {"code": ["Enter the code from your authenticator app."]},
                    status=status.HTTP_400_BAD_REQUEST,
                )
            if not _mfa_code_valid(user, code):
                return Response(
                    {"code": ["That code is not valid."]}, status=status.HTTP_400_BAD_REQUEST
                )
        token, _created = Token.objects.get_or_create(user=user)
        return Response(self.OutputSerializer({"token": token.key}).data)
