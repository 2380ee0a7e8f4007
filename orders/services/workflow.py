"""The order workflow: PENDING -> PAID -> SHIPPED, CANCELLED from PENDING or PAID, EXPIRED from PENDING.

``order_pay`` and ``order_ship`` are the one-call paths through the payment and shipment
services (``orders.services.charges``, ``orders.services.shipments``); ``order_cancel`` ends an
order with what it holds: its reservations are released, its open shipment cancelled, its
pending payments failed and a succeeded one refunded once the cancellation is committed (the
gateway is never called inside a transaction). Stock moves only through ``inventory.services``;
each transaction is durable, retried on a deadlock or serialization failure, takes its locks
through ``orders.locks`` (the order row first), and queues its events with
``transaction.on_commit`` so nothing leaves the process for a transaction that rolled back.
"""

import uuid

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from config.db import retry_on_conflict
from inventory.services.reservations import reservations_release
from orders import policies
from orders.exceptions import InvalidTransition, PaymentDeclined, TransitionForbidden
from orders.locks import order_lock, payments_lock
from orders.models import Order, OrderStatus, PaymentStatus
from orders.notifications import order_event_emit
from orders.selectors import order_reservation_ids
from orders.services.charges import payment_charge
from orders.services.payments import ORDER_CANCELLED
from orders.services.refunds import payments_end_with_order, payments_refund
from orders.services.shipments import (
    shipment_add_locked,
    shipment_open_locked,
    shipment_ship_locked,
    shipments_end_with_order,
    tracking_number_unique,
)

# action -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "pay": (frozenset({OrderStatus.PENDING}), OrderStatus.PAID),
    "ship": (frozenset({OrderStatus.PAID}), OrderStatus.SHIPPED),
    "cancel": (frozenset({OrderStatus.PENDING, OrderStatus.PAID}), OrderStatus.CANCELLED),
    "expire": (frozenset({OrderStatus.PENDING}), OrderStatus.EXPIRED),
}

FLAT_RATE = "flat-rate"


def transition_check(order: Order, action: str) -> str:
    """The status ``action`` leads ``order`` to; ``InvalidTransition`` naming its status if it may not."""
    allowed_from, target = TRANSITIONS[action]
    if order.status not in allowed_from:
        raise InvalidTransition(
            f"Cannot {action} an order that is {order.status}.",
            order_id=str(order.pk),
            status=order.status,
            action=action,
        )
    return target


def order_pay(*, order_id: uuid.UUID, actor: User) -> Order:
    """Charge the order through the payment gateway: PENDING -> PAID, in one call.

    A declined charge is recorded (the payment FAILED), the order stays PENDING and the caller
    gets ``PaymentDeclined``; a gateway that fails or does not answer gives
    ``PaymentGatewayUnavailable`` with the payment left PENDING (a retry charges it again with
    the same idempotency key, so at most once).
    """
    settlement = payment_charge(order_id=order_id, actor=actor)
    order, payment = settlement.order, settlement.payment
    if payment.status == PaymentStatus.SUCCEEDED:
        return order
    if settlement.charged and order.status != OrderStatus.PENDING:
        transition_check(order, "pay")  # the order ended while the gateway charged; the charge was refunded
    raise PaymentDeclined(
        payment.failure_reason or "The payment was declined.", order_id=str(order.pk), payment_id=payment.pk
    )


@tracking_number_unique
@retry_on_conflict
@transaction.atomic(durable=True)
def order_ship(
    *, order_id: uuid.UUID, actor: User, carrier: str | None = None, tracking_number: str | None = None
) -> Order:
    """PAID -> SHIPPED in one call: the open shipment (or a new one, carrier ``flat-rate`` unless given) ships,
    and the reserved stock leaves for good."""
    order = order_lock(order_id=order_id)
    if not policies.may_ship(actor):
        raise TransitionForbidden("Only staff may ship orders.", action="ship")
    transition_check(order, "ship")
    shipment = shipment_open_locked(order=order)
    if shipment is None:
        if carrier is None and tracking_number is None:
            tracking_number = f"FR{uuid.uuid4().hex[:16].upper()}"
        shipment = shipment_add_locked(order=order, carrier=carrier or FLAT_RATE, tracking_number=tracking_number or "")
        carrier = tracking_number = None  # recorded already
    shipment_ship_locked(order=order, shipment=shipment, actor=actor, carrier=carrier, tracking_number=tracking_number)
    return order


@retry_on_conflict
@transaction.atomic(durable=True)
def _order_cancel(*, order_id: uuid.UUID, actor: User) -> tuple[Order, list[int]]:
    order = order_lock(order_id=order_id)
    target = transition_check(order, "cancel")
    if not policies.may_cancel(actor, order):
        if order.user_id == actor.pk:
            raise TransitionForbidden("Only staff may cancel an order that is paid.", action="cancel")
        raise TransitionForbidden("Only the customer who placed the order, or staff, may cancel it.", action="cancel")
    refunds = payments_end_with_order(
        order=order, payments=payments_lock(order_ids=[order.pk], lock_timeout_is_set=True), reason=ORDER_CANCELLED
    )
    if order.status == OrderStatus.PAID:
        shipments_end_with_order(order=order)
    reservations_release(reservation_ids=order_reservation_ids(order=order), actor=actor, order_id=order.pk)
    order.status, order.cancelled_at = target, timezone.now()
    order.save(update_fields=["status", "cancelled_at"])
    order_event_emit(order=order, email=order.user.email, event="order_cancelled")
    return order, refunds


def order_cancel(*, order_id: uuid.UUID, actor: User) -> Order:
    """PENDING -> CANCELLED (owner or staff) or PAID -> CANCELLED (staff; the payment is refunded).

    The reserved stock goes back to available, an open shipment is cancelled and pending payments
    fail, in one transaction; the refund is requested in it and made through the gateway after it
    commits (a gateway that fails there leaves it requested for ``reconcile_payments``).
    """
    order, refunds = _order_cancel(order_id=order_id, actor=actor)
    if refunds:
        payments_refund(payment_ids=refunds)
    return order
