"""The JWTs accounts signs, besides simplejwt's access token."""

from datetime import timedelta

from django.conf import settings
from rest_framework_simplejwt.tokens import RefreshToken, Token

#: The claim naming a refresh token's ``TokenFamily`` (copied into the access tokens made from it).
FAMILY_CLAIM = "family"


class FamilyRefreshToken(RefreshToken):
    """A refresh token that names its family: every token rotated from one login.

    Whether it may still be exchanged is decided by its family (``TokenFamily.current_jti``), under
    the family's row lock, not by simplejwt's blacklist check at parse time: a token that was
    already rotated must still parse, or its reuse could not be recognised.
    """

    def verify(self) -> None:
        Token.verify(self)  # signature, expiry, jti and type; not the blacklist (see above)


class OtpEnrolmentToken(Token):
    """Lets a staff member who must use two-factor, but has no device yet, enrol one.

    Handed out by ``POST /auth/login`` (in the ``otp_required`` error) after a correct password;
    accepted only by the enrolment endpoints (``accounts.authentication.OtpEnrolmentAuthentication``).
    """

    token_type = "otp_enrolment"

    @property
    def lifetime(self) -> timedelta:
        return timedelta(minutes=settings.OTP_ENROLMENT_MINUTES)
