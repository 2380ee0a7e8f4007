"""JWT pairs in families: issue, rotate (a rotated token presented again revokes its family), revoke."""

import uuid
from dataclasses import dataclass

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts.exceptions import (
    InvalidCredentials,
    TokenRefused,
)
from accounts.models import TokenFamily, TokenRevocation, User
from accounts.tokens import FAMILY_CLAIM, FamilyRefreshToken
from config.db import lock_timeout_set, retry_on_conflict

logger = structlog.get_logger("accounts")

USER_ID_CLAIM = settings.SIMPLE_JWT["USER_ID_CLAIM"]
TOKEN_REFUSED = "Refresh token is invalid, expired or revoked."


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"


def _token_pair(refresh: FamilyRefreshToken) -> TokenPair:
    lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]
    return TokenPair(
        access_token=str(refresh.access_token),
        refresh_token=str(refresh),
        expires_in=int(lifetime.total_seconds()),
    )


def _refresh_token_parse(raw: str) -> FamilyRefreshToken:
    try:
        return FamilyRefreshToken(raw)
    except TokenError as exc:
        raise TokenRefused(TOKEN_REFUSED) from exc


def _tokens_blacklist(*, jtis: list[str]) -> None:
    """Mark these refresh tokens revoked in simplejwt's blacklist too (idempotent)."""
    ids = OutstandingToken.objects.filter(jti__in=jtis).values_list("pk", flat=True)
    BlacklistedToken.objects.bulk_create([BlacklistedToken(token_id=pk) for pk in ids], ignore_conflicts=True)


def _family_token_issue(*, family: TokenFamily, user: User) -> TokenPair:
    """Sign the family's next refresh token and make it the only one the family accepts."""
    token = FamilyRefreshToken()
    token[USER_ID_CLAIM] = str(user.pk)
    token[FAMILY_CLAIM] = str(family.pk)
    expires_at = datetime_from_epoch(token["exp"])
    OutstandingToken.objects.create(
        user=user, jti=token["jti"], token=str(token), created_at=token.current_time, expires_at=expires_at
    )
    family.current_jti = token["jti"]
    family.expires_at = expires_at
    family.save()
    return _token_pair(token)


def _family_lock(token: FamilyRefreshToken) -> TokenFamily:
    """The token's family, locked; refused if it is gone, revoked, or not the token's user's."""
    family = TokenFamily.objects.select_for_update().filter(pk=token[FAMILY_CLAIM]).first()
    if family is None or family.revoked_at is not None or str(family.user_id) != str(token.get(USER_ID_CLAIM)):
        raise TokenRefused(TOKEN_REFUSED)
    return family


def _family_revoke(*, family: TokenFamily, reason: str) -> None:
    family.revoked_at = timezone.now()
    family.revoked_reason = reason
    family.save(update_fields=["revoked_at", "revoked_reason"])
    _tokens_blacklist(jtis=[family.current_jti])


def _legacy_token_revoke(token: FamilyRefreshToken) -> None:
    """Blacklist a token issued before token families existed, exactly once."""
    outstanding = OutstandingToken.objects.select_for_update(of=("self",)).filter(jti=token["jti"]).first()
    if outstanding is None or BlacklistedToken.objects.filter(token=outstanding).exists():
        raise TokenRefused(TOKEN_REFUSED)
    BlacklistedToken.objects.create(token=outstanding)


@dataclass(frozen=True)
class _Reused:
    """A rotated refresh token came back: its family was revoked (committed) and the caller is refused."""

    family_id: uuid.UUID
    user_id: uuid.UUID


def _reuse_refuse(reused: _Reused) -> None:
    logger.warning("refresh_token_reused", family_id=str(reused.family_id), user_id=str(reused.user_id))
    raise TokenRefused("This refresh token was already used; every token of this sign-in is now revoked.")


@retry_on_conflict
@transaction.atomic(durable=True)
def auth_tokens_issue(*, user: User) -> TokenPair:
    """Start a token family for ``user``, who has just proved who they are, and record ``last_login``.

    The account row is locked and must still be active and hold the password hash ``user`` was
    checked against, so a login racing a password change either commits first (and the change
    revokes its tokens) or is refused.
    """
    lock_timeout_set()
    current = User.objects.select_for_update().filter(pk=user.pk, is_active=True).values_list("password", flat=True)
    if current.first() != user.password:
        raise InvalidCredentials("Email or password is incorrect.")
    user.last_login = timezone.now()
    User.objects.filter(pk=user.pk).update(last_login=user.last_login)
    return _family_token_issue(family=TokenFamily(user=user), user=user)


@transaction.atomic(durable=True)
def _tokens_rotate(*, refresh_token: str) -> TokenPair | _Reused:
    token = _refresh_token_parse(refresh_token)
    lock_timeout_set()
    if FAMILY_CLAIM not in token:
        _legacy_token_revoke(token)
        user = User.objects.filter(pk=token.get(USER_ID_CLAIM), is_active=True).first()
        if user is None:
            raise TokenRefused("The account behind this token is no longer active.")
        return _family_token_issue(family=TokenFamily(user=user), user=user)
    family = _family_lock(token)
    if family.current_jti != token["jti"]:
        _family_revoke(family=family, reason=TokenRevocation.REUSED)
        return _Reused(family_id=family.pk, user_id=family.user_id)
    user = User.objects.filter(pk=family.user_id, is_active=True).first()
    if user is None:
        raise TokenRefused("The account behind this token is no longer active.")
    _tokens_blacklist(jtis=[family.current_jti])
    family.rotated_at = timezone.now()
    return _family_token_issue(family=family, user=user)


@retry_on_conflict
def auth_tokens_refresh(*, refresh_token: str) -> TokenPair:
    """Rotate: the presented refresh token is spent and its family's next pair is issued.

    Presenting a token that was already rotated (stolen, or replayed) revokes its whole family, so
    the newest token, whoever holds it, stops working too. Two concurrent uses of one token queue
    on the family's row lock: one rotates, the other is a reuse.
    """
    outcome = _tokens_rotate(refresh_token=refresh_token)
    if isinstance(outcome, _Reused):
        _reuse_refuse(outcome)
    return outcome


@transaction.atomic(durable=True)
def _tokens_logout(*, user: User, refresh_token: str) -> _Reused | None:
    token = _refresh_token_parse(refresh_token)
    if str(token.get(USER_ID_CLAIM)) != str(user.pk):
        raise TokenRefused("This refresh token does not belong to you.")
    lock_timeout_set()
    if FAMILY_CLAIM not in token:
        _legacy_token_revoke(token)
        return None
    family = _family_lock(token)
    if family.current_jti != token["jti"]:
        _family_revoke(family=family, reason=TokenRevocation.REUSED)
        return _Reused(family_id=family.pk, user_id=family.user_id)
    _family_revoke(family=family, reason=TokenRevocation.LOGOUT)
    return None


@retry_on_conflict
def auth_logout(*, user: User, refresh_token: str) -> None:
    """Revoke the caller's sign-in (the refresh token's family); access tokens expire on their own."""
    outcome = _tokens_logout(user=user, refresh_token=refresh_token)
    if isinstance(outcome, _Reused):
        _reuse_refuse(outcome)


def user_tokens_revoke(*, user: User, reason: str) -> None:
    """Revoke every refresh token of ``user``: all their families, and anything left in simplejwt's list."""
    now = timezone.now()
    TokenFamily.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now, revoked_reason=reason)
    live = OutstandingToken.objects.filter(user=user, expires_at__gt=now, blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token_id=pk) for pk in live.values_list("pk", flat=True)], ignore_conflicts=True
    )


# --- Passwords -----------------------------------------------------------------------------------
