from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import JWTAuthentication

from accounts.authentication import OtpEnrolmentAuthentication, login_attempt, password_change_attempt
from accounts.permissions import IsStaff
from accounts.serializers import (
    LoginInputSerializer,
    OtpInputSerializer,
    PasswordChangeInputSerializer,
    PasswordResetConfirmInputSerializer,
    PasswordResetInputSerializer,
    RecoveryCodesOutputSerializer,
    RefreshTokenInputSerializer,
    RegisterInputSerializer,
    TokenPairOutputSerializer,
    TotpEnrolInputSerializer,
    TotpEnrolmentOutputSerializer,
    UserOutputSerializer,
)
from accounts.services.passwords import password_reset_confirm, password_reset_request
from accounts.services.registration import user_register
from accounts.services.tokens import auth_logout, auth_tokens_refresh
from accounts.services.two_factor import otp_totp_confirm, otp_totp_enrol
from config.viewsets import validated


class RegisterView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(request=RegisterInputSerializer, responses={201: UserOutputSerializer}, tags=["auth"])
    def post(self, request):
        data = validated(RegisterInputSerializer, request)
        user = user_register(**data, actor=request.user)
        return Response(UserOutputSerializer(user).data, status=status.HTTP_201_CREATED)


class LoginView(APIView):
    """Exchange email, password (and a one-time code for staff who use two-factor) for tokens."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        request=LoginInputSerializer,
        responses={200: TokenPairOutputSerializer},
        tags=["auth"],
        description=(
            "401 `invalid_credentials`: wrong email or password. 401 `otp_required`: a staff account that signs "
            "in with two-factor and sent no `otp`; when it has no authenticator yet (`STAFF_2FA_REQUIRED`), "
            "`details.enrolment_token` is a short-lived bearer token for `/auth/2fa/totp` and "
            "`/auth/2fa/totp/confirm`. "
            "401 `otp_invalid`: a wrong or used code (counted as a failed login). 429 `otp_throttled`: wrong codes "
            "in a row; wait `details.retry_after` seconds. 429 `login_locked_out`: too many failed logins for this "
            "account (`AXES_FAILURE_LIMIT`) or from this client (`LOGIN_CLIENT_FAILURE_LIMIT`), even with the right "
            "password, for `details.retry_after` seconds."
        ),
    )
    def post(self, request):
        data = validated(LoginInputSerializer, request)
        pair = login_attempt(
            request=request._request,
            email=data["email"].lower(),
            password=data["password"],
            otp=data.get("otp") or None,
        )
        return Response(TokenPairOutputSerializer(pair).data)


class RefreshView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        request=RefreshTokenInputSerializer,
        responses={200: TokenPairOutputSerializer},
        tags=["auth"],
        description=(
            "Rotates the refresh token: the one sent is spent. Sending a refresh token that was already rotated "
            "answers 401 `token_not_valid` and revokes every refresh token descended from the same login."
        ),
    )
    def post(self, request):
        data = validated(RefreshTokenInputSerializer, request)
        pair = auth_tokens_refresh(refresh_token=data["refresh_token"])
        return Response(TokenPairOutputSerializer(pair).data)


class LogoutView(APIView):
    @extend_schema(request=RefreshTokenInputSerializer, responses={204: None}, tags=["auth"])
    def post(self, request):
        data = validated(RefreshTokenInputSerializer, request)
        auth_logout(user=request.user, refresh_token=data["refresh_token"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(responses={200: UserOutputSerializer}, tags=["auth"])
    def get(self, request):
        return Response(UserOutputSerializer(request.user).data)


class PasswordResetView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        request=PasswordResetInputSerializer,
        responses={202: OpenApiResponse(description="Accepted, whether or not an account has this email.")},
        tags=["auth"],
        description=(
            "Emails a single-use reset token (valid `PASSWORD_RESET_MINUTES`) if an active account has this email. "
            "Always 202, so the answer does not tell whether the account exists."
        ),
    )
    def post(self, request):
        data = validated(PasswordResetInputSerializer, request)
        password_reset_request(email=data["email"])
        return Response(status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        request=PasswordResetConfirmInputSerializer,
        responses={204: None},
        tags=["auth"],
        description=(
            "Sets the new password and revokes every refresh token of the account. 400 `invalid_token`: the uid "
            "or token is wrong, expired or already used; 400 `validation_error`: the password validators refused "
            "`new_password` (their messages in `details.fields.new_password`)."
        ),
    )
    def post(self, request):
        data = validated(PasswordResetConfirmInputSerializer, request)
        password_reset_confirm(**data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeView(APIView):
    @extend_schema(
        request=PasswordChangeInputSerializer,
        responses={204: None},
        tags=["auth"],
        description=(
            "Changes the caller's password and revokes every refresh token of the account (sign in again). "
            "400 `invalid_password`: `old_password` is wrong (counted as a failed login); 400 `validation_error`: "
            "the password validators refused `new_password`."
        ),
    )
    def post(self, request):
        data = validated(PasswordChangeInputSerializer, request)
        password_change_attempt(request=request._request, user=request.user, **data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TotpEnrolView(APIView):
    """Two-factor enrolment for staff, with an access token or the enrolment token from ``otp_required``."""

    authentication_classes = [OtpEnrolmentAuthentication, JWTAuthentication]
    permission_classes = [IsStaff]

    @extend_schema(
        request=TotpEnrolInputSerializer,
        responses={201: TotpEnrolmentOutputSerializer},
        tags=["auth"],
        description=(
            "Starts enrolling an authenticator app (TOTP): load `otpauth_uri` (or `secret`) into the app, then "
            "confirm with a code from it. Staff only; the bearer token may be an access token or the enrolment "
            "token of an `otp_required` login answer. Someone already enrolled must send a current code as `otp`."
        ),
    )
    def post(self, request):
        data = validated(TotpEnrolInputSerializer, request)
        enrolment = otp_totp_enrol(user=request.user, otp=data.get("otp") or None)
        return Response(TotpEnrolmentOutputSerializer(enrolment).data, status=status.HTTP_201_CREATED)


class TotpConfirmView(APIView):
    authentication_classes = [OtpEnrolmentAuthentication, JWTAuthentication]
    permission_classes = [IsStaff]

    @extend_schema(
        request=OtpInputSerializer,
        responses={200: RecoveryCodesOutputSerializer},
        tags=["auth"],
        description=(
            "Confirms the authenticator being enrolled; it replaces any earlier one, and new recovery codes "
            "(returned here once) replace the old ones. From now on this account signs in with `otp`. "
            "400 `otp_invalid`: the code does not match; 409 `otp_enrolment_missing`: nothing is being enrolled."
        ),
    )
    def post(self, request):
        data = validated(OtpInputSerializer, request)
        codes = otp_totp_confirm(user=request.user, otp=data["otp"])
        return Response(RecoveryCodesOutputSerializer({"recovery_codes": codes}).data)
