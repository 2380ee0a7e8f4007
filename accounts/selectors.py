"""Reads about accounts that carry a rule."""

from django.conf import settings
from django_otp import user_has_device

from accounts.models import STAFF_ROLES, User


def otp_enrolled(*, user: User) -> bool:
    """Whether ``user`` has a confirmed second factor (an authenticator app, or recovery codes)."""
    return user_has_device(user, confirmed=True)


def otp_required(*, user: User) -> bool:
    """Whether ``user`` must send a one-time code to sign in (API and Django admin).

    Staff (admins and inventory managers) with a confirmed device always; every staff account when
    ``STAFF_2FA_REQUIRED`` is on, enrolled or not. Customers never.
    """
    if user.role not in STAFF_ROLES:
        return False
    return settings.STAFF_2FA_REQUIRED or otp_enrolled(user=user)
