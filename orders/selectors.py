"""Reads of orders, payments and shipments, scoped to the caller: customers see their own, staff see all."""

import uuid

from django.db.models import QuerySet

from accounts.models import User
from orders.exceptions import OrderNotFound
from orders.models import Order, OrderItem, Payment, Shipment
from orders.policies import may_see_all_orders


def order_list(*, user: User) -> QuerySet[Order]:
    orders = Order.objects.select_related("user").prefetch_related("items").order_by("-created_at", "-id")
    return orders if may_see_all_orders(user) else orders.filter(user=user)


def order_visible_check(*, user: User, order_id: uuid.UUID) -> None:
    """``OrderNotFound`` unless ``user`` may see the order (one light query: nothing is prefetched)."""
    visible = Order.objects.filter(pk=order_id)
    if not may_see_all_orders(user):
        visible = visible.filter(user=user)
    if not visible.exists():
        raise OrderNotFound("Order not found.", order_id=str(order_id))


def order_reservation_ids(*, order: Order) -> list[int]:
    """The order's reservation ids, in line order (orders closed before reservations existed have none)."""
    return reservation_ids_by_order(order_ids=[order.pk]).get(order.pk, [])


def reservation_ids_by_order(*, order_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[int]]:
    """The reservation ids of each of the orders (one query), in line order; orders without any are left out."""
    by_order: dict[uuid.UUID, list[int]] = {}
    lines = OrderItem.objects.filter(order_id__in=order_ids, reservation__isnull=False).order_by("pk")
    for order_id, reservation_id in lines.values_list("order_id", "reservation_id"):
        by_order.setdefault(order_id, []).append(reservation_id)
    return by_order


def payment_list(*, user: User) -> QuerySet[Payment]:
    payments = Payment.objects.order_by("-created_at", "-id")
    return payments if may_see_all_orders(user) else payments.filter(order__user=user)


def shipment_list(*, user: User) -> QuerySet[Shipment]:
    shipments = Shipment.objects.order_by("-created_at", "-id")
    return shipments if may_see_all_orders(user) else shipments.filter(order__user=user)
