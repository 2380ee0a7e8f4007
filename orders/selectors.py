"""Reads of orders, scoped to the caller: customers see their own, staff see all."""

from django.db.models import QuerySet

from accounts.models import User
from orders.models import Order
from orders.policies import may_see_all_orders


def order_list(*, user: User) -> QuerySet[Order]:
    orders = Order.objects.select_related("user").prefetch_related("items").order_by("-created_at", "-id")
    return orders if may_see_all_orders(user) else orders.filter(user=user)
