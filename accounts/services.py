"""Every write to accounts, tokens and second factors."""

import secrets
import uuid
from base64 import b32encode
from dataclasses import dataclass
from datetime import datetime

import psycopg
import structlog
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts.exceptions import (
    EmailAlreadyRegistered,
    InvalidCredentials,
    InvalidToken,
    OtpConfirmationFailed,
    OtpEnrolmentMissing,
    OtpInvalid,
    OtpRequired,
    OtpThrottled,
    RoleNotAllowed,
    TokenRefused,
)
from accounts.models import Role, TokenFamily, TokenRevocation, User
from accounts.notifications import password_reset_email_send
from accounts.selectors import otp_enrolled, otp_required
from accounts.tokens import FAMILY_CLAIM, FamilyRefreshToken, OtpEnrolmentToken
from config.db import lock_timeout_set, retry_on_conflict

logger = structlog.get_logger("accounts")

USER_ID_CLAIM = settings.SIMPLE_JWT["USER_ID_CLAIM"]
TOKEN_REFUSED = "Refresh token is invalid, expired or revoked."
# Recovery codes: 10 characters from an alphabet without look-alikes (about 49 bits each), shown as xxxxx-xxxxx.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_LENGTH = 10


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "bearer"


@dataclass(frozen=True)
class TotpEnrolment:
    """A new, unconfirmed authenticator: the secret to load into the app, as text and as an otpauth URI."""

    secret: str
    otpauth_uri: str


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


# --- Refresh tokens: one family per login, rotated on every use, revoked whole on reuse ---------------


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


def _user_tokens_revoke(*, user: User, reason: str) -> None:
    """Revoke every refresh token of ``user``: all their families, and anything left in simplejwt's list."""
    now = timezone.now()
    TokenFamily.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now, revoked_reason=reason)
    live = OutstandingToken.objects.filter(user=user, expires_at__gt=now, blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token_id=pk) for pk in live.values_list("pk", flat=True)], ignore_conflicts=True
    )


# --- Passwords -----------------------------------------------------------------------------------


def _password_validate(*, password: str, user: User) -> None:
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}) from exc


@transaction.atomic(durable=True)
def password_reset_request(*, email: str) -> None:
    """Email a single-use reset token if an active account has this email.

    The same work is done for an unknown email (the lookup, and a token made for a stand-in
    account); only the mail, sent after commit, differs. The caller answers the same either way.
    """
    email = User.objects.normalize_email(email).strip().lower()
    user = User.objects.filter(email=email, is_active=True).first()
    subject = user if user is not None else User(email=email)
    uid = urlsafe_base64_encode(force_bytes(subject.pk))
    token = default_token_generator.make_token(subject)
    if user is None:
        return
    transaction.on_commit(lambda: password_reset_email_send(to=email, uid=uid, token=token))


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
    _user_tokens_revoke(user=user, reason=TokenRevocation.PASSWORD_RESET)
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
    _user_tokens_revoke(user=current, reason=TokenRevocation.PASSWORD_CHANGED)
    user_id = str(current.pk)
    transaction.on_commit(lambda: logger.info("password_changed", user_id=user_id))
    return current


# --- Two-factor (django-otp): TOTP authenticator apps and static recovery codes -------------------


def _otp_normalise(otp: str) -> str:
    return "".join(otp.split()).replace("-", "").lower()


@dataclass(frozen=True)
class _OtpChecked:
    device: Device | None
    throttled_until: datetime | None = None


@retry_on_conflict
@transaction.atomic(durable=True)
def _otp_check(*, user: User, otp: str) -> _OtpChecked:
    """Try ``otp`` on the user's confirmed devices of its kind (digits: the authenticator app; letters:
    a recovery code), their rows locked so one code is accepted once even by concurrent logins.

    Commits whatever the outcome: the devices' failure counters (django-otp's throttling) must survive.
    """
    lock_timeout_set()
    token = _otp_normalise(otp)
    model = TOTPDevice if token.isdigit() else StaticDevice
    throttled_until = None
    for device in model.objects.filter(user=user, confirmed=True).select_for_update().order_by("pk"):
        allowed, extra = device.verify_is_allowed()
        if not allowed:
            throttled_until = (extra or {}).get("locked_until")
            continue
        if device.verify_token(token):
            return _OtpChecked(device=device)
    return _OtpChecked(device=None, throttled_until=throttled_until)


def otp_verify(*, user: User, otp: str) -> Device:
    """The device that accepts ``otp`` for ``user``; ``OtpInvalid`` (or ``OtpThrottled``) otherwise.

    A TOTP code is accepted once (django-otp remembers the last time step used); a recovery code is
    deleted when used. After a wrong code, django-otp refuses to check the next one for 1, 2, 4, ...
    seconds.
    """
    checked = _otp_check(user=user, otp=otp)
    if checked.device is not None:
        return checked.device
    if checked.throttled_until is not None:
        retry_after = max(1, int((checked.throttled_until - timezone.now()).total_seconds()) + 1)
        raise OtpThrottled("Too many wrong codes; wait before trying again.", retry_after=retry_after)
    raise OtpInvalid("The one-time code is wrong, expired or already used.")


def otp_enrolment_token_issue(*, user: User) -> str:
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


def otp_totp_enrol(*, user: User, otp: str | None = None) -> TotpEnrolment:
    """Start enrolling an authenticator app: a new, unconfirmed TOTP device (replacing any unconfirmed one).

    Someone already enrolled proves it with a current code (or a recovery code) first; the new
    device replaces the old ones only once it is confirmed.
    """
    if otp_enrolled(user=user):
        if not otp:
            raise OtpRequired("You already use two-factor: send a current code (or a recovery code) as otp.")
        otp_verify(user=user, otp=otp)
    device = _totp_device_create(user=user)
    return TotpEnrolment(secret=b32encode(device.bin_key).decode().rstrip("="), otpauth_uri=device.config_url)


@retry_on_conflict
@transaction.atomic(durable=True)
def _totp_device_create(*, user: User) -> TOTPDevice:
    lock_timeout_set()
    User.objects.select_for_update().filter(pk=user.pk).first()  # one enrolment of an account at a time
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


@dataclass(frozen=True)
class _Confirmed:
    recovery_codes: list[str] | None


def _recovery_code_new() -> str:
    while True:
        code = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
        if not code.isdigit():  # digits-only answers are read as authenticator codes
            return code


@retry_on_conflict
@transaction.atomic(durable=True)
def _totp_confirm(*, user: User, otp: str) -> _Confirmed:
    lock_timeout_set()
    User.objects.select_for_update().filter(pk=user.pk).first()
    device = TOTPDevice.objects.filter(user=user, confirmed=False).select_for_update().order_by("-pk").first()
    if device is None:
        raise OtpEnrolmentMissing("There is no authenticator waiting for confirmation; start with POST /auth/2fa/totp.")
    if not device.verify_token(_otp_normalise(otp)):
        return _Confirmed(recovery_codes=None)  # commits the device's failure counter
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    StaticDevice.objects.filter(user=user).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = [_recovery_code_new() for _ in range(settings.OTP_RECOVERY_CODES)]
    recovery = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    StaticToken.objects.bulk_create([StaticToken(device=recovery, token=code) for code in codes])
    user_id = str(user.pk)
    transaction.on_commit(lambda: logger.info("otp_enrolled", user_id=user_id))
    return _Confirmed(recovery_codes=[f"{code[:5]}-{code[5:]}" for code in codes])


def otp_totp_confirm(*, user: User, otp: str) -> list[str]:
    """Confirm the authenticator being enrolled with a code from it.

    It then replaces any earlier authenticator, and a new set of single-use recovery codes replaces
    the old one; they are returned (shown once, never again).
    """
    confirmed = _totp_confirm(user=user, otp=otp)
    if confirmed.recovery_codes is None:
        raise OtpConfirmationFailed("The code does not match the new authenticator; check the app's clock and retry.")
    return confirmed.recovery_codes
