"""The request side of signing in: what must see the HTTP request (django-axes counts per request).

Views call these; the decisions and every write stay in ``accounts.services``.
"""

from django.contrib.auth import authenticate
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import TokenError

from accounts.exceptions import InvalidCredentials, InvalidPassword, OtpInvalid
from accounts.lockouts import account_failures_reset
from accounts.models import User
from accounts.services.login import auth_login
from accounts.services.passwords import password_change
from accounts.services.tokens import TokenPair
from accounts.tokens import OtpEnrolmentToken


def login_failure_record(*, request: HttpRequest, email: str) -> None:
    """Count a failed sign-in for ``email`` (a wrong one-time code after a right password) like a wrong password."""
    user_login_failed.send(sender=__name__, credentials={"email": email}, request=request)


def login_attempt(*, request: HttpRequest, email: str, password: str, otp: str | None = None) -> TokenPair:
    """``POST /auth/login``: password (through django-axes), then the second factor if needed, then tokens.

    A wrong password or code counts as a failed login; at the limit, or while the account or client is
    locked, axes' middleware answers 429 instead. Success resets the account's failure count
    (``AXES_RESET_ON_SUCCESS``); ``auth_tokens_issue`` records ``last_login``.
    """
    user = authenticate(request, email=email, password=password)
    if user is None:
        raise InvalidCredentials("Email or password is incorrect.")
    try:
        pair = auth_login(user=user, otp=otp)
    except OtpInvalid:
        login_failure_record(request=request, email=email)
        raise
    account_failures_reset(email=user.email)
    return pair


def password_change_attempt(*, request: HttpRequest, user: User, old_password: str, new_password: str) -> None:
    """``POST /auth/password-change``: the current password is checked like a login (counted, locked out)."""
    checked = authenticate(request, email=user.email, password=old_password)
    if checked is None or checked.pk != user.pk:
        raise InvalidPassword("The current password is wrong.")
    password_change(user=checked, new_password=new_password)


class OtpEnrolmentAuthentication(JWTAuthentication):
    """Accepts the short-lived enrolment token from ``otp_required`` as a bearer token.

    Used only by the enrolment endpoints, before ``JWTAuthentication``: any other bearer token is
    left to it.
    """

    def authenticate(self, request):
        header = self.get_header(request)
        raw_token = self.get_raw_token(header) if header is not None else None
        if raw_token is None:
            return None
        try:
            token = OtpEnrolmentToken(raw_token)
        except TokenError:
            return None
        return self.get_user(token), token
