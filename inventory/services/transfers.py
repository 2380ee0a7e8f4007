"""Moving units between locations, in one warehouse or across warehouses."""

from django.db import transaction

from accounts.models import User
from catalog.validators import sku_normalize
from config.db import retry_on_conflict
from inventory.exceptions import InsufficientStock, SameLocation
from inventory.locks import stock_lock
from inventory.models import MovementKind, StockMovement
from inventory.services.locations import locations_get, locations_receiving_check
from inventory.services.stock import StockChange, _stock_apply, short_line, stock_rows_ensure, variants_by_sku


@retry_on_conflict
@transaction.atomic(durable=True)
def stock_transfer(
    *,
    sku: str,
    from_location_id: int,
    to_location_id: int,
    quantity: int,
    actor: User,
    reference: str = "",
    reason: str = "",
) -> list[StockMovement]:
    """Move ``quantity`` available units: TRANSFER_OUT at the source, TRANSFER_IN at the destination."""
    if quantity < 1:
        raise ValueError("a transfer moves at least one unit")
    if from_location_id == to_location_id:
        raise SameLocation("A transfer needs two different locations.", location_id=from_location_id)
    variant = variants_by_sku([sku])[sku_normalize(sku)]
    locations = locations_get(location_ids=[from_location_id, to_location_id])
    locations_receiving_check([locations[to_location_id]])
    locked = stock_lock(
        condition=stock_rows_ensure(pairs=[(variant.pk, from_location_id), (variant.pk, to_location_id)])
    )
    row_of = {row.location_id: row for row in locked.values()}
    source, destination = row_of[from_location_id], row_of[to_location_id]
    if source.available < quantity:
        raise InsufficientStock(
            "Not enough available stock at the source location.",
            lines=[short_line(variant, requested=quantity, available=source.available)],
        )
    changes = [
        StockChange(source.pk, MovementKind.TRANSFER_OUT, on_hand_delta=-quantity, reference=reference),
        StockChange(destination.pk, MovementKind.TRANSFER_IN, on_hand_delta=quantity, reference=reference),
    ]
    return _stock_apply(changes=changes, locked=locked, actor=actor, reason=reason)
