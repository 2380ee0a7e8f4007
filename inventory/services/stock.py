"""The one way stock changes: ``_stock_apply``, on rows locked through ``inventory.locks.stock_lock``.

Callers lock the rows, check every line and raise one error naming every line that fails,
then hand their changes here: one guarded relative ``UPDATE`` of every row and one
``bulk_create`` of the ledger rows, whatever the number of lines.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from uuid import UUID

from django.db.models import Case, F, IntegerField, Q, Value, When
from django.db.models.functions import Now

from accounts.models import User
from catalog.models import Variant
from catalog.validators import sku_normalize
from config.db import lock_timeout_set
from inventory.exceptions import StockLimitExceeded, UnknownSku
from inventory.models import MAX_UNITS, Stock, StockMovement


@dataclass(frozen=True)
class StockChange:
    """Signed deltas for one stock row, booked in the ledger as ``kind``."""

    stock_id: int
    kind: str
    on_hand_delta: int = 0
    reserved_delta: int = 0
    reservation_id: int | None = None
    reference: str = ""


def _per_row(totals: dict[int, int]) -> Case:
    return Case(
        *(When(pk=stock_id, then=Value(delta)) for stock_id, delta in totals.items()),
        default=Value(0),
        output_field=IntegerField(),
    )


def _limit_check(totals: dict[int, tuple[int, int]], locked: dict[int, Stock]) -> None:
    over = [
        {
            "sku": locked[stock_id].variant.sku,
            "location_id": locked[stock_id].location_id,
            "on_hand": locked[stock_id].on_hand,
            "delta": on_hand,
        }
        for stock_id, (on_hand, _) in sorted(totals.items())
        if locked[stock_id].on_hand + on_hand > MAX_UNITS
    ]
    if over:
        raise StockLimitExceeded(f"A stock row cannot hold more than {MAX_UNITS} units.", lines=over)


def _stock_apply(
    *,
    changes: Sequence[StockChange],
    locked: dict[int, Stock],
    actor: User | None,
    reason: str = "",
    order_id: UUID | None = None,
) -> list[StockMovement]:
    """Apply ``changes``, already checked against the ``locked`` rows, and write their ledger rows.

    The rows stay locked until the transaction ends, so the balances after each change are the
    locked values plus the deltas so far (several changes may touch one row); the guarded
    UPDATE touching every row confirms it.
    """
    totals: dict[int, tuple[int, int]] = {}
    for change in changes:
        on_hand, reserved = totals.get(change.stock_id, (0, 0))
        totals[change.stock_id] = (on_hand + change.on_hand_delta, reserved + change.reserved_delta)
    _limit_check(totals, locked)
    on_hand_delta = _per_row({stock_id: deltas[0] for stock_id, deltas in totals.items()})
    reserved_delta = _per_row({stock_id: deltas[1] for stock_id, deltas in totals.items()})
    updated = (
        Stock.objects.filter(pk__in=list(totals))
        .alias(new_on_hand=F("on_hand") + on_hand_delta, new_reserved=F("reserved") + reserved_delta)
        .filter(new_reserved__gte=0, new_on_hand__gte=F("new_reserved"))
        .update(on_hand=F("on_hand") + on_hand_delta, reserved=F("reserved") + reserved_delta, updated_at=Now())
    )
    if updated != len(totals):  # cannot happen while the rows are locked and checked; refuse rather than half-apply
        raise RuntimeError(f"stock update touched {updated} of {len(totals)} locked rows")
    balances = {stock_id: (row.on_hand, row.reserved) for stock_id, row in locked.items() if stock_id in totals}
    movements = []
    for change in changes:
        on_hand, reserved = balances[change.stock_id]
        balances[change.stock_id] = (on_hand + change.on_hand_delta, reserved + change.reserved_delta)
        movements.append(
            StockMovement(
                stock_id=change.stock_id,
                kind=change.kind,
                on_hand_delta=change.on_hand_delta,
                reserved_delta=change.reserved_delta,
                on_hand_after=balances[change.stock_id][0],
                reserved_after=balances[change.stock_id][1],
                reservation_id=change.reservation_id,
                order_id=order_id,
                reference=change.reference,
                actor=actor,
                reason=reason,
            )
        )
    for stock_id, (on_hand, reserved) in balances.items():  # the caller's view of the rows stays true
        locked[stock_id].on_hand, locked[stock_id].reserved = on_hand, reserved
    return StockMovement.objects.bulk_create(movements)


def short_line(variant: Variant, *, requested: int, available: int) -> dict:
    """One line of ``InsufficientStock``'s details."""
    return {
        "variant_id": variant.pk,
        "product_id": variant.product_id,
        "sku": variant.sku,
        "requested": requested,
        "available": available,
    }


def stock_rows_ensure(*, pairs: Iterable[tuple[int, int]]) -> Q:
    """Make sure a stock row exists for every (variant_id, location_id); return the condition that finds them.

    One ``INSERT ... ON CONFLICT DO NOTHING``: a row a concurrent request creates first is simply reused.
    """
    pairs = sorted(set(pairs))
    lock_timeout_set()  # the insert waits on a concurrent insert of the same pair: not for ever
    Stock.objects.bulk_create(
        [Stock(variant_id=variant_id, location_id=location_id) for variant_id, location_id in pairs],
        ignore_conflicts=True,
    )
    condition = Q(pk__in=[])
    for variant_id, location_id in pairs:
        condition |= Q(variant_id=variant_id, location_id=location_id)
    return condition


def variants_by_sku(skus: Iterable[str]) -> dict[str, Variant]:
    """The variants of ``skus`` (normalised to upper case), by SKU; ``UnknownSku`` lists every unknown one."""
    wanted = {sku_normalize(sku) for sku in skus}
    found = {variant.sku: variant for variant in Variant.objects.filter(sku__in=wanted)}
    unknown = sorted(wanted - set(found))
    if unknown:
        raise UnknownSku("Some SKUs do not exist.", skus=unknown)
    return found
