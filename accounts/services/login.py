"""The sign-in flow: tokens for a user whose password was checked, once any second factor is checked too."""

from django.conf import settings

from accounts.exceptions import OtpRequired
from accounts.models import User
from accounts.selectors import otp_enrolled, otp_required
from accounts.services.tokens import TokenPair, auth_tokens_issue
from accounts.services.two_factor import otp_verify
from accounts.tokens import OtpEnrolmentToken


def otp_enrolment_token_issue(*, user: User) -> str:
    """A short-lived bearer token that works only on the two-factor enrolment endpoints."""
    return str(OtpEnrolmentToken.for_user(user))


def auth_login(*, user: User, otp: str | None = None) -> TokenPair:
    """Tokens for ``user``, whose password was just checked, once any second factor it needs is checked too.

    Staff who must use two-factor but have no device yet get ``otp_required`` with a short-lived
    enrolment token (``details.enrolment_token``) that works only on the enrolment endpoints.
    """
    if otp_required(user=user):
        if not otp_enrolled(user=user):
            raise OtpRequired(
                "Two-factor authentication is required for staff: enrol an authenticator app first.",
                enrol="POST /auth/2fa/totp, then POST /auth/2fa/totp/confirm, with the enrolment token as bearer token",
                enrolment_token=otp_enrolment_token_issue(user=user),
                expires_in=settings.OTP_ENROLMENT_MINUTES * 60,
            )
        if not otp:
            raise OtpRequired("Send the code from your authenticator app (or a recovery code) as otp.")
        otp_verify(user=user, otp=otp)
    return auth_tokens_issue(user=user)
