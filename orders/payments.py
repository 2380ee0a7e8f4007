"""The payment gateway seam: a small interface and the mock that stands in for a real provider."""

import uuid
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
    def charge(self, *, order_id: uuid.UUID, amount: Decimal) -> GatewayResult: ...

    def refund(self, *, reference: str, amount: Decimal) -> GatewayResult: ...


class MockGateway:
    """Always succeeds, unless ``MOCK_PAYMENT_FAIL`` is set (then every charge is declined)."""

    def charge(self, *, order_id: uuid.UUID, amount: Decimal) -> GatewayResult:
        reference = f"mock_{uuid.uuid4().hex[:24]}"
        if settings.MOCK_PAYMENT_FAIL:
            return GatewayResult(succeeded=False, reference=reference, message="Card declined (mock gateway).")
        return GatewayResult(succeeded=True, reference=reference)

    def refund(self, *, reference: str, amount: Decimal) -> GatewayResult:
        return GatewayResult(succeeded=True, reference=reference)


@cache
def _gateway_class(path: str) -> type:
    return import_string(path)


def payment_gateway() -> PaymentGateway:
    return _gateway_class(settings.PAYMENT_GATEWAY)()
