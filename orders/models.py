import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F

from catalog.models import Product, Variant
from inventory.models import Reservation

MAX_AMOUNT = Decimal(10) ** 12  # amounts are numeric(14, 2)


class OrderStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    PAID = "PAID", "Paid"
    SHIPPED = "SHIPPED", "Shipped"
    CANCELLED = "CANCELLED", "Cancelled"


class Order(models.Model):
    """A customer's order. Amounts are fixed when it is placed; status moves only through ``orders.services``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=16, choices=OrderStatus.choices, default=OrderStatus.PENDING)
    subtotal = models.DecimalField(max_digits=14, decimal_places=2)
    shipping_amount = models.DecimalField(max_digits=12, decimal_places=2)
    total_amount = models.DecimalField(max_digits=14, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001 (NULL: no key, never conflicts)
    request_hash = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "idempotency_key"],
                condition=models.Q(idempotency_key__isnull=False),
                name="order_idempotency_key_per_user",
            ),
            models.CheckConstraint(condition=models.Q(status__in=OrderStatus.values), name="order_status_valid"),
            models.CheckConstraint(
                condition=models.Q(subtotal__gte=0, shipping_amount__gte=0), name="order_amounts_nonnegative"
            ),
            models.CheckConstraint(
                condition=models.Q(total_amount=F("subtotal") + F("shipping_amount")), name="order_total_is_sum"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="order_user_recent_idx"),
            models.Index(fields=["status", "-created_at"], name="order_status_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"Order {self.pk} ({self.status})"


class OrderItem(models.Model):
    """One line of an order: a snapshot of the variant as it was sold. Never reads the live price again.

    ``reservation`` holds its units in inventory until the order ships (commit) or is cancelled
    (release); orders closed before reservations existed have none.
    """

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_items")
    variant = models.ForeignKey(Variant, on_delete=models.PROTECT, related_name="order_items")
    reservation = models.OneToOneField(
        Reservation, null=True, blank=True, on_delete=models.PROTECT, related_name="order_item"
    )
    product_name = models.CharField(max_length=200)
    variant_name = models.CharField(max_length=200, blank=True, default="")
    sku = models.CharField(max_length=64)
    quantity = models.PositiveIntegerField()
    unit_price_at_purchase = models.DecimalField(max_digits=12, decimal_places=2)
    line_total = models.DecimalField(max_digits=14, decimal_places=2)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "variant"], name="order_item_one_line_per_variant"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="order_item_quantity_positive"),
            models.CheckConstraint(
                condition=models.Q(unit_price_at_purchase__gte=0), name="order_item_price_nonnegative"
            ),
            models.CheckConstraint(
                condition=models.Q(line_total=F("quantity") * F("unit_price_at_purchase")),
                name="order_item_line_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


class PaymentStatus(models.TextChoices):
    SUCCEEDED = "SUCCEEDED", "Succeeded"
    FAILED = "FAILED", "Failed"
    REFUNDED = "REFUNDED", "Refunded"


class Payment(models.Model):
    """One attempt to charge an order through the payment gateway (a refund marks it REFUNDED)."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    status = models.CharField(max_length=16, choices=PaymentStatus.choices)
    provider_reference = models.CharField(max_length=100, blank=True, default="")
    message = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=PaymentStatus.values), name="payment_status_valid"),
            models.UniqueConstraint(
                fields=["order"],
                condition=models.Q(status__in=["SUCCEEDED", "REFUNDED"]),
                name="payment_one_success_per_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.status} {self.amount} for {self.order_id}"


class Shipment(models.Model):
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="shipment")
    carrier = models.CharField(max_length=50, default="flat-rate")
    cost = models.DecimalField(max_digits=12, decimal_places=2)
    tracking_number = models.CharField(max_length=64, unique=True)
    shipped_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number}"
