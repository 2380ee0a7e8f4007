"""The payment gateway seam: a small interface and the mock that stands in for a real provider.

Every call carries an idempotency key (``pay-<payment id>``, ``refund-<payment id>``): the same
key asked again answers what it answered the first time and moves no money twice. The services
call the gateway only outside database transactions (``orders.services.payments``).
"""

import threading
import uuid
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


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

    def charged(self) -> list[str]:
        """The keys whose charge took money (tests: each payment at most once)."""
        with self._lock:
            return [key for key, result in self.charges.items() if result.succeeded]


@cache
def _gateway(path: str) -> PaymentGateway:
    return import_string(path)()


def payment_gateway() -> PaymentGateway:
    """The configured gateway (``PAYMENT_GATEWAY``), one instance per process."""
    return _gateway(settings.PAYMENT_GATEWAY)
