"""Failed-login lockouts: by account, and by client only past a much higher threshold.

django-axes counts failures (``AXES_LOCKOUT_PARAMETERS = ["username"]``): an account locks after
``AXES_FAILURE_LIMIT`` failures for it, from anywhere, until ``AXES_COOLOFF_TIME`` has passed since
the last one, and answers ``429 login_locked_out`` even to the right password. A client (IP address)
locks only after ``LOGIN_CLIENT_FAILURE_LIMIT`` failures within ``LOGIN_CLIENT_WINDOW_MINUTES``,
counted in axes' failure log: enough against credential stuffing, never triggered by an office whose
staff share one address. The client's address is ``config.client_address`` (axes'
``AXES_CLIENT_IP_CALLABLE``): with ``TRUSTED_PROXIES`` proxies in front, the one the nearest proxies
saw, never one a client wrote into X-Forwarded-For. Attempts answered with a lockout are not recorded
(``AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False``), so they neither count as failures nor
extend a cool-off.
"""

import math
from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from axes.models import AccessFailureLog
from django.conf import settings
from django.db.models import Max
from django.http import JsonResponse
from django.utils import timezone

from config.client_address import client_address
from config.errors import error_body

#: set on the request when a lockout is found: ``(scope, seconds until it ends)``
LOCKOUT_ATTRIBUTE = "login_lockout"


def _seconds_until(moment) -> int:
    return max(1, math.ceil((moment - timezone.now()).total_seconds()))


def client_failures_retry_after(*, ip_address: str | None) -> int | None:
    """Seconds until ``ip_address`` drops below the client limit, or None if it is not at the limit."""
    if ip_address is None:
        return None
    window = timedelta(minutes=settings.LOGIN_CLIENT_WINDOW_MINUTES)
    limit = settings.LOGIN_CLIENT_FAILURE_LIMIT
    recent = (
        AccessFailureLog.objects.filter(ip_address=ip_address, attempt_time__gte=timezone.now() - window)
        .order_by("-attempt_time")
        .values_list("attempt_time", flat=True)
    )
    oldest_counted = recent[limit - 1 : limit].first()  # the limit-th newest failure
    if oldest_counted is None:
        return None
    return _seconds_until(oldest_counted + window)


def account_failures_reset(*, email: str) -> None:
    """A successful API sign-in clears the account's failure count (``AXES_RESET_ON_SUCCESS``).

    Done here rather than through Django's ``user_logged_in`` signal: axes' receiver also writes an
    access log row keyed by a session, and would open a session (and set a cookie) on a token API.
    """
    if settings.AXES_RESET_ON_SUCCESS:
        AxesProxyHandler.reset_attempts(username=email)


class LoginLockoutHandler(AxesDatabaseHandler):
    """axes' database handler, plus the per-client threshold; records which lockout applies."""

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        if super().is_locked(request, credentials):
            lasts = [
                qs.aggregate(last=Max("attempt_time"))["last"] for qs in self.get_user_attempts(request, credentials)
            ]
            last = max((moment for moment in lasts if moment is not None), default=None)
            cool_off = get_cool_off(request)
            retry_after = _seconds_until(last + cool_off) if last and cool_off else None
            setattr(request, LOCKOUT_ATTRIBUTE, ("account", retry_after))
            return True
        retry_after = client_failures_retry_after(ip_address=client_address(request))
        if retry_after is not None:
            setattr(request, LOCKOUT_ATTRIBUTE, ("client", retry_after))
            return True
        return False


def lockout_response(request, original_response=None, credentials=None) -> JsonResponse:
    """``AXES_LOCKOUT_CALLABLE``: 429 ``login_locked_out`` in the one error shape, with ``Retry-After``.

    ``details.scope`` says what is locked: ``account`` (too many failures for this account) or
    ``client`` (too many failures from this address).
    """
    cool_off = get_cool_off(request)
    default = ("account", int(cool_off.total_seconds()) if cool_off else None)  # locked by the failure just made
    scope, retry_after = getattr(request, LOCKOUT_ATTRIBUTE, default)
    response = JsonResponse(
        error_body(
            request=request,
            code="login_locked_out",
            message="Too many failed login attempts; try again later.",
            details={"retry_after": retry_after, "scope": scope},
        ),
        status=429,
    )
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response
