"""Second factors for staff: TOTP authenticator apps and recovery codes (the sign-in flow: services/login.py)."""

import secrets
from base64 import b32encode
from dataclasses import dataclass
from datetime import datetime

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.exceptions import (
    OtpConfirmationFailed,
    OtpEnrolmentMissing,
    OtpInvalid,
    OtpRequired,
    OtpThrottled,
)
from accounts.models import User
from accounts.selectors import otp_enrolled
from config.db import lock_timeout_set, retry_on_conflict

logger = structlog.get_logger("accounts")

# Recovery codes: 10 characters from an alphabet without look-alikes (about 49 bits each), shown as xxxxx-xxxxx.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_LENGTH = 10


@dataclass(frozen=True)
class TotpEnrolment:
    """A new, unconfirmed authenticator: the secret to load into the app, as text and as an otpauth URI."""

    secret: str
    otpauth_uri: str


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
