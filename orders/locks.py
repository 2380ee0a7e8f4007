"""The row locks of orders, payments and shipments: the one place that takes them.

Lock order, everywhere: order rows, then payment and shipment rows, then reservation rows,
then stock rows (``inventory.locks``), each set in ascending id order. Two transactions that
need the same rows then queue instead of deadlocking. Every helper sets the transaction's
``lock_timeout`` first (``STOCK_LOCK_TIMEOUT_MS``, as the stock locks do) unless the caller says
it already did, so a stuck lock is a 503 ``database_busy``, not a hang. Each must run inside a
transaction; evaluating the queryset takes the locks.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef

from config.db import lock_timeout_set, lock_timeout_set_and_read
from orders.exceptions import OrderNotFound, PaymentNotFound, ShipmentNotFound
from orders.models import CHARGE_IN_FLIGHT, Order, OrderStatus, Payment, Shipment


def order_lock(*, order_id: uuid.UUID, lock_timeout_is_set: bool = False) -> Order:
    """Lock one order ``FOR UPDATE`` (with its customer, read, not locked); ``OrderNotFound`` if missing."""
    if not lock_timeout_is_set:
        lock_timeout_set()
    order = Order.objects.select_related("user").select_for_update(of=("self",)).filter(pk=order_id).first()
    if order is None:
        raise OrderNotFound("Order not found.", order_id=str(order_id))
    return order


def orders_due_lock(*, created_before: datetime, limit: int) -> list[Order]:
    """Up to ``limit`` PENDING orders placed before ``created_before`` that nobody else holds, in id order.

    ``SKIP LOCKED`` never waits: an order someone is paying, cancelling or expiring is left to
    them, and concurrent runs share the work instead of queueing for it. An order whose charge is
    in flight is not due: it waits for the gateway's answer (or ``reconcile_payments``).
    """
    lock_timeout_set()
    in_flight = Payment.objects.filter(CHARGE_IN_FLIGHT, order=OuterRef("pk"))
    return list(
        Order.objects.filter(status=OrderStatus.PENDING, created_at__lt=created_before)
        .exclude(Exists(in_flight))
        .select_related("user")
        .order_by("pk")
        .select_for_update(of=("self",), skip_locked=True)[:limit]
    )


def payments_lock(*, order_ids: list[uuid.UUID], lock_timeout_is_set: bool = False) -> list[Payment]:
    """Lock every payment of the (already locked) orders, in ascending id order."""
    if not lock_timeout_is_set:
        lock_timeout_set()
    return list(Payment.objects.filter(order_id__in=order_ids).order_by("pk").select_for_update())


def shipments_lock(*, order_id: uuid.UUID, lock_timeout_is_set: bool = False) -> list[Shipment]:
    """Lock every shipment of the (already locked) order, in ascending id order."""
    if not lock_timeout_is_set:
        lock_timeout_set()
    return list(Shipment.objects.filter(order_id=order_id).order_by("pk").select_for_update())


@dataclass(frozen=True)
class LockedPayment:
    order: Order
    payment: Payment
    payments: list[Payment]  # every payment of the order, the one above included


def payment_lock(*, payment_id: int) -> LockedPayment:
    """Lock the payment's order, then every payment of the order (a payment never changes its order).

    ``PaymentNotFound`` if there is no such payment.
    """
    found = lock_timeout_set_and_read(Payment.objects.filter(pk=payment_id).values("order_id"))
    if not found:
        raise PaymentNotFound("Payment not found.", payment_id=payment_id)
    order = order_lock(order_id=found[0], lock_timeout_is_set=True)
    payments = payments_lock(order_ids=[order.pk], lock_timeout_is_set=True)
    (payment,) = (p for p in payments if p.pk == payment_id)
    return LockedPayment(order=order, payment=payment, payments=payments)


def shipment_lock(*, shipment_id: int) -> tuple[Order, Shipment]:
    """Lock the shipment's order, then every shipment of the order (a shipment never changes its order).

    ``ShipmentNotFound`` if there is no such shipment.
    """
    found = lock_timeout_set_and_read(Shipment.objects.filter(pk=shipment_id).values("order_id"))
    if not found:
        raise ShipmentNotFound("Shipment not found.", shipment_id=shipment_id)
    order = order_lock(order_id=found[0], lock_timeout_is_set=True)
    (shipment,) = (s for s in shipments_lock(order_id=order.pk, lock_timeout_is_set=True) if s.pk == shipment_id)
    return order, shipment
