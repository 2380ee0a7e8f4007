from django.conf import settings
from django.db import models
from django.db.models.functions import Upper


class Product(models.Model):
    """A sellable item. ``stock_quantity`` is available to sell; ``reserved_quantity`` is held by open orders.

    Quantities change only through ``inventory.services`` (which writes the ledger); the CHECK
    constraints are the last word against overselling.
    """

    sku = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    price = models.DecimalField(max_digits=12, decimal_places=2)
    stock_quantity = models.IntegerField(default=0)
    reserved_quantity = models.IntegerField(default=0)
    version = models.PositiveIntegerField(default=1, help_text="Bumped on every change (optimistic locking).")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gte=0), name="product_price_nonnegative"),
            models.CheckConstraint(condition=models.Q(stock_quantity__gte=0), name="product_stock_nonnegative"),
            models.CheckConstraint(condition=models.Q(reserved_quantity__gte=0), name="product_reserved_nonnegative"),
            models.CheckConstraint(condition=models.Q(sku=Upper("sku")), name="product_sku_uppercase"),
        ]
        indexes = [models.Index(fields=["is_active", "name"], name="product_active_name_idx")]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}"


class MovementKind(models.TextChoices):
    RECEIPT = "RECEIPT", "Receipt"
    ADJUSTMENT = "ADJUSTMENT", "Adjustment"
    RESERVE = "RESERVE", "Reserve"
    RELEASE = "RELEASE", "Release"
    SHIP = "SHIP", "Ship"


class StockMovement(models.Model):
    """Append-only stock ledger: one row per product per change, with signed deltas and the balances after.

    For every product the deltas sum to its current ``stock_quantity`` and ``reserved_quantity``
    (``manage.py check_stock`` verifies it).
    """

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="movements")
    kind = models.CharField(max_length=16, choices=MovementKind.choices)
    available_delta = models.IntegerField()
    reserved_delta = models.IntegerField()
    available_after = models.IntegerField()
    reserved_after = models.IntegerField()
    order_id = models.UUIDField(null=True, blank=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    reason = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["product", "-id"], name="movement_product_recent_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(available_after__gte=0, reserved_after__gte=0), name="movement_balances_nonnegative"
            ),
            models.CheckConstraint(condition=models.Q(kind__in=MovementKind.values), name="movement_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.product_id} {self.available_delta:+d}/{self.reserved_delta:+d}"
