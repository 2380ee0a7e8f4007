import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F

from catalog.models import Product, Variant
from inventory.models import Reservation

MAX_AMOUNT = Decimal(10) ** 12  # amounts are numeric(14, 2)


def installation_currency() -> str:
    """Orders and payments keep the installation's ``CURRENCY`` of the day they were made."""
    return settings.CURRENCY


class OrderStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    PAID = "PAID", "Paid"
    SHIPPED = "SHIPPED", "Shipped"
    CANCELLED = "CANCELLED", "Cancelled"
    EXPIRED = "EXPIRED", "Expired"


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
    expired_at = models.DateTimeField(null=True, blank=True)
    currency = models.CharField(max_length=3, default=installation_currency)
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
            models.Index(fields=["created_at"], condition=models.Q(status="PENDING"), name="order_pending_created_idx"),
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
    PENDING = "PENDING", "Pending"
    SUCCEEDED = "SUCCEEDED", "Succeeded"
    FAILED = "FAILED", "Failed"
    REFUNDED = "REFUNDED", "Refunded"


# What ``reconcile_payments`` settles, expiry waits for and the admin lists, each behind a partial index:
# a charge sent to the gateway whose answer is not settled yet, and a refund requested, neither made nor
# declined. ``Payment.charge_in_flight`` and ``Payment.refund_due`` say the same of a payment in hand.
CHARGE_IN_FLIGHT = models.Q(status="PENDING", charge_requested_at__isnull=False)
REFUND_DUE = models.Q(refund_requested_at__isnull=False, refunded_at__isnull=True, refund_failed_at__isnull=True)


class Payment(models.Model):
    """One attempt to charge an order: PENDING -> SUCCEEDED or FAILED (final); SUCCEEDED -> REFUNDED.

    Amount and currency come from the order, never from the client. The gateway is called with
    the idempotency keys ``pay-<id>`` and ``refund-<id>`` outside any transaction, after
    ``charge_requested_at`` / ``refund_requested_at`` are committed: a PENDING payment with a
    charge requested, or a refund requested but not done, is what a crash between the call and
    its settlement leaves for ``manage.py reconcile_payments``. A payment whose charge is in
    flight leaves PENDING only with the gateway's answer (or the provider's, through an admin).
    A FAILED payment with a refund requested was charged after it could no longer succeed (its
    order ended meanwhile), or failed before the gateway's answer was known (an admin failed it,
    or the gateway had not received it yet): whatever the charge took is given back (nothing, if
    it took nothing), and the payment stays FAILED. A refund the gateway declines is recorded
    (``refund_failed_at``, ``refund_failure_reason``) for a person to settle: the same key would
    be declined again.
    """

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, default=installation_currency)
    status = models.CharField(max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)
    provider = models.CharField(max_length=50, default="mock")
    provider_reference = models.CharField(max_length=100, blank=True, default="")
    failure_reason = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    charge_requested_at = models.DateTimeField(null=True, blank=True)
    refund_requested_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)
    refund_failed_at = models.DateTimeField(null=True, blank=True)
    refund_failure_reason = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=PaymentStatus.values), name="payment_status_valid"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="payment_amount_nonnegative"),
            models.UniqueConstraint(
                fields=["order"],
                condition=models.Q(status__in=["SUCCEEDED", "REFUNDED"]),
                name="payment_one_success_per_order",
            ),
            models.CheckConstraint(
                condition=models.Q(status="PENDING") | models.Q(completed_at__isnull=False),
                name="payment_completed_has_date",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="payment_status_created_idx"),
            models.Index(
                fields=["charge_requested_at"],
                condition=CHARGE_IN_FLIGHT,
                name="payment_charge_due_idx",
            ),
            models.Index(fields=["refund_requested_at"], condition=REFUND_DUE, name="payment_refund_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.status} {self.amount} {self.currency} for {self.order_id}"

    @property
    def charge_in_flight(self) -> bool:
        """``CHARGE_IN_FLIGHT``: the charge was sent to the gateway and its answer is not settled yet."""
        return self.status == PaymentStatus.PENDING and self.charge_requested_at is not None

    @property
    def refund_due(self) -> bool:
        """``REFUND_DUE``: a refund was requested and is neither made nor declined."""
        return self.refund_requested_at is not None and self.refunded_at is None and self.refund_failed_at is None


class ShipmentStatus(models.TextChoices):
    PENDING = "PENDING", "Pending"
    SHIPPED = "SHIPPED", "Shipped"
    CANCELLED = "CANCELLED", "Cancelled"


class Shipment(models.Model):
    """A parcel for a PAID order: PENDING -> SHIPPED (the order ships, its stock is committed) or CANCELLED."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="shipments")
    status = models.CharField(max_length=16, choices=ShipmentStatus.choices, default=ShipmentStatus.PENDING)
    carrier = models.CharField(max_length=50, blank=True, default="")
    tracking_number = models.CharField(max_length=64, blank=True, default="")
    cost = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    created_at = models.DateTimeField(auto_now_add=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=ShipmentStatus.values), name="shipment_status_valid"),
            models.UniqueConstraint(
                fields=["order"], condition=models.Q(status="PENDING"), name="shipment_one_open_per_order"
            ),
            models.UniqueConstraint(
                fields=["order"], condition=models.Q(status="SHIPPED"), name="shipment_one_shipped_per_order"
            ),
            models.UniqueConstraint(
                fields=["carrier", "tracking_number"],
                condition=~models.Q(tracking_number=""),
                name="shipment_tracking_number_unique",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="SHIPPED") | models.Q(shipped_at__isnull=False),
                name="shipment_shipped_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.status} {self.carrier} {self.tracking_number}".strip()
