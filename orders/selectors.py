"""Reads of orders, scoped to the caller: customers see their own, staff see all."""

import uuid

from django.db.models import QuerySet

from accounts.models import User
from orders.models import Order


def order_list(*, user: User) -> QuerySet[Order]:
    orders = Order.objects.prefetch_related("items").order_by("-created_at", "-id")
    return orders if user.is_staff else orders.filter(user=user)


def order_get(*, user: User, order_id: uuid.UUID) -> Order | None:
    return order_list(user=user).filter(pk=order_id).first()
