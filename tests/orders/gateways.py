"""Payment gateways that misbehave on purpose, for ``PAYMENT_GATEWAY`` in tests, and what tests ask the mock."""

import threading
from collections.abc import Callable

from django.db import connection

from orders.gateway import GatewayResult, MockGateway


def charged(gateway: MockGateway) -> list[str]:
    """The keys whose charge took money (tests: each payment at most once)."""
    with gateway._lock:
        return [key for key, result in gateway.charges.items() if result.succeeded]


def money_kept(gateway: "ScriptedGateway") -> list[str]:
    """The charge keys whose money the gateway kept: charged, and either never refunded or refunded before
    the charge landed (a refund gives back what its charge took when it is made: nothing, if not yet)."""
    with gateway._lock:
        return [key for key, result in gateway.charges.items() if result.succeeded and not gateway.given_back.get(key)]


def in_another_thread(function: Callable[[], object]) -> object:
    """Run ``function`` in another thread, on its own database connection, and wait for it."""
    outcome: list = []

    def run() -> None:
        try:
            outcome.append(function())
        except Exception as exc:
            outcome.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return outcome[0]


class ScriptedGateway(MockGateway):
    """The mock, with scripted trouble: each call of an operation takes the next exception of ``failures``
    (raised before the charge, or after it took the money when ``lose_answer``), and ``during_charge``
    runs in another thread while a charge is made (what another request does meanwhile)."""

    def reset(self) -> None:
        super().reset()
        self.failures: dict[str, list[Exception]] = {"charge": [], "refund": [], "lookup": []}
        self.lose_answer = False
        self.during_charge: Callable[[str], object] | None = None
        self.meanwhile: list[object] = []
        self.inside_transaction: list[bool] = []
        self.given_back: dict[str, bool] = {}  # charge key -> whether its refund found money to give back

    def _failure(self, operation: str) -> Exception | None:
        return self.failures[operation].pop(0) if self.failures[operation] else None

    def charge(self, *, idempotency_key: str, **kwargs) -> GatewayResult:
        self.inside_transaction.append(connection.in_atomic_block)
        if self.during_charge is not None:
            self.meanwhile.append(in_another_thread(lambda: self.during_charge(idempotency_key)))
        failure = self._failure("charge")
        if failure is not None and not self.lose_answer:
            with self._lock:
                self.calls[idempotency_key] += 1
            raise failure
        result = super().charge(idempotency_key=idempotency_key, **kwargs)
        if failure is not None:
            raise failure
        return result

    def refund(self, *, idempotency_key: str, charge_key: str, **kwargs) -> GatewayResult:
        self.inside_transaction.append(connection.in_atomic_block)
        failure = self._failure("refund")
        if failure is not None:
            with self._lock:
                self.calls[idempotency_key] += 1
            raise failure
        with self._lock:
            if idempotency_key not in self.refunds:
                taken = self.charges.get(charge_key)
                self.given_back[charge_key] = taken is not None and taken.succeeded
        return super().refund(idempotency_key=idempotency_key, charge_key=charge_key, **kwargs)

    def lookup(self, *, idempotency_key: str) -> GatewayResult | None:
        failure = self._failure("lookup")
        if failure is not None:
            raise failure
        return super().lookup(idempotency_key=idempotency_key)


class DecliningRefundsGateway(MockGateway):
    """The mock, refusing every refund."""

    def refund(self, *, idempotency_key: str, **kwargs) -> GatewayResult:
        with self._lock:
            self.calls[idempotency_key] += 1
        return GatewayResult(succeeded=False, reference="", message="Refund refused (test gateway).")
