"""Counts and damage: signed corrections of the units at one location."""

from django.db import transaction
from django.db.models import Q

from accounts.models import User
from config.db import retry_on_conflict
from inventory.exceptions import StockWouldGoNegative
from inventory.locks import stock_lock
from inventory.models import MovementKind, StockMovement
from inventory.services.locations import locations_get
from inventory.services.stock import StockChange, _stock_apply, stock_rows_ensure, variants_by_sku


@retry_on_conflict
@transaction.atomic(durable=True)
def stock_adjust(*, sku: str, location_id: int, delta: int, reason: str, actor: User) -> StockMovement:
    """Correct the units of ``sku`` at a location by a signed ``delta``; reserved units cannot be adjusted away."""
    if delta == 0:
        raise ValueError("a zero adjustment changes nothing")
    variant = variants_by_sku([sku])[sku.strip().upper()]
    locations_get(location_ids=[location_id])
    if delta > 0:
        condition = stock_rows_ensure(pairs=[(variant.pk, location_id)])
    else:
        condition = Q(variant_id=variant.pk, location_id=location_id)
    row = next(iter(stock_lock(condition=condition).values()), None)
    on_hand, available = (row.on_hand, row.available) if row is not None else (0, 0)
    if available + delta < 0:
        raise StockWouldGoNegative(
            "The adjustment would take the stock below zero (reserved units cannot be adjusted away).",
            sku=variant.sku,
            location_id=location_id,
            delta=delta,
            on_hand=on_hand,
            available=available,
        )
    (movement,) = _stock_apply(
        changes=[StockChange(row.pk, MovementKind.ADJUSTMENT, on_hand_delta=delta)],
        locked={row.pk: row},
        actor=actor,
        reason=reason,
    )
    return movement
