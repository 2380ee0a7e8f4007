"""Stock set-up and state shared by the inventory tests."""

from catalog.models import Variant
from inventory.models import (
    DEFAULT_LOCATION_CODE,
    Allocation,
    Location,
    Reservation,
    Stock,
    StockMovement,
    Warehouse,
)
from inventory.services.receipts import ReceiptLine, stock_receive

# A variant as /products and /variants render it.
VARIANT_FIELDS = {"id", "product_id", "sku", "name", "options", "price", "is_active", "available"}


def default_of(warehouse: Warehouse) -> Location:
    """The DEFAULT location every warehouse is created with."""
    return Location.objects.get(warehouse=warehouse, code=DEFAULT_LOCATION_CODE)


def receive(variant: Variant, location: Location, quantity: int) -> None:
    """Book ``quantity`` units of ``variant`` in at ``location`` through the receipt service."""
    stock_receive(
        warehouse_id=location.warehouse_id, lines=[ReceiptLine(variant.sku, quantity, location.pk)], actor=None
    )


def stock_snapshot() -> tuple:
    """Everything a stock operation may write: equal before and after a refused call means it wrote nothing."""
    return (
        sorted(Warehouse.objects.values_list("pk", "code", "name", "priority", "is_active")),
        sorted(Location.objects.values_list("pk", "code", "is_active")),
        sorted(Stock.objects.values_list("pk", "on_hand", "reserved")),
        sorted(Reservation.objects.values_list("pk", "status")),
        Allocation.objects.count(),
        StockMovement.objects.count(),
    )
