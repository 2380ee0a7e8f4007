"""Reads of orders, payments and shipments, scoped to the caller: customers see their own, staff see all."""

import uuid

from django.db.models import QuerySet

from accounts.models import User
from orders.exceptions import OrderNotFound
from orders.models import Order, Payment, Shipment
from orders.policies import may_see_all_orders


def order_list(*, user: User) -> QuerySet[Order]:
    orders = Order.objects.select_related("user").prefetch_related("items").order_by("-created_at", "-id")
    return orders if may_see_all_orders(user) else orders.filter(user=user)


def order_get(*, user: User, order_id: uuid.UUID) -> Order:
    """The order if ``user`` may see it; ``OrderNotFound`` alike for a missing order and another customer's."""
    order = order_list(user=user).filter(pk=order_id).first()
    if order is None:
        raise OrderNotFound("Order not found.", order_id=str(order_id))
    return order


def payment_list(*, user: User) -> QuerySet[Payment]:
    payments = Payment.objects.order_by("-created_at", "-id")
    return payments if may_see_all_orders(user) else payments.filter(order__user=user)


def shipment_list(*, user: User) -> QuerySet[Shipment]:
    shipments = Shipment.objects.order_by("-created_at", "-id")
    return shipments if may_see_all_orders(user) else shipments.filter(order__user=user)
