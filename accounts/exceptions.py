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
    """A refresh token that is malformed, expired, blacklisted or not the caller's."""

    code = "token_not_valid"
    status = 401
