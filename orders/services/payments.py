"""Payments: PENDING -> SUCCEEDED or FAILED (final); SUCCEEDED -> REFUNDED when its order is cancelled.

Here: the records and the provider's answers an admin records (``payment_create``,
``payment_succeed``, ``payment_fail``), and the state changes every payment path makes on rows
locked through ``orders.locks`` (the order first, then its payments). Charging through the
gateway is ``orders.services.charges``, refunds ``orders.services.refunds``, and settling what
a crash left half-way ``orders.services.reconcile``.
"""

import uuid
from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from config.db import retry_on_conflict
from orders import policies
from orders.exceptions import InvalidTransition, TransitionForbidden
from orders.locks import order_lock, payment_lock
from orders.models import Order, OrderStatus, Payment, PaymentStatus
from orders.notifications import order_event_emit, payment_event_emit

# Failure reasons the system writes (an admin's ``payment_fail`` writes the reason it is given).
ORDER_EXPIRED = "order_expired"
ORDER_CANCELLED = "order_cancelled"
ORDER_ALREADY_PAID = "order_already_paid"
CHARGE_NOT_RECEIVED = "charge_not_received"
DECLINED = "declined"

SUCCEEDED_OR_REFUNDED = frozenset({PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED})


# --- rules


def _payment_refused(payment: Payment, action: str) -> InvalidTransition:
    return InvalidTransition(
        f"Cannot {action} a payment that is {payment.status}.",
        payment_id=payment.pk,
        status=payment.status,
        action=action,
    )


def order_not_payable(order: Order) -> InvalidTransition:
    return InvalidTransition(
        f"Cannot pay an order that is {order.status}.", order_id=str(order.pk), status=order.status, action="pay"
    )


def success_blocker(order: Order, payments: Sequence[Payment], payment: Payment) -> str | None:
    """Why ``payment`` may not succeed now (a failure reason), or None if it may."""
    if any(p.status in SUCCEEDED_OR_REFUNDED for p in payments if p.pk != payment.pk):
        return ORDER_ALREADY_PAID
    if order.status == OrderStatus.PENDING:
        return None
    return {OrderStatus.EXPIRED: ORDER_EXPIRED, OrderStatus.CANCELLED: ORDER_CANCELLED}.get(
        order.status, ORDER_ALREADY_PAID
    )


def pay_check(order: Order, actor: User) -> None:
    if not policies.may_pay(actor, order):
        raise TransitionForbidden("Only the customer who placed the order, or an admin, may pay for it.", action="pay")
    if order.status != OrderStatus.PENDING:
        raise order_not_payable(order)


# --- state changes inside a transaction, on locked rows


def payment_fail_locked(*, payment: Payment, reason: str, reference: str = "") -> None:
    payment.status, payment.completed_at = PaymentStatus.FAILED, timezone.now()
    payment.failure_reason = reason[: Payment._meta.get_field("failure_reason").max_length]
    payment.provider_reference = payment.provider_reference or reference
    payment.save(update_fields=["status", "completed_at", "failure_reason", "provider_reference"])
    payment_event_emit(payment=payment, event="payment_failed")


def payment_succeed_locked(*, order: Order, payment: Payment, payments: Sequence[Payment], reference: str) -> None:
    """``payment`` SUCCEEDS and ``order`` becomes PAID; the order's ``payments`` never charged fail.

    Once a payment succeeded the others can only fail: those whose charge was never sent fail at
    once (``order_already_paid``); one whose charge is in flight ends with the gateway's answer
    (a charge that lands then is refunded).
    """
    now = timezone.now()
    payment.status, payment.completed_at = PaymentStatus.SUCCEEDED, now
    payment.provider_reference = reference or payment.provider_reference
    payment.save(update_fields=["status", "completed_at", "provider_reference"])
    order.status, order.paid_at = OrderStatus.PAID, now
    order.save(update_fields=["status", "paid_at"])
    payment_event_emit(payment=payment, event="payment_succeeded")
    order_event_emit(order=order, email=order.user.email, event="order_paid")
    for other in payments:
        if other.pk != payment.pk and other.status == PaymentStatus.PENDING and not other.charge_in_flight:
            payment_fail_locked(payment=other, reason=ORDER_ALREADY_PAID)


def refund_request_locked(payment: Payment) -> bool:
    """Ask for ``payment``'s charge back (once); True if a refund is still to be made."""
    if payment.refund_requested_at is None:
        payment.refund_requested_at = timezone.now()
        payment.save(update_fields=["refund_requested_at"])
    return payment.refund_due


def refund_request_withdraw_locked(payment: Payment) -> None:
    """Withdraw a refund requested, not yet made or declined: the charge it waited for was declined, so
    there is nothing to give back (a real gateway would decline the refund, for a person to look at)."""
    if payment.refund_due:
        payment.refund_requested_at = None
        payment.save(update_fields=["refund_requested_at"])


# --- entry points: records and the provider's answers (admins)


@retry_on_conflict
@transaction.atomic(durable=True)
def payment_create(*, order_id: uuid.UUID, actor: User, provider: str = "mock") -> Payment:
    """A PENDING payment of the order's amount and currency (never the client's), by its customer or an admin.

    An order may have several PENDING or FAILED payments (a retry after a failure is a new one);
    one that is not PENDING, or already has a succeeded payment, cannot get another.
    """
    order = order_lock(order_id=order_id)
    pay_check(order, actor)
    if order.payments.filter(status__in=SUCCEEDED_OR_REFUNDED).exists():
        raise order_not_payable(order)
    payment = Payment.objects.create(order=order, amount=order.total_amount, currency=order.currency, provider=provider)
    payment_event_emit(payment=payment, event="payment_created")
    return payment


@retry_on_conflict
@transaction.atomic(durable=True)
def payment_succeed(*, payment_id: int, actor: User, provider_reference: str | None = None) -> Payment:
    """PENDING -> SUCCEEDED, the provider's answer recorded by an admin; the order becomes PAID at once.

    The order's reservations stay allocated until it ships; its other payments never charged
    fail (``order_already_paid``). Refused (409) for a payment that is not PENDING, and for one
    whose order is no longer PENDING or already has a succeeded payment.
    """
    if not policies.may_settle_payments(actor):
        raise TransitionForbidden("Only admins may record a payment's outcome.", action="succeed")
    locked = payment_lock(payment_id=payment_id)
    order, payment = locked.order, locked.payment
    if payment.status != PaymentStatus.PENDING:
        raise _payment_refused(payment, "succeed")
    if success_blocker(order, locked.payments, payment) is not None:
        raise InvalidTransition(
            f"Cannot succeed a payment of an order that is {order.status}; this payment can only fail.",
            payment_id=payment.pk,
            status=payment.status,
            action="succeed",
            order_id=str(order.pk),
            order_status=order.status,
        )
    payment_succeed_locked(order=order, payment=payment, payments=locked.payments, reference=provider_reference or "")
    return payment


@retry_on_conflict
@transaction.atomic(durable=True)
def payment_fail(*, payment_id: int, actor: User, reason: str) -> Payment:
    """PENDING -> FAILED with ``reason``, the provider's answer recorded by an admin; the order does not change.

    A payment whose charge is in flight may have taken the money already (or take it later): its
    refund is requested too, and made once the charge's answer is in (``payment_settle`` refunds a
    charge that lands) or, if that answer never comes, by ``reconcile_payments`` after its grace
    period. A refund made before a late charge lands would give back nothing, so it waits.
    """
    if not policies.may_settle_payments(actor):
        raise TransitionForbidden("Only admins may record a payment's outcome.", action="fail")
    locked = payment_lock(payment_id=payment_id)
    payment = locked.payment
    if payment.status != PaymentStatus.PENDING:
        raise _payment_refused(payment, "fail")
    in_flight = payment.charge_in_flight
    payment_fail_locked(payment=payment, reason=reason)
    if in_flight:
        refund_request_locked(payment)
    return payment
