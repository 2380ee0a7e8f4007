"""Warehouses, storage locations, stock per variant per location, the ledger and reservations.

Inventory references catalog variants; it reads nothing of their prices or descriptions.
Quantities change only through ``inventory.services`` (which writes the ledger in the same
transaction); the CHECK constraints are the last word against overselling.
"""

from django.conf import settings
from django.db import models
from django.db.models.functions import Upper

from accounts.models import AuditTrail

DEFAULT_WAREHOUSE_CODE = "MAIN"
DEFAULT_LOCATION_CODE = "DEFAULT"
MAX_UNITS = 2**31 - 1  # the quantity columns are PostgreSQL integers


class Warehouse(models.Model):
    """A site that holds stock. Allocation prefers a lower ``priority`` (then the code)."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    address = models.TextField(blank=True, default="")
    priority = models.PositiveIntegerField(default=100)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = AuditTrail()  # activity and priority changes: who, when, old and new values

    class Meta:
        ordering = ["code"]
        constraints = [models.CheckConstraint(condition=models.Q(code=Upper("code")), name="warehouse_code_uppercase")]

    def __str__(self) -> str:
        return self.code


class Location(models.Model):
    """A storage location (bin, shelf, bay) inside a warehouse; ``DEFAULT`` receives goods."""

    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="locations")
    code = models.CharField(max_length=64)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = AuditTrail()

    class Meta:
        ordering = ["warehouse_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "code"], name="location_code_per_warehouse"),
            models.CheckConstraint(condition=models.Q(code=Upper("code")), name="location_code_uppercase"),
        ]

    def __str__(self) -> str:
        return f"{self.warehouse.code}/{self.code}"


class Stock(models.Model):
    """Units of one variant at one location: ``on_hand`` in the building, ``reserved`` of them held.

    Available = on_hand - reserved. For every row the ledger deltas sum to these two numbers,
    and ``reserved`` equals the units its ALLOCATED reservations hold (``check_stock``).
    """

    variant = models.ForeignKey("catalog.Variant", on_delete=models.PROTECT, related_name="stocks")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="stocks")
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["variant", "location"], name="stock_one_row_per_variant_location"),
            models.CheckConstraint(condition=models.Q(reserved__gte=0), name="stock_reserved_nonnegative"),
            models.CheckConstraint(
                condition=models.Q(on_hand__gte=models.F("reserved")), name="stock_reserved_le_on_hand"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.variant_id}@{self.location_id}: {self.on_hand}/{self.reserved}"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class MovementKind(models.TextChoices):
    RECEIPT = "RECEIPT", "Receipt"
    ADJUSTMENT = "ADJUSTMENT", "Adjustment"
    TRANSFER_OUT = "TRANSFER_OUT", "Transfer out"
    TRANSFER_IN = "TRANSFER_IN", "Transfer in"
    RESERVE = "RESERVE", "Reserve"
    RELEASE = "RELEASE", "Release"
    COMMIT = "COMMIT", "Commit"
    EXPIRE = "EXPIRE", "Expire"


class ReservationStatus(models.TextChoices):
    ALLOCATED = "ALLOCATED", "Allocated"
    RELEASED = "RELEASED", "Released"
    COMMITTED = "COMMITTED", "Committed"
    EXPIRED = "EXPIRED", "Expired"


class Reservation(models.Model):
    """Units held for an order line or an explicit hold; ``allocations`` say which stock rows hold them.

    An order's reservations (``order_id`` set) never expire; an explicit hold may (``expires_at``).
    """

    status = models.CharField(max_length=16, choices=ReservationStatus.choices, default=ReservationStatus.ALLOCATED)
    reference = models.CharField(max_length=255)
    order_id = models.UUIDField(null=True, blank=True, db_index=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)
    committed_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=ReservationStatus.values), name="reservation_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(order_id__isnull=True) | models.Q(expires_at__isnull=True),
                name="reservation_order_never_expires",
            ),
        ]
        indexes = [
            models.Index(
                fields=["expires_at"],
                condition=models.Q(status="ALLOCATED", expires_at__isnull=False),
                name="reservation_expiring_idx",
            ),
            models.Index(fields=["reference"], name="reservation_reference_idx"),
        ]

    def __str__(self) -> str:
        return f"Reservation {self.pk} ({self.status})"


class Allocation(models.Model):
    """``quantity`` units of a reservation held on one stock row."""

    reservation = models.ForeignKey(Reservation, on_delete=models.CASCADE, related_name="allocations")
    stock = models.ForeignKey(Stock, on_delete=models.PROTECT, related_name="allocations")
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["reservation", "stock"], name="allocation_one_per_stock_row"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="allocation_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} on {self.stock_id} for {self.reservation_id}"


class StockMovement(models.Model):
    """Append-only stock ledger: one row per stock row per change, with signed deltas and the balances after.

    For every stock row the deltas sum to its ``on_hand`` and ``reserved`` (``manage.py check_stock``).
    PostgreSQL refuses UPDATEs of these rows.
    """

    stock = models.ForeignKey(Stock, on_delete=models.PROTECT, related_name="movements")
    kind = models.CharField(max_length=16, choices=MovementKind.choices)
    on_hand_delta = models.IntegerField()
    reserved_delta = models.IntegerField()
    on_hand_after = models.IntegerField()
    reserved_after = models.IntegerField()
    reservation = models.ForeignKey(
        Reservation, null=True, blank=True, on_delete=models.PROTECT, related_name="movements"
    )
    order_id = models.UUIDField(null=True, blank=True, db_index=True)
    reference = models.CharField(max_length=255, blank=True, default="")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    reason = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["stock", "-id"], name="movement_stock_recent_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(reserved_after__gte=0, on_hand_after__gte=models.F("reserved_after")),
                name="movement_balances_valid",
            ),
            models.CheckConstraint(condition=models.Q(kind__in=MovementKind.values), name="movement_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.stock_id} {self.on_hand_delta:+d}/{self.reserved_delta:+d}"
