"""Unpaid orders expire: PENDING -> EXPIRED, their reservations released, their pending payments failed.

``ORDER_PAYMENT_TIMEOUT_MINUTES`` (0: never) says when a PENDING order is overdue;
``orders_expire_due`` (``manage.py expire_unpaid_orders``) expires the overdue ones in batches,
safe to run concurrently; ``order_expire`` is staff expiring one order by hand, overdue or not.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from config.db import retry_on_conflict
from inventory.locks import reservations_lock, stock_lock
from inventory.models import Allocation, ReservationStatus
from inventory.services.reservations import reservations_release
from inventory.services.settle import reservations_settle
from orders import policies
from orders.exceptions import TransitionForbidden
from orders.locks import order_lock, orders_due_lock, payments_lock
from orders.models import Order, OrderItem, OrderStatus, Payment
from orders.notifications import order_event_emit
from orders.services.payments import ORDER_EXPIRED, payments_end_with_order
from orders.services.workflow import reservations_of, transition_check


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
    reservations_release(reservation_ids=reservations_of(order), actor=actor, order_id=order.pk)
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
def _expire_batch(*, created_before: datetime, batch_size: int) -> int:
    """Expire up to ``batch_size`` overdue orders that no one else holds, in one transaction.

    Locks in the one order: the orders, their payments, their reservations, their stock rows,
    each set in id order over the whole batch, so a batch never deadlocks with a sale.
    """
    orders = orders_due_lock(created_before=created_before, limit=batch_size)
    if not orders:
        return 0
    by_id = {order.pk: order for order in orders}
    payments = payments_lock(order_ids=list(by_id), lock_timeout_is_set=True)
    items = list(OrderItem.objects.filter(order_id__in=list(by_id), reservation__isnull=False).order_by("pk"))
    locked = reservations_lock(reservation_ids=[item.reservation_id for item in items], lock_timeout_is_set=True)
    allocated = {pk for pk, reservation in locked.items() if reservation.status == ReservationStatus.ALLOCATED}
    stock = stock_lock(
        condition=Q(pk__in=Allocation.objects.filter(reservation_id__in=allocated).values("stock_id")),
        lock_timeout_is_set=True,
    )
    for order in orders:
        mine = [locked[item.reservation_id] for item in items if item.order_id == order.pk]
        held = [reservation for reservation in mine if reservation.pk in allocated]
        if held:
            reservations_settle(reservations=held, action="release", actor=None, order_id=order.pk, locked=stock)
        _order_expire_locked(order=order, payments=[p for p in payments if p.order_id == order.pk])
    return len(orders)


def orders_expire_due(*, now: datetime | None = None, batch_size: int = 100) -> int:
    """Expire every PENDING order older than ``ORDER_PAYMENT_TIMEOUT_MINUTES``, a batch per transaction.

    Safe to run concurrently with itself and with payments and cancellations: an order someone
    else has locked is skipped (it is being paid or ended; a later run sees it if it is still
    due). Returns how many orders this run expired; 0 when expiry is off.
    """
    created_before = payment_deadline(now=now)
    if created_before is None:
        return 0
    expired = 0
    while done := _expire_batch(created_before=created_before, batch_size=batch_size):
        expired += done
    return expired
