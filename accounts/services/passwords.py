"""Password reset and change: both revoke every refresh token of the account."""

import uuid

import structlog
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from accounts.exceptions import (
    InvalidCredentials,
    InvalidToken,
)
from accounts.models import TokenRevocation, User
from accounts.notifications import in_background, password_reset_email_send, password_reset_unknown_log
from accounts.services.tokens import user_tokens_revoke
from config.db import lock_timeout_set, retry_on_conflict

logger = structlog.get_logger("accounts")


def _password_validate(*, password: str, user: User) -> None:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}) from exc


@transaction.atomic(durable=True)
def password_reset_request(*, email: str) -> None:
    """Email a single-use reset token if an active account has this email.

    The same work is done for an unknown email: the lookup, a token made for a stand-in account, and
    a job handed to a worker thread after commit (``in_background``). Only that job differs (it mails,
    or it logs), and nobody waits for it, so the answer does not tell whether the account exists.
    """
    email = User.objects.normalize_email(email).strip().lower()
    user = User.objects.filter(email=email, is_active=True).first()
    subject = user if user is not None else User(email=email)
    uid = urlsafe_base64_encode(force_bytes(subject.pk))
    token = default_token_generator.make_token(subject)
    job = password_reset_email_send if user is not None else password_reset_unknown_log
    transaction.on_commit(lambda: in_background(job, to=email, uid=uid, token=token))


def _user_from_uid(uid: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(urlsafe_base64_decode(uid).decode())
    except (ValueError, UnicodeDecodeError):
        return None


@retry_on_conflict
@transaction.atomic(durable=True)
def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    """Set a new password with an emailed token, and revoke every refresh token of the account.

    The account row is locked before the token is checked, so two uses of one token queue and the
    second finds the password (which the token is bound to) changed: a token works once.
    """
    lock_timeout_set()
    user_id = _user_from_uid(uid)
    user = User.objects.select_for_update().filter(pk=user_id, is_active=True).first() if user_id else None
    if user is None or not default_token_generator.check_token(user, token):
        raise InvalidToken("This password reset link is invalid, expired or already used.")
    _password_validate(password=new_password, user=user)
    user.set_password(new_password)
    user.save(update_fields=["password"])
    user_tokens_revoke(user=user, reason=TokenRevocation.PASSWORD_RESET)
    user_id = str(user.pk)
    transaction.on_commit(lambda: logger.info("password_reset_completed", user_id=user_id))
    return user


@retry_on_conflict
@transaction.atomic(durable=True)
def password_change(*, user: User, new_password: str) -> User:
    """Give ``user`` a new password and revoke every refresh token of the account.

    ``user`` is the account as returned by the check of its current password (``authenticate``):
    if the stored password changed since that check, the change is refused.
    """
    lock_timeout_set()
    current = User.objects.select_for_update().filter(pk=user.pk, is_active=True).first()
    if current is None or current.password != user.password:
        raise InvalidCredentials("Your password changed meanwhile; sign in again.")
    _password_validate(password=new_password, user=current)
    current.set_password(new_password)
    current.save(update_fields=["password"])
    user_tokens_revoke(user=current, reason=TokenRevocation.PASSWORD_CHANGED)
    user_id = str(current.pk)
    transaction.on_commit(lambda: logger.info("password_changed", user_id=user_id))
    return current
