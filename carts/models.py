"""Carts: a customer's variant ids and quantities before checkout, and nothing else.

A cart stores no names, prices, SKUs or stock (they are read live from the catalog and
inventory when it is shown) and reserves nothing; checkout places an order through
``orders.services.placement.order_place``.
"""

import uuid

from django.conf import settings
from django.db import models

from catalog.models import Variant
from orders.models import Order

MAX_LINE_QUANTITY = 10_000


class CartStatus(models.TextChoices):
    OPEN = "OPEN", "Open"
    CHECKED_OUT = "CHECKED_OUT", "Checked out"


class Cart(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="carts")
    status = models.CharField(max_length=16, choices=CartStatus.choices, default=CartStatus.OPEN)
    order = models.OneToOneField(Order, null=True, blank=True, on_delete=models.PROTECT, related_name="cart")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    checked_out_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=CartStatus.values), name="cart_status_valid"),
            models.CheckConstraint(
                condition=models.Q(status="OPEN", order__isnull=True, checked_out_at__isnull=True)
                | models.Q(status="CHECKED_OUT", order__isnull=False, checked_out_at__isnull=False),
                name="cart_checked_out_has_order",
            ),
        ]
        indexes = [models.Index(fields=["owner", "-created_at"], name="cart_owner_recent_idx")]

    def __str__(self) -> str:
        return f"Cart {self.pk} ({self.status})"


class CartItem(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    variant = models.ForeignKey(Variant, on_delete=models.PROTECT, related_name="cart_items")
    quantity = models.PositiveIntegerField()
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "variant"], name="cart_item_one_line_per_variant"),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1, quantity__lte=MAX_LINE_QUANTITY), name="cart_item_quantity_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.variant_id}"
