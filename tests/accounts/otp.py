"""Two-factor helpers for tests: enrolled devices and the codes an authenticator app would show."""

import time

from django_otp.oath import hotp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

RECOVERY_CODES = ["abcde-fghjk", "mnpqr-stuvw"]


def enrol(user) -> TOTPDevice:
    """A confirmed authenticator app and two recovery codes (``RECOVERY_CODES``) for ``user``."""
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    recovery = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    StaticToken.objects.bulk_create([StaticToken(device=recovery, token=c.replace("-", "")) for c in RECOVERY_CODES])
    return device


def next_code(device: TOTPDevice) -> str:
    """The code the app shows now, or the next one if this one was already used (within the tolerance)."""
    device.refresh_from_db()
    now = (int(time.time()) - device.t0) // device.step + device.drift
    return f"{hotp(device.bin_key, max(now, device.last_t + 1), digits=device.digits):0{device.digits}d}"


def wrong_code(device: TOTPDevice) -> str:
    """A well-formed code that no step within reach accepts."""
    device.refresh_from_db()
    now = (int(time.time()) - device.t0) // device.step + device.drift
    reachable = {hotp(device.bin_key, t, digits=device.digits) for t in range(now - 3, now + 4)}
    wrong = next(n for n in range(10**device.digits) if n not in reachable)
    return f"{wrong:0{device.digits}d}"
