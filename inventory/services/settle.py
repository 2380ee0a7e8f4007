"""Ending reservations: release (units back to available), commit (units leave) or expire."""

from collections.abc import Sequence
from uuid import UUID

from django.db.models import Q
from django.db.models.functions import Now

from accounts.models import User
from inventory.locks import stock_lock
from inventory.models import Allocation, MovementKind, Reservation, ReservationStatus, Stock, StockMovement
from inventory.services.stock import StockChange, _stock_apply

# action -> (status it leads to, ledger kind, timestamp it sets, whether the units leave on-hand)
SETTLEMENTS: dict[str, tuple[str, str, str, bool]] = {
    "release": (ReservationStatus.RELEASED, MovementKind.RELEASE, "released_at", False),
    "commit": (ReservationStatus.COMMITTED, MovementKind.COMMIT, "committed_at", True),
    "expire": (ReservationStatus.EXPIRED, MovementKind.EXPIRE, "expired_at", False),
}


def reservations_settle(
    *,
    reservations: Sequence[Reservation],
    action: str,
    actor: User | None,
    order_id: UUID | None = None,
    locked: dict[int, Stock] | None = None,
) -> list[StockMovement]:
    """End ALLOCATED ``reservations`` (already locked and checked by the caller) with ``action``.

    Locks their stock rows unless the caller already holds them (``locked``); constant queries.
    """
    status, kind, stamp, leaves = SETTLEMENTS[action]
    ids = [reservation.pk for reservation in reservations]
    references = {reservation.pk: reservation.reference for reservation in reservations}
    allocations = list(Allocation.objects.filter(reservation_id__in=ids).order_by("reservation_id", "stock_id"))
    if locked is None:
        locked = stock_lock(condition=Q(pk__in={allocation.stock_id for allocation in allocations}))
    changes = [
        StockChange(
            allocation.stock_id,
            kind,
            on_hand_delta=-allocation.quantity if leaves else 0,
            reserved_delta=-allocation.quantity,
            reservation_id=allocation.reservation_id,
            reference=references[allocation.reservation_id],
        )
        for allocation in allocations
    ]
    movements = _stock_apply(changes=changes, locked=locked, actor=actor, order_id=order_id) if changes else []
    Reservation.objects.filter(pk__in=ids).update(status=status, **{stamp: Now()})
    for reservation in reservations:
        reservation.status = status
    return movements
