from config.exceptions import DomainError


class EmailAlreadyRegistered(DomainError):
    code = "email_taken"
    status = 409


class RoleNotAllowed(DomainError):
    code = "role_not_allowed"
    status = 403


class InvalidCredentials(DomainError):
    code = "invalid_credentials"
    status = 401


class TokenRefused(DomainError):
    """A refresh token that is malformed, expired, revoked, already rotated or not the caller's."""

    code = "token_not_valid"
    status = 401


class InvalidToken(DomainError):
    """A password-reset token (or uid) that is malformed, expired, or already used."""

    code = "invalid_token"
    status = 400


class InvalidPassword(DomainError):
    """The current password given to confirm a password change is wrong."""

    code = "invalid_password"
    status = 400


class OtpRequired(DomainError):
    """This account signs in with a second factor and none was sent (details say how to enrol if needed)."""

    code = "otp_required"
    status = 401


class OtpInvalid(DomainError):
    """A wrong, already used or expired one-time code (or recovery code)."""

    code = "otp_invalid"
    status = 401


class OtpThrottled(DomainError):
    """Too many wrong codes in a row: codes are not even checked until ``retry_after`` seconds pass."""

    code = "otp_throttled"
    status = 429


class OtpConfirmationFailed(DomainError):
    """The code sent to confirm a new authenticator does not match it."""

    code = "otp_invalid"
    status = 400


class OtpEnrolmentMissing(DomainError):
    """Confirming an authenticator that was never started (POST /auth/2fa/totp first)."""

    code = "otp_enrolment_missing"
    status = 409
