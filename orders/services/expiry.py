"""Unpaid orders expire: PENDING -> EXPIRED, their reservations released, their pending payments failed.

``ORDER_PAYMENT_TIMEOUT_MINUTES`` (0: never) says when a PENDING order is overdue;
``orders_expire_due`` (``manage.py expire_unpaid_orders``) expires the overdue ones in batches,
safe to run concurrently, and leaves an order whose charge is in flight to the gateway's answer
(a customer paying at the last minute keeps the order); ``order_expire`` is staff expiring one
order by hand, overdue or not.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from config.db import retry_on_conflict
from inventory.services.reservations import reservations_release, reservations_release_for_orders
from orders import policies
from orders.exceptions import TransitionForbidden
from orders.locks import order_lock, orders_due_lock, payments_lock
from orders.models import Order, OrderStatus, Payment
from orders.notifications import order_event_emit
from orders.selectors import order_reservation_ids, reservation_ids_by_order
from orders.services.payments import ORDER_EXPIRED
from orders.services.refunds import payments_end_with_order
from orders.services.workflow import transition_check


def _order_expire_locked(*, order: Order, payments: Sequence[Payment]) -> None:
    """Fail the (locked) PENDING order's pending payments and mark it EXPIRED; its reservations are the caller's."""
    payments_end_with_order(order=order, payments=payments, reason=ORDER_EXPIRED)
    order.status, order.expired_at = OrderStatus.EXPIRED, timezone.now()
    order.save(update_fields=["status", "expired_at"])
    order_event_emit(order=order, email=None, event="order_expired")


@retry_on_conflict
@transaction.atomic(durable=True)
def order_expire(*, order_id: uuid.UUID, actor: User) -> Order:
    """PENDING -> EXPIRED by staff, overdue or not: the reservations are released (ledger ``RELEASE``).

    Expiring an EXPIRED order changes nothing and returns it; a PAID, SHIPPED or CANCELLED one
    is ``InvalidTransition``.
    """
    if not policies.may_expire(actor):
        raise TransitionForbidden("Only staff may expire orders.", action="expire")
    order = order_lock(order_id=order_id)
    if order.status == OrderStatus.EXPIRED:
        return order
    transition_check(order, "expire")
    payments = payments_lock(order_ids=[order.pk], lock_timeout_is_set=True)
    reservations_release(reservation_ids=order_reservation_ids(order=order), actor=actor, order_id=order.pk)
    _order_expire_locked(order=order, payments=payments)
    return order


def payment_deadline(*, now: datetime | None = None) -> datetime | None:
    """PENDING orders placed before this are overdue; None when expiry is off (timeout 0)."""
    minutes = settings.ORDER_PAYMENT_TIMEOUT_MINUTES
    if minutes <= 0:
        return None
    return (now or timezone.now()) - timedelta(minutes=minutes)


@retry_on_conflict
@transaction.atomic(durable=True)
def _expire_batch(*, created_before: datetime, batch_size: int) -> tuple[int, int]:
    """Expire up to ``batch_size`` overdue orders that no one else holds, in one transaction.

    Locks in the one order: the orders, their payments, then (``inventory``) their reservations
    and stock rows, each set in id order over the whole batch, so a batch never deadlocks with a
    sale. An order whose charge went out after the orders were chosen (seen once its payments are
    locked) is left to the gateway's answer. Returns (orders locked, orders expired).
    """
    orders = orders_due_lock(created_before=created_before, limit=batch_size)
    if not orders:
        return 0, 0
    payments = payments_lock(order_ids=[order.pk for order in orders], lock_timeout_is_set=True)
    paying = {payment.order_id for payment in payments if payment.charge_in_flight}
    due = [order for order in orders if order.pk not in paying]
    by_order = reservation_ids_by_order(order_ids=[order.pk for order in due])
    reservations_release_for_orders(
        reservations_by_order={order.pk: by_order.get(order.pk, []) for order in due},
        actor=None,
        lock_timeout_is_set=True,
    )
    for order in due:
        _order_expire_locked(order=order, payments=[p for p in payments if p.order_id == order.pk])
    return len(orders), len(due)


def orders_expire_due(*, now: datetime | None = None, batch_size: int = 100) -> int:
    """Expire every PENDING order older than ``ORDER_PAYMENT_TIMEOUT_MINUTES``, a batch per transaction.

    Safe to run concurrently with itself and with payments and cancellations: an order someone
    else has locked is skipped (it is being paid or ended; a later run sees it if it is still
    due), and so is an order whose charge is in flight (it expires once ``reconcile_payments``
    fails that charge). Returns how many orders this run expired; 0 when expiry is off.
    """
    created_before = payment_deadline(now=now)
    if created_before is None:
        return 0
    expired = 0
    while True:
        locked, done = _expire_batch(created_before=created_before, batch_size=batch_size)
        expired += done
        if locked == 0:
            return expired
