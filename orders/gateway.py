"""The payment gateway seam: a small interface, the mock that stands in for a real provider, and how it is called.

Every call carries an idempotency key (``pay-<payment id>``, ``refund-<payment id>``): the same
key asked again answers what it answered the first time and moves no money twice. The services
(``orders.services``) call the gateway only through ``gateway_call``, which refuses to run inside
a database transaction: record, commit, call, settle.
"""

import threading
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Protocol, TypeVar

import structlog
from django.conf import settings
from django.db import connection
from django.utils.module_loading import import_string

from orders.exceptions import PaymentGatewayUnavailable
from orders.models import Payment

logger = structlog.get_logger(__name__)
R = TypeVar("R")


@dataclass(frozen=True)
class GatewayResult:
    succeeded: bool
    reference: str
    message: str = ""


class PaymentGateway(Protocol):
    provider: str  # recorded on the payments it charges

    def charge(self, *, idempotency_key: str, amount: Decimal, currency: str, order_id: uuid.UUID) -> GatewayResult:
        """Take ``amount`` once per key; a repeated key answers the first answer again."""

    def refund(
        self, *, idempotency_key: str, charge_key: str, reference: str, amount: Decimal, currency: str
    ) -> GatewayResult:
        """Give back what the charge made with ``charge_key`` took (nothing if it took nothing), once per key."""

    def lookup(self, *, idempotency_key: str) -> GatewayResult | None:
        """What the charge made with ``idempotency_key`` answered, or None if the gateway never received it."""


class MockGateway:
    """Charges succeed, unless ``MOCK_PAYMENT_FAIL`` is set (then every new charge is declined).

    It keeps its answers per idempotency key in memory (one process: a ``reconcile_payments`` run
    in another process finds nothing and fails the charges it asks about) and counts every call
    per key in ``calls``, so tests can prove that no key was charged twice.
    """

    provider = "mock"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.calls: Counter[str] = Counter()
            self.charges: dict[str, GatewayResult] = {}
            self.refunds: dict[str, GatewayResult] = {}

    def charge(self, *, idempotency_key: str, amount: Decimal, currency: str, order_id: uuid.UUID) -> GatewayResult:
        with self._lock:
            self.calls[idempotency_key] += 1
            if idempotency_key not in self.charges:
                declined = settings.MOCK_PAYMENT_FAIL
                self.charges[idempotency_key] = GatewayResult(
                    succeeded=not declined,
                    reference=f"mock_{uuid.uuid4().hex[:24]}",
                    message="Card declined (mock gateway)." if declined else "",
                )
            return self.charges[idempotency_key]

    def refund(
        self, *, idempotency_key: str, charge_key: str, reference: str, amount: Decimal, currency: str
    ) -> GatewayResult:
        with self._lock:
            self.calls[idempotency_key] += 1
            if idempotency_key not in self.refunds:
                reference = f"mock_re_{uuid.uuid4().hex[:21]}"
                self.refunds[idempotency_key] = GatewayResult(succeeded=True, reference=reference)
            return self.refunds[idempotency_key]

    def lookup(self, *, idempotency_key: str) -> GatewayResult | None:
        with self._lock:
            return self.charges.get(idempotency_key)


@cache
def _gateway(path: str) -> PaymentGateway:
    return import_string(path)()


def payment_gateway() -> PaymentGateway:
    """The configured gateway (``PAYMENT_GATEWAY``), one instance per process."""
    return _gateway(settings.PAYMENT_GATEWAY)


def charge_key(payment_id: int) -> str:
    return f"pay-{payment_id}"


def refund_key(payment_id: int) -> str:
    return f"refund-{payment_id}"


def _outside_transaction_check() -> None:
    """Refuse to call the gateway inside a database transaction (a test case's own wrapping one aside)."""
    if any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks):
        raise RuntimeError("The payment gateway is never called inside a database transaction.")


def gateway_call(call: Callable[[], R], *, operation: str, payment: Payment) -> R:
    """``call()`` the gateway, outside any transaction; a failure leaves the payment as recorded.

    Whatever the gateway raises (a timeout, a refused connection, a bug in its client), the
    outcome is unknown: the error is logged and answered as ``PaymentGatewayUnavailable``, and a
    retry or ``reconcile_payments`` learns the answer with the same idempotency key.
    """
    _outside_transaction_check()
    try:
        return call()
    except Exception as exc:
        logger.warning(
            "payment_gateway_error",
            operation=operation,
            payment_id=payment.pk,
            order_id=str(payment.order_id),
            error=repr(exc),
        )
        raise PaymentGatewayUnavailable(
            "The payment gateway did not answer; the payment is still pending. Retry later.",
            order_id=str(payment.order_id),
            payment_id=payment.pk,
        ) from exc
