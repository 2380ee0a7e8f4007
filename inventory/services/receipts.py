"""Goods in: receipts into a warehouse's locations."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from accounts.models import User
from catalog.validators import sku_normalize
from config.db import retry_on_conflict
from inventory.exceptions import LocationWarehouseMismatch, UnknownLocation, UnknownWarehouse
from inventory.locks import stock_lock
from inventory.models import DEFAULT_LOCATION_CODE, MovementKind, StockMovement, Warehouse
from inventory.services.locations import locations_get, locations_receiving_check
from inventory.services.stock import StockChange, _stock_apply, stock_rows_ensure, variants_by_sku


@dataclass(frozen=True)
class ReceiptLine:
    sku: str
    quantity: int
    location_id: int | None = None  # None: the warehouse's DEFAULT location


@transaction.atomic(savepoint=False)
def stock_receive(
    *, warehouse_id: int, lines: Sequence[ReceiptLine], actor: User | None, reference: str = "", reason: str = ""
) -> list[StockMovement]:
    """Add every line's units to on-hand at its location, all or nothing (one ledger RECEIPT per line)."""
    if not lines or any(line.quantity < 1 for line in lines):
        raise ValueError("a receipt needs lines with positive quantities")
    warehouse = Warehouse.objects.filter(pk=warehouse_id).first()
    if warehouse is None:
        raise UnknownWarehouse("The warehouse does not exist.", warehouse_ids=[warehouse_id])
    variants = variants_by_sku(line.sku for line in lines)
    explicit = {line.location_id for line in lines if line.location_id is not None}
    locations = locations_get(location_ids=explicit, default_of_warehouse=warehouse.pk)
    foreign = sorted(pk for pk in explicit if locations[pk].warehouse_id != warehouse.pk)
    if foreign:
        raise LocationWarehouseMismatch(
            "Some locations belong to another warehouse.", warehouse_id=warehouse.pk, location_ids=foreign
        )
    default = next(
        (loc for loc in locations.values() if loc.warehouse_id == warehouse.pk and loc.code == DEFAULT_LOCATION_CODE),
        None,
    )
    if default is None and len(explicit) < len(lines):
        raise UnknownLocation("The warehouse has no DEFAULT location.", warehouse_id=warehouse.pk)
    targets = [(variants[sku_normalize(line.sku)].pk, line.location_id or default.pk, line.quantity) for line in lines]
    locations_receiving_check(locations[location_id] for _, location_id, _ in targets)

    condition = stock_rows_ensure(pairs=[(variant_id, location_id) for variant_id, location_id, _ in targets])
    locked = stock_lock(condition=condition)
    row_of = {(row.variant_id, row.location_id): row.pk for row in locked.values()}
    changes = [
        StockChange(
            row_of[(variant_id, location_id)], MovementKind.RECEIPT, on_hand_delta=quantity, reference=reference
        )
        for variant_id, location_id, quantity in targets
    ]
    return _stock_apply(changes=changes, locked=locked, actor=actor, reason=reason)


@retry_on_conflict
@transaction.atomic(durable=True)
def stock_receipt_create(
    *, warehouse_id: int, lines: Sequence[ReceiptLine], actor: User, reference: str, reason: str = ""
) -> list[StockMovement]:
    """``POST /stock/receipts``: one receipt, one transaction."""
    return stock_receive(warehouse_id=warehouse_id, lines=lines, actor=actor, reference=reference, reason=reason)
