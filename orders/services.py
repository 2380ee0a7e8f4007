"""Every write to orders: placement and the PENDING -> PAID -> SHIPPED (or CANCELLED) workflow.

Stock moves only through ``inventory.services``; each entry point owns one durable transaction,
is retried on a deadlock or serialization failure, and queues its log and email events with
``transaction.on_commit`` so nothing leaves the process for a transaction that rolled back.
"""

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Role, User
from config.db import retry_on_conflict
from inventory.services import StockLine, stock_commit, stock_release, stock_reserve
from orders.exceptions import (
    EmptyOrder,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    InvalidTransition,
    OrderNotFound,
    PaymentDeclined,
    TransitionForbidden,
)
from orders.models import Order, OrderItem, OrderStatus, Payment, PaymentStatus, Shipment
from orders.notifications import order_event_emit
from orders.payments import payment_gateway

# action -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "pay": (frozenset({OrderStatus.PENDING}), OrderStatus.PAID),
    "ship": (frozenset({OrderStatus.PAID}), OrderStatus.SHIPPED),
    "cancel": (frozenset({OrderStatus.PENDING, OrderStatus.PAID}), OrderStatus.CANCELLED),
}


@dataclass(frozen=True)
class Placement:
    order: Order
    replayed: bool  # True when an Idempotency-Key matched an order placed earlier


def _merge_lines(lines: Sequence[StockLine]) -> dict[int, int]:
    if not lines:
        raise EmptyOrder("An order needs at least one item.")
    bad = [line.product_id for line in lines if line.quantity < 1]
    if bad:
        raise ValidationError({"items": [f"Quantities must be at least 1 (product ids {sorted(set(bad))})."]})
    merged: dict[int, int] = {}
    for line in lines:
        merged[line.product_id] = merged.get(line.product_id, 0) + line.quantity
    return merged


def _request_hash(merged: dict[int, int]) -> str:
    """Fingerprint of what was asked for: the same items in any order or split give the same hash."""
    return hashlib.sha256(json.dumps(sorted(merged.items())).encode()).hexdigest()


def _idempotent_replay(*, customer: User, key: str, request_hash: str) -> Order | None:
    """The order an earlier request with ``key`` placed, or None if this is the first use of the key.

    A transaction-scoped advisory lock on (customer, key) is held until this transaction ends, so
    a concurrent request with the same key is told it is in flight instead of racing; the unique
    constraint on (user, idempotency_key) is the last word.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))", [f"order:{customer.pk}:{key}"])
        (acquired,) = cursor.fetchone()
    if not acquired:
        raise IdempotencyKeyInFlight("A request with this Idempotency-Key is still being processed.", key=key)
    existing = Order.objects.filter(user=customer, idempotency_key=key).first()
    if existing is not None and existing.request_hash != request_hash:
        raise IdempotencyKeyReused("This Idempotency-Key was used with a different request body.", key=key)
    return existing


@retry_on_conflict
@transaction.atomic(durable=True)
def order_place(*, customer: User, lines: Sequence[StockLine], idempotency_key: str | None = None) -> Placement:
    """Reserve the stock of every line and record the order with a snapshot of each product's price."""
    merged = _merge_lines(lines)
    request_hash = _request_hash(merged)
    if idempotency_key is not None:
        earlier = _idempotent_replay(customer=customer, key=idempotency_key, request_hash=request_hash)
        if earlier is not None:
            return Placement(order=earlier, replayed=True)

    order = Order(id=uuid.uuid4(), user=customer, idempotency_key=idempotency_key, request_hash=request_hash)
    reservation = stock_reserve(
        lines=[StockLine(pid, quantity) for pid, quantity in merged.items()], actor=customer, order_id=order.id
    )
    items = [
        OrderItem(
            order=order,
            product_id=pid,
            product_name=reservation.products[pid].name,
            sku=reservation.products[pid].sku,
            quantity=quantity,
            unit_price_at_purchase=reservation.products[pid].price,
            line_total=reservation.products[pid].price * quantity,
        )
        for pid, quantity in sorted(merged.items())
    ]
    order.subtotal = sum((item.line_total for item in items), Decimal("0.00"))
    order.shipping_amount = settings.SHIPPING_FLAT_RATE
    order.total_amount = order.subtotal + order.shipping_amount
    order.save(force_insert=True)
    OrderItem.objects.bulk_create(items)
    order_event_emit(order=order, email=customer.email, event="order_placed")
    return Placement(order=order, replayed=False)


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


def _lines_of(order: Order) -> list[StockLine]:
    return [StockLine(product_id, quantity) for product_id, quantity in order.items.values_list("product", "quantity")]


@retry_on_conflict
@transaction.atomic(durable=True)
def _order_pay_attempt(*, order_id: uuid.UUID, actor: User) -> tuple[Order, Payment]:
    order = _order_lock(order_id)
    if actor.pk != order.user_id and actor.role != Role.ADMIN:
        raise _forbid("pay", "Only the customer who placed the order, or an admin, may pay for it.")
    target = _transition_check(order, "pay")
    result = payment_gateway().charge(order_id=order.pk, amount=order.total_amount)
    payment = Payment.objects.create(
        order=order,
        amount=order.total_amount,
        status=PaymentStatus.SUCCEEDED if result.succeeded else PaymentStatus.FAILED,
        provider_reference=result.reference,
        message=result.message,
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
            payment.message or "The payment was declined.", order_id=str(order.pk), payment_id=payment.pk
        )
    return order


@retry_on_conflict
@transaction.atomic(durable=True)
def order_ship(*, order_id: uuid.UUID, actor: User) -> Order:
    """PAID -> SHIPPED: the reserved stock leaves for good and a flat-rate shipment is recorded."""
    order = _order_lock(order_id)
    if not actor.is_staff:
        raise _forbid("ship", "Only staff may ship orders.")
    target = _transition_check(order, "ship")
    stock_commit(lines=_lines_of(order), actor=actor, order_id=order.pk)
    now = timezone.now()
    Shipment.objects.create(
        order=order,
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
    if order.status == OrderStatus.PAID and not actor.is_staff:
        raise _forbid("cancel", "Only staff may cancel an order that is paid.")
    if actor.pk != order.user_id and not actor.is_staff:
        raise _forbid("cancel", "Only the customer who placed the order, or staff, may cancel it.")
    if order.status == OrderStatus.PAID:
        _payment_refund(order=order)
    stock_release(lines=_lines_of(order), actor=actor, order_id=order.pk)
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
    payment.save(update_fields=["status", "refunded_at"])
