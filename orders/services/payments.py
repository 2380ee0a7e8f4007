"""Payments: PENDING -> SUCCEEDED or FAILED (final); SUCCEEDED -> REFUNDED when its order is cancelled.

Record, commit, call, settle: the gateway (``orders.payments``) is never called inside a database
transaction, least of all one that holds row locks or is retried on a deadlock. A charge is
recorded first (the payment PENDING with ``charge_requested_at``, committed), then the gateway
is called with the idempotency key ``pay-<payment id>``, then a second transaction settles the
answer after checking again, under the locks, what happened meanwhile. Refunds go the same way
(``refund_requested_at``, ``refund-<payment id>``, ``refunded_at``). A crash between the call and
its settlement leaves a PENDING payment or a requested refund that ``payments_reconcile``
(``manage.py reconcile_payments``) settles by asking the gateway.

Every entry point locks the order row first, then its payments (``orders.locks``).
"""

import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

import structlog
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from config.db import retry_on_conflict
from inventory.locks import lock_timeout_set_and_read
from orders import policies
from orders.exceptions import (
    InvalidTransition,
    PaymentGatewayUnavailable,
    PaymentNotFound,
    TransitionForbidden,
)
from orders.locks import order_lock, payments_lock
from orders.models import Order, OrderStatus, Payment, PaymentStatus
from orders.notifications import order_event_emit, payment_event_emit
from orders.payments import GatewayResult, payment_gateway

logger = structlog.get_logger(__name__)
R = TypeVar("R")

# Failure reasons the system writes (an admin's ``payment_fail`` writes the reason it is given).
ORDER_EXPIRED = "order_expired"
ORDER_CANCELLED = "order_cancelled"
ORDER_ALREADY_PAID = "order_already_paid"
CHARGE_NOT_RECEIVED = "charge_not_received"
DECLINED = "declined"

SUCCEEDED_OR_REFUNDED = frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED})


def charge_key(payment_id: int) -> str:
    return f"pay-{payment_id}"


def refund_key(payment_id: int) -> str:
    return f"refund-{payment_id}"


# --- the gateway, outside transactions


def _outside_transaction_check() -> None:
    """Refuse to call the gateway inside a database transaction (a test case's own wrapping one aside)."""
    if any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks):
        raise RuntimeError("The payment gateway is never called inside a database transaction.")


def _gateway_call(call: Callable[[], R], *, operation: str, payment: Payment) -> R:
    """``call()`` the gateway; any failure leaves the payment as recorded, for a retry or ``reconcile_payments``.

    Whatever the gateway raises (a timeout, a refused connection, a bug in its client), the
    outcome is unknown: the error is logged and answered as ``PaymentGatewayUnavailable``.
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


# --- locks and rules


@dataclass(frozen=True)
class _Locked:
    order: Order
    payment: Payment
    payments: list[Payment]  # every payment of the order, the one above included


def _payment_lock(payment_id: int) -> _Locked:
    """Lock the payment's order, then the order's payments (a payment never changes its order)."""
    found = lock_timeout_set_and_read(Payment.objects.filter(pk=payment_id).values("order_id"))
    if not found:
        raise PaymentNotFound("Payment not found.", payment_id=payment_id)
    order = order_lock(order_id=found[0], lock_timeout_is_set=True)
    payments = payments_lock(order_ids=[order.pk], lock_timeout_is_set=True)
    (payment,) = (p for p in payments if p.pk == payment_id)
    return _Locked(order=order, payment=payment, payments=payments)


def _payment_refused(payment: Payment, action: str) -> InvalidTransition:
    return InvalidTransition(
        f"Cannot {action} a payment that is {payment.status}.",
        payment_id=payment.pk,
        status=payment.status,
        action=action,
    )


def _order_not_payable(order: Order) -> InvalidTransition:
    return InvalidTransition(
        f"Cannot pay an order that is {order.status}.", order_id=str(order.pk), status=order.status, action="pay"
    )


def _success_blocker(order: Order, payments: Sequence[Payment], payment: Payment) -> str | None:
    """Why ``payment`` may not succeed now (a failure reason), or None if it may."""
    if any(p.status in SUCCEEDED_OR_REFUNDED for p in payments if p.pk != payment.pk):
        return ORDER_ALREADY_PAID
    if order.status == OrderStatus.PENDING:
        return None
    return {OrderStatus.EXPIRED: ORDER_EXPIRED, OrderStatus.CANCELLED: ORDER_CANCELLED}.get(
        order.status, ORDER_ALREADY_PAID
    )


def _pay_check(order: Order, actor: User) -> None:
    if not policies.may_pay(actor, order):
        raise TransitionForbidden("Only the customer who placed the order, or an admin, may pay for it.", action="pay")
    if order.status != OrderStatus.PENDING:
        raise _order_not_payable(order)


# --- state changes inside a transaction, on locked rows


def _payment_succeed_locked(*, order: Order, payment: Payment, reference: str) -> None:
    now = timezone.now()
    payment.status, payment.completed_at = PaymentStatus.SUCCEEDED, now
    payment.provider_reference = reference or payment.provider_reference
    payment.save(update_fields=["status", "completed_at", "provider_reference"])
    order.status, order.paid_at = OrderStatus.PAID, now
    order.save(update_fields=["status", "paid_at"])
    payment_event_emit(payment=payment, event="payment_succeeded")
    order_event_emit(order=order, email=order.user.email, event="order_paid")


def _payment_fail_locked(*, payment: Payment, reason: str, reference: str = "") -> None:
    payment.status, payment.completed_at = PaymentStatus.FAILED, timezone.now()
    payment.failure_reason = reason[: Payment._meta.get_field("failure_reason").max_length]
    payment.provider_reference = payment.provider_reference or reference
    payment.save(update_fields=["status", "completed_at", "failure_reason", "provider_reference"])
    payment_event_emit(payment=payment, event="payment_failed")


def _refund_request_locked(payment: Payment) -> bool:
    """Ask for ``payment``'s charge back (once); True if a refund is still to be made."""
    if payment.refund_requested_at is None:
        payment.refund_requested_at = timezone.now()
        payment.save(update_fields=["refund_requested_at"])
    return payment.refunded_at is None


def payments_end_with_order(*, order: Order, payments: Sequence[Payment], reason: str) -> list[int]:
    """The order is ending (cancelled or expired), its ``payments`` locked: settle what it leaves behind.

    A SUCCEEDED payment gets its refund requested; a PENDING one fails with ``reason``, unless
    its charge is in flight (``charge_requested_at``): that one ends with the gateway's answer
    (``payment_settle`` then fails it with ``reason`` and refunds whatever was taken). Returns
    the ids of the payments to refund once the transaction commits (``payments_refund``).
    """
    refunds = []
    for payment in payments:
        if payment.status == PaymentStatus.SUCCEEDED and _refund_request_locked(payment):
            refunds.append(payment.pk)
        elif payment.status == PaymentStatus.PENDING and payment.charge_requested_at is None:
            _payment_fail_locked(payment=payment, reason=reason)
    return refunds


# --- entry points: records and the provider's answers (admins)


@retry_on_conflict
@transaction.atomic(durable=True)
def payment_create(*, order_id: uuid.UUID, actor: User, provider: str = "mock") -> Payment:
    """A PENDING payment of the order's amount and currency (never the client's), by its customer or an admin.

    An order may have several PENDING or FAILED payments (a retry after a failure is a new one);
    one that is not PENDING, or already has a succeeded payment, cannot get another.
    """
    order = order_lock(order_id=order_id)
    _pay_check(order, actor)
    if order.payments.filter(status__in=SUCCEEDED_OR_REFUNDED).exists():
        raise _order_not_payable(order)
    payment = Payment.objects.create(order=order, amount=order.total_amount, currency=order.currency, provider=provider)
    payment_event_emit(payment=payment, event="payment_created")
    return payment


@retry_on_conflict
@transaction.atomic(durable=True)
def payment_succeed(*, payment_id: int, actor: User, provider_reference: str | None = None) -> Payment:
    """PENDING -> SUCCEEDED, the provider's answer recorded by an admin; the order becomes PAID at once.

    The order's reservations stay allocated until it ships. Refused (409) for a payment that is
    not PENDING, and for one whose order is no longer PENDING or already has a succeeded payment.
    """
    if not policies.may_settle_payments(actor):
        raise TransitionForbidden("Only admins may record a payment's outcome.", action="succeed")
    locked = _payment_lock(payment_id)
    order, payment = locked.order, locked.payment
    if payment.status != PaymentStatus.PENDING:
        raise _payment_refused(payment, "succeed")
    if _success_blocker(order, locked.payments, payment) is not None:
        raise InvalidTransition(
            f"Cannot succeed a payment of an order that is {order.status}; this payment can only fail.",
            payment_id=payment.pk,
            status=payment.status,
            action="succeed",
            order_id=str(order.pk),
            order_status=order.status,
        )
    _payment_succeed_locked(order=order, payment=payment, reference=provider_reference or "")
    return payment


@retry_on_conflict
@transaction.atomic(durable=True)
def payment_fail(*, payment_id: int, actor: User, reason: str) -> Payment:
    """PENDING -> FAILED with ``reason``, the provider's answer recorded by an admin; the order does not change."""
    if not policies.may_settle_payments(actor):
        raise TransitionForbidden("Only admins may record a payment's outcome.", action="fail")
    locked = _payment_lock(payment_id)
    if locked.payment.status != PaymentStatus.PENDING:
        raise _payment_refused(locked.payment, "fail")
    _payment_fail_locked(payment=locked.payment, reason=reason)
    return locked.payment


# --- charges through the gateway


@retry_on_conflict
@transaction.atomic(durable=True)
def _payment_charge_record(*, order_id: uuid.UUID, actor: User, provider: str) -> Payment:
    """Record that a charge is about to be sent: the order's newest PENDING payment of this provider, or a new one.

    Reusing the PENDING payment (and so its idempotency key) is what makes a repeated or
    concurrent ``order_pay`` charge once.
    """
    order = order_lock(order_id=order_id)
    _pay_check(order, actor)
    payments = payments_lock(order_ids=[order.pk], lock_timeout_is_set=True)
    if any(p.status in SUCCEEDED_OR_REFUNDED for p in payments):
        raise _order_not_payable(order)
    pending = [p for p in payments if p.status == PaymentStatus.PENDING and p.provider == provider]
    now = timezone.now()
    if not pending:
        payment = Payment.objects.create(
            order=order, amount=order.total_amount, currency=order.currency, provider=provider, charge_requested_at=now
        )
        payment_event_emit(payment=payment, event="payment_created")
        return payment
    payment = max(pending, key=lambda p: (p.created_at, p.pk))
    if payment.charge_requested_at is None:
        payment.charge_requested_at = now
        payment.save(update_fields=["charge_requested_at"])
    return payment


@dataclass(frozen=True)
class Settlement:
    order: Order
    payment: Payment
    charged: bool  # the gateway took the money (kept by a SUCCEEDED payment, refunded otherwise)


@retry_on_conflict
@transaction.atomic(durable=True)
def _payment_settle(*, payment_id: int, result: GatewayResult) -> tuple[Settlement, bool]:
    locked = _payment_lock(payment_id)
    order, payment = locked.order, locked.payment
    settlement = Settlement(order=order, payment=payment, charged=result.succeeded)
    if not result.succeeded:
        if payment.status == PaymentStatus.PENDING:
            _payment_fail_locked(payment=payment, reason=result.message or DECLINED, reference=result.reference)
        elif payment.status in SUCCEEDED_OR_REFUNDED:  # an admin recorded a success the gateway does not know
            logger.warning("payment_answer_conflict", payment_id=payment.pk, status=payment.status)
        return settlement, False
    if payment.status in SUCCEEDED_OR_REFUNDED:  # a concurrent settlement, or the provider through an admin
        return settlement, False
    blocker = _success_blocker(order, locked.payments, payment)
    if payment.status == PaymentStatus.PENDING and blocker is None:
        _payment_succeed_locked(order=order, payment=payment, reference=result.reference)
        return settlement, False
    # The gateway took money for a payment that can no longer keep it (its order ended, another
    # payment won, or the provider said otherwise through an admin): it fails and is given back.
    if payment.status == PaymentStatus.PENDING:
        _payment_fail_locked(payment=payment, reason=blocker or DECLINED, reference=result.reference)
    logger.warning("payment_charged_after_its_end", payment_id=payment.pk, order_id=str(order.pk))
    return settlement, _refund_request_locked(payment)


def payment_settle(*, payment_id: int, result: GatewayResult) -> Settlement:
    """Settle the gateway's answer to ``pay-<payment_id>`` (in its own transaction, re-checked under the locks).

    Charged: the payment SUCCEEDS and its order becomes PAID, if both still may; otherwise the
    payment FAILS and the charge is refunded. Declined: a PENDING payment FAILS. A payment an
    admin or a concurrent settlement has settled already keeps its status.
    """
    settlement, refund_due = _payment_settle(payment_id=payment_id, result=result)
    if refund_due:
        payments_refund(payment_ids=[payment_id])
    return settlement


def payment_charge(*, order_id: uuid.UUID, actor: User) -> Settlement:
    """Charge the order through the gateway: record, commit, call, settle.

    ``PaymentGatewayUnavailable`` if the gateway fails or does not answer: the payment stays
    PENDING, and a retry charges it again with the same idempotency key (the gateway answers
    what it answered the first time) or ``reconcile_payments`` settles it.
    """
    gateway = payment_gateway()
    payment = _payment_charge_record(order_id=order_id, actor=actor, provider=gateway.provider)
    result = _gateway_call(
        lambda: gateway.charge(
            idempotency_key=charge_key(payment.pk),
            amount=payment.amount,
            currency=payment.currency,
            order_id=payment.order_id,
        ),
        operation="charge",
        payment=payment,
    )
    return payment_settle(payment_id=payment.pk, result=result)


# --- refunds through the gateway


@retry_on_conflict
@transaction.atomic(durable=True)
def _payment_refund_settle(*, payment_id: int, result: GatewayResult) -> Payment:
    locked = _payment_lock(payment_id)
    payment = locked.payment
    if payment.refund_requested_at is None or payment.refunded_at is not None:
        return payment
    if not result.succeeded:
        logger.warning("payment_refund_declined", payment_id=payment.pk, message=result.message)
        return payment  # still requested: ``reconcile_payments`` asks again
    payment.refunded_at = timezone.now()
    if payment.status == PaymentStatus.SUCCEEDED:
        payment.status = PaymentStatus.REFUNDED
    payment.save(update_fields=["status", "refunded_at"])
    payment_event_emit(payment=payment, event="payment_refunded")
    return payment


def payments_refund(*, payment_ids: Sequence[int]) -> list[Payment]:
    """Make the refunds requested for ``payment_ids``, outside any transaction: call, then settle.

    A SUCCEEDED payment becomes REFUNDED (a FAILED one charged after its end gets ``refunded_at``).
    A gateway that fails or declines leaves the refund requested for ``reconcile_payments``.
    """
    gateway = payment_gateway()
    done = []
    for payment in Payment.objects.filter(pk__in=list(payment_ids)).order_by("pk"):
        if payment.refund_requested_at is None or payment.refunded_at is not None:
            done.append(payment)
            continue
        try:
            result = _gateway_call(
                lambda payment=payment: gateway.refund(
                    idempotency_key=refund_key(payment.pk),
                    charge_key=charge_key(payment.pk),
                    reference=payment.provider_reference,
                    amount=payment.amount,
                    currency=payment.currency,
                ),
                operation="refund",
                payment=payment,
            )
        except PaymentGatewayUnavailable:
            done.append(payment)
            continue
        done.append(_payment_refund_settle(payment_id=payment.pk, result=result))
    return done


# --- reconciliation


def payments_reconcile(*, older_than: timedelta, now: datetime | None = None) -> Counter[str]:
    """Settle what a crash (or a gateway that did not answer) left half-way, by asking the gateway.

    PENDING payments whose charge was requested more than ``older_than`` ago: the gateway's
    answer to ``pay-<id>`` is settled as ``payment_settle`` does; a charge the gateway never
    received fails (``charge_not_received``). Refunds requested more than ``older_than`` ago and
    not made are asked again (``refund-<id>``: the gateway refunds once). Returns counts of what
    happened: ``succeeded``, ``failed``, ``refunded``, ``unreachable`` (asked again next run).
    """
    cutoff = (now or timezone.now()) - older_than
    gateway = payment_gateway()
    counts: Counter[str] = Counter()
    charges = Payment.objects.filter(status=PaymentStatus.PENDING, charge_requested_at__lte=cutoff).order_by("pk")
    for payment in charges:
        try:
            result = _gateway_call(
                lambda payment=payment: gateway.lookup(idempotency_key=charge_key(payment.pk)),
                operation="lookup",
                payment=payment,
            )
        except PaymentGatewayUnavailable:
            counts["unreachable"] += 1
            continue
        if result is None:
            result = GatewayResult(succeeded=False, reference="", message=CHARGE_NOT_RECEIVED)
        counts[payment_settle(payment_id=payment.pk, result=result).payment.status.lower()] += 1
    refunds = Payment.objects.filter(refund_requested_at__lte=cutoff, refunded_at__isnull=True).order_by("pk")
    for payment in payments_refund(payment_ids=list(refunds.values_list("pk", flat=True))):
        counts["refunded" if payment.refunded_at is not None else "unreachable"] += 1
    return counts
