"""The order workflow: PENDING -> PAID -> SHIPPED, or CANCELLED from PENDING or PAID.

Stock moves only through ``inventory.services`` (shipping commits the order's reservations,
cancelling releases them); each entry point owns one durable transaction, is retried on a
deadlock or serialization failure, and queues its log and email events with
``transaction.on_commit`` so nothing leaves the process for a transaction that rolled back.
"""

import uuid

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from config.db import retry_on_conflict
from inventory.services.reservations import reservations_commit, reservations_release
from orders import policies
from orders.exceptions import InvalidTransition, OrderNotFound, PaymentDeclined, TransitionForbidden
from orders.models import Order, OrderStatus, Payment, PaymentStatus, Shipment, ShipmentStatus
from orders.notifications import order_event_emit
from orders.payments import payment_gateway

# action -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "pay": (frozenset({OrderStatus.PENDING}), OrderStatus.PAID),
    "ship": (frozenset({OrderStatus.PAID}), OrderStatus.SHIPPED),
    "cancel": (frozenset({OrderStatus.PENDING, OrderStatus.PAID}), OrderStatus.CANCELLED),
}


def _order_lock(order_id: uuid.UUID) -> Order:
    order = Order.objects.select_for_update(of=("self",)).select_related("user").filter(pk=order_id).first()
    if order is None:
        raise OrderNotFound("Order not found.", order_id=str(order_id))
    return order


def _transition_check(order: Order, action: str) -> str:
    allowed_from, target = TRANSITIONS[action]
    if order.status not in allowed_from:
        raise InvalidTransition(
            f"Cannot {action} an order that is {order.status}.",
            order_id=str(order.pk),
            status=order.status,
            action=action,
        )
    return target


def _forbid(action: str, reason: str) -> TransitionForbidden:
    return TransitionForbidden(reason, action=action)


def _reservations_of(order: Order) -> list[int]:
    return list(order.items.values_list("reservation_id", flat=True))


@retry_on_conflict
@transaction.atomic(durable=True)
def _order_pay_attempt(*, order_id: uuid.UUID, actor: User) -> tuple[Order, Payment]:
    order = _order_lock(order_id)
    if not policies.may_pay(actor, order):
        raise _forbid("pay", "Only the customer who placed the order, or an admin, may pay for it.")
    target = _transition_check(order, "pay")
    result = payment_gateway().charge(order_id=order.pk, amount=order.total_amount)
    payment = Payment.objects.create(
        order=order,
        amount=order.total_amount,
        currency=order.currency,
        status=PaymentStatus.SUCCEEDED if result.succeeded else PaymentStatus.FAILED,
        provider_reference=result.reference,
        failure_reason=result.message,
        completed_at=timezone.now(),
    )
    if result.succeeded:
        order.status, order.paid_at = target, timezone.now()
        order.save(update_fields=["status", "paid_at"])
        order_event_emit(order=order, email=order.user.email, event="order_paid")
    else:
        order_event_emit(order=order, email=None, event="payment_failed")
    return order, payment


def order_pay(*, order_id: uuid.UUID, actor: User) -> Order:
    """Charge the order through the payment gateway: PENDING -> PAID.

    A declined payment is recorded (FAILED) and committed, the order stays PENDING, and the
    caller gets ``PaymentDeclined``.
    """
    order, payment = _order_pay_attempt(order_id=order_id, actor=actor)
    if payment.status == PaymentStatus.FAILED:
        raise PaymentDeclined(
            payment.failure_reason or "The payment was declined.", order_id=str(order.pk), payment_id=payment.pk
        )
    return order


@retry_on_conflict
@transaction.atomic(durable=True)
def order_ship(*, order_id: uuid.UUID, actor: User) -> Order:
    """PAID -> SHIPPED: the reserved stock leaves for good and a flat-rate shipment is recorded."""
    order = _order_lock(order_id)
    if not policies.may_ship(actor):
        raise _forbid("ship", "Only staff may ship orders.")
    target = _transition_check(order, "ship")
    reservations_commit(reservation_ids=_reservations_of(order), actor=actor, order_id=order.pk)
    now = timezone.now()
    Shipment.objects.create(
        order=order,
        status=ShipmentStatus.SHIPPED,
        carrier="flat-rate",
        cost=order.shipping_amount,
        tracking_number=f"FR{uuid.uuid4().hex[:16].upper()}",
        shipped_at=now,
    )
    order.status, order.shipped_at = target, now
    order.save(update_fields=["status", "shipped_at"])
    order_event_emit(order=order, email=order.user.email, event="order_shipped")
    return order


@retry_on_conflict
@transaction.atomic(durable=True)
def order_cancel(*, order_id: uuid.UUID, actor: User) -> Order:
    """PENDING -> CANCELLED (owner or staff) or PAID -> CANCELLED (staff; the payment is refunded).

    The reserved stock goes back to available.
    """
    order = _order_lock(order_id)
    target = _transition_check(order, "cancel")
    if not policies.may_cancel(actor, order):
        if order.user_id == actor.pk:
            raise _forbid("cancel", "Only staff may cancel an order that is paid.")
        raise _forbid("cancel", "Only the customer who placed the order, or staff, may cancel it.")
    if order.status == OrderStatus.PAID:
        _payment_refund(order=order)
    reservations_release(reservation_ids=_reservations_of(order), actor=actor, order_id=order.pk)
    order.status, order.cancelled_at = target, timezone.now()
    order.save(update_fields=["status", "cancelled_at"])
    order_event_emit(order=order, email=order.user.email, event="order_cancelled")
    return order


def _payment_refund(*, order: Order) -> None:
    payment = Payment.objects.select_for_update().get(order=order, status=PaymentStatus.SUCCEEDED)
    result = payment_gateway().refund(reference=payment.provider_reference, amount=payment.amount)
    if not result.succeeded:
        raise PaymentDeclined(result.message or "The refund was declined.", order_id=str(order.pk))
    payment.status, payment.refunded_at = PaymentStatus.REFUNDED, timezone.now()
    payment.refund_requested_at = payment.refunded_at
    payment.save(update_fields=["status", "refunded_at", "refund_requested_at"])
