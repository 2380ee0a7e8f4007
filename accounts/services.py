"""Every write to accounts and tokens."""

from dataclasses import dataclass

import psycopg
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.exceptions import EmailAlreadyRegistered, RoleNotAllowed, TokenRefused
from accounts.models import Role, User
from config.db import retry_on_conflict


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"


def user_register(*, email: str, password: str, role: str = Role.CUSTOMER, actor: User | None = None) -> User:
    """Create an account. Anyone may create a customer; only an admin may create other roles."""
    if role != Role.CUSTOMER and not (actor is not None and actor.is_authenticated and actor.role == Role.ADMIN):
        raise RoleNotAllowed("Only an admin may create accounts with this role.", role=role.lower())
    email = User.objects.normalize_email(email).strip().lower()
    try:
        validate_password(password, user=User(email=email, role=role))
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    try:
        with transaction.atomic(durable=True):
            return User.objects.create_user(email, password, role=role)
    except IntegrityError as exc:
        if isinstance(exc.__cause__, psycopg.errors.UniqueViolation):
            raise EmailAlreadyRegistered("An account with this email already exists.", email=email) from exc
        raise


def _token_pair(refresh: RefreshToken) -> TokenPair:
    lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]
    return TokenPair(
        access_token=str(refresh.access_token),
        refresh_token=str(refresh),
        expires_in=int(lifetime.total_seconds()),
    )


def _refresh_token_parse(raw: str) -> RefreshToken:
    try:
        return RefreshToken(raw)
    except TokenError as exc:
        raise TokenRefused("Refresh token is invalid, expired or revoked.") from exc


def _refresh_token_revoke(token: RefreshToken) -> None:
    """Blacklist ``token`` exactly once, even against a concurrent use of the same token."""
    outstanding = OutstandingToken.objects.select_for_update(of=("self",)).filter(jti=token["jti"]).first()
    if outstanding is None or BlacklistedToken.objects.filter(token=outstanding).exists():
        raise TokenRefused("Refresh token is invalid, expired or revoked.")
    BlacklistedToken.objects.create(token=outstanding)


@transaction.atomic(durable=True)
def auth_tokens_issue(*, user: User) -> TokenPair:
    return _token_pair(RefreshToken.for_user(user))


@retry_on_conflict
@transaction.atomic(durable=True)
def auth_tokens_refresh(*, refresh_token: str) -> TokenPair:
    """Rotate: the old refresh token is revoked and a new pair is issued for its (still active) user."""
    token = _refresh_token_parse(refresh_token)
    user = User.objects.filter(pk=token.get(settings.SIMPLE_JWT["USER_ID_CLAIM"]), is_active=True).first()
    if user is None:
        raise TokenRefused("The account behind this token is no longer active.")
    _refresh_token_revoke(token)
    return _token_pair(RefreshToken.for_user(user))


@retry_on_conflict
@transaction.atomic(durable=True)
def auth_logout(*, user: User, refresh_token: str) -> None:
    """Revoke the caller's refresh token; access tokens expire on their own."""
    token = _refresh_token_parse(refresh_token)
    if str(token.get(settings.SIMPLE_JWT["USER_ID_CLAIM"])) != str(user.pk):
        raise TokenRefused("This refresh token does not belong to you.")
    _refresh_token_revoke(token)
