from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.exceptions import InvalidCredentials
from accounts.serializers import (
    LoginInputSerializer,
    RefreshTokenInputSerializer,
    RegisterInputSerializer,
    TokenPairOutputSerializer,
    UserOutputSerializer,
)
from accounts.services import auth_logout, auth_tokens_issue, auth_tokens_refresh, user_register


class RegisterView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(request=RegisterInputSerializer, responses={201: UserOutputSerializer}, tags=["auth"])
    def post(self, request):
        data = RegisterInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_register(**data.validated_data, actor=request.user)
        return Response(UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class LoginView(APIView):
    """Exchange email and password for tokens. django-axes counts failures and locks out (429)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=LoginInputSerializer, responses={200: TokenPairOutputSerializer}, tags=["auth"])
    def post(self, request):
        data = LoginInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request._request, email=data.validated_data["email"].lower(), password=data.validated_data["password"]
        )
        if user is None:
            raise InvalidCredentials("Email or password is incorrect.")
        return Response(TokenPairOutputSerializer(auth_tokens_issue(user=user)).data)


class RefreshView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=RefreshTokenInputSerializer, responses={200: TokenPairOutputSerializer}, tags=["auth"])
    def post(self, request):
        data = RefreshTokenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        pair = auth_tokens_refresh(refresh_token=data.validated_data["refresh_token"])
        return Response(TokenPairOutputSerializer(pair).data)


class LogoutView(APIView):
    @extend_schema(request=RefreshTokenInputSerializer, responses={204: None}, tags=["auth"])
    def post(self, request):
        data = RefreshTokenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        auth_logout(user=request.user, refresh_token=data.validated_data["refresh_token"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(responses={200: UserOutputSerializer}, tags=["auth"])
    def get(self, request):
        return Response(UserOutputSerializer(request.user).data)
