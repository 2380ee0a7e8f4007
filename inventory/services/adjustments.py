"""Counts and damage: corrections of the units at one location, booked as ledger ADJUSTMENTs."""

from django.db import transaction
from django.db.models import Q

from accounts.models import User
from catalog.models import Variant
from catalog.validators import sku_normalize
from config.db import retry_on_conflict
from inventory.exceptions import StockWouldGoNegative
from inventory.locks import stock_lock
from inventory.models import MovementKind, Stock, StockMovement
from inventory.services.locations import locations_get
from inventory.services.stock import StockChange, _stock_apply, stock_rows_ensure, variants_by_sku


def _row_lock(*, variant: Variant, location_id: int, create: bool) -> Stock | None:
    """The variant's stock row at the location, locked (created first when ``create``)."""
    locations_get(location_ids=[location_id])
    pair = Q(variant_id=variant.pk, location_id=location_id)
    condition = stock_rows_ensure(pairs=[(variant.pk, location_id)]) if create else pair
    return next(iter(stock_lock(condition=condition).values()), None)


def _adjust(*, variant: Variant, row: Stock | None, location_id: int, delta: int, reason: str, actor: User):
    on_hand, available = (row.on_hand, row.available) if row is not None else (0, 0)
    if available + delta < 0:
        raise StockWouldGoNegative(
            "The adjustment would take the stock below zero (reserved units cannot be adjusted away).",
            product_id=variant.product_id,
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


@transaction.atomic(savepoint=False)
def variant_stock_adjust(*, variant: Variant, location_id: int, delta: int, reason: str, actor: User) -> StockMovement:
    """Correct the units of a variant at a location by a signed ``delta``, inside the caller's transaction."""
    if delta == 0:
        raise ValueError("a zero adjustment changes nothing")
    row = _row_lock(variant=variant, location_id=location_id, create=delta > 0)
    return _adjust(variant=variant, row=row, location_id=location_id, delta=delta, reason=reason, actor=actor)


@retry_on_conflict
@transaction.atomic(durable=True)
def stock_adjust(*, sku: str, location_id: int, delta: int, reason: str, actor: User) -> StockMovement:
    """Correct the units of ``sku`` at a location by a signed ``delta``; reserved units cannot be adjusted away."""
    variant = variants_by_sku([sku])[sku_normalize(sku)]
    return variant_stock_adjust(variant=variant, location_id=location_id, delta=delta, reason=reason, actor=actor)


@retry_on_conflict
@transaction.atomic(durable=True)
def stock_count(*, sku: str, location_id: int, counted: int, reason: str, actor: User) -> StockMovement | None:
    """A stock count: the units at the location become ``counted``, by one ADJUSTMENT of the difference.

    The difference is taken on the locked row, so a receipt or sale landing at the same moment is
    never counted over; a count equal to the books writes nothing (None), one below the reserved
    units is refused (``StockWouldGoNegative``).
    """
    if counted < 0:
        raise ValueError("a count cannot be negative")
    variant = variants_by_sku([sku])[sku_normalize(sku)]
    row = _row_lock(variant=variant, location_id=location_id, create=True)
    delta = counted - row.on_hand
    if delta == 0:
        return None
    return _adjust(variant=variant, row=row, location_id=location_id, delta=delta, reason=reason, actor=actor)
