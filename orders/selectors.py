"""Reads of orders, scoped to the caller: customers see their own, staff see all."""

from django.db.models import QuerySet

from accounts.models import User
from orders.models import Order


def order_list(*, user: User) -> QuerySet[Order]:
    orders = Order.objects.prefetch_related("items").order_by("-created_at", "-id")
    return orders if user.is_staff else orders.filter(user=user)
