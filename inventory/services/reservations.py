"""Reservations: explicit holds and allocations by staff, their release and commit, their expiry.

Orders reserve through ``stock_allocate`` and end their reservations with
``reservations_release`` / ``reservations_commit`` (or, for a batch of orders,
``reservations_release_for_orders``) inside the order's transaction; the ``reservation_*``
functions here are entry points that own a durable transaction.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from catalog.validators import sku_normalize
from config.db import retry_on_conflict
from inventory.exceptions import (
    LocationInactive,
    ReservationHeldByOrder,
    ReservationInvalidTransition,
    ReservationNotFound,
    UnknownLocation,
)
from inventory.locks import reservations_due_lock, reservations_lock, stock_lock
from inventory.models import Allocation, Location, Reservation, ReservationStatus, StockMovement
from inventory.services.allocation import HoldLine, HoldRequest, stock_allocate
from inventory.services.settle import reservations_settle
from inventory.services.stock import variants_by_sku


@dataclass(frozen=True)
class SkuLine:
    sku: str
    quantity: int


def _expires_at(ttl_seconds: int | None) -> datetime | None:
    return timezone.now() + timedelta(seconds=ttl_seconds) if ttl_seconds else None


def _merged(lines: Iterable[SkuLine]) -> list[HoldLine]:
    lines = list(lines)
    variants = variants_by_sku(line.sku for line in lines)
    units: dict[str, int] = {}
    for line in lines:
        sku = sku_normalize(line.sku)
        units[sku] = units.get(sku, 0) + line.quantity
    return [HoldLine(variants[sku], quantity) for sku, quantity in sorted(units.items())]


@retry_on_conflict
@transaction.atomic(durable=True)
def reservation_hold(
    *, sku: str, quantity: int, location_id: int, reference: str, actor: User, ttl_seconds: int | None = None
) -> Reservation:
    """Hold ``quantity`` units of ``sku`` at one named, active location."""
    location = Location.objects.select_related("warehouse").filter(pk=location_id).first()
    if location is None:
        raise UnknownLocation("The location does not exist.", location_ids=[location_id])
    if not (location.is_active and location.warehouse.is_active):
        raise LocationInactive("The location or its warehouse is inactive.", location_ids=[location_id])
    request = HoldRequest(
        reference=reference,
        lines=_merged([SkuLine(sku, quantity)]),
        expires_at=_expires_at(ttl_seconds),
        location_id=location_id,
    )
    (reservation,) = stock_allocate(requests=[request], actor=actor)
    return reservation


@retry_on_conflict
@transaction.atomic(durable=True)
def reservation_allocate(
    *, lines: Sequence[SkuLine], reference: str, actor: User, ttl_seconds: int | None = None
) -> Reservation:
    """Hold every line where inventory's allocation policy chooses, all or nothing."""
    request = HoldRequest(reference=reference, lines=_merged(lines), expires_at=_expires_at(ttl_seconds))
    (reservation,) = stock_allocate(requests=[request], actor=actor)
    return reservation


def _lock_allocated(reservation_ids: Sequence[int], action: str, *, for_order: UUID | None = None) -> list[Reservation]:
    locked = reservations_lock(reservation_ids=reservation_ids)
    missing = sorted(set(reservation_ids) - set(locked))
    if missing:
        raise ReservationNotFound("Reservation not found.", reservation_ids=missing)
    now = timezone.now()
    for reservation in locked.values():
        if reservation.order_id != for_order and reservation.order_id is not None:
            raise ReservationHeldByOrder(
                "This reservation belongs to an order: cancel or ship the order instead.",
                reservation_id=reservation.pk,
                order_id=str(reservation.order_id),
            )
        allocated = reservation.status == ReservationStatus.ALLOCATED
        expired = allocated and reservation.expires_at is not None and reservation.expires_at <= now
        if not allocated or (action == "commit" and expired):
            raise ReservationInvalidTransition(
                f"Cannot {action} a reservation that is {'past its expiry' if expired else reservation.status}.",
                reservation_id=reservation.pk,
                status=reservation.status,
                action=action,
            )
    return list(locked.values())


@retry_on_conflict
@transaction.atomic(durable=True)
def reservation_release(*, reservation_id: int, actor: User) -> Reservation:
    """ALLOCATED -> RELEASED: the units are available again."""
    (reservation,) = _lock_allocated([reservation_id], "release")
    reservations_settle(reservations=[reservation], action="release", actor=actor)
    return reservation


@retry_on_conflict
@transaction.atomic(durable=True)
def reservation_commit(*, reservation_id: int, actor: User) -> Reservation:
    """ALLOCATED -> COMMITTED: the units leave on-hand (an expired hold cannot be committed)."""
    (reservation,) = _lock_allocated([reservation_id], "commit")
    reservations_settle(reservations=[reservation], action="commit", actor=actor)
    return reservation


@transaction.atomic(savepoint=False)
def reservations_release(*, reservation_ids: Sequence[int], actor: User | None, order_id: UUID) -> list[StockMovement]:
    """Release an order's reservations (it was cancelled or expired), inside the order's transaction."""
    reservations = _lock_allocated(reservation_ids, "release", for_order=order_id)
    return reservations_settle(reservations=reservations, action="release", actor=actor, order_id=order_id)


@transaction.atomic(savepoint=False)
def reservations_commit(*, reservation_ids: Sequence[int], actor: User | None, order_id: UUID) -> list[StockMovement]:
    """Commit an order's reservations (it was shipped), inside the order's transaction."""
    reservations = _lock_allocated(reservation_ids, "commit", for_order=order_id)
    return reservations_settle(reservations=reservations, action="commit", actor=actor, order_id=order_id)


@transaction.atomic(savepoint=False)
def reservations_release_for_orders(
    *, reservations_by_order: Mapping[UUID, Sequence[int]], actor: User | None, lock_timeout_is_set: bool = False
) -> list[StockMovement]:
    """Release the reservations of several ending orders at once (a batch of expiring orders), in the caller's
    transaction, which holds the orders' rows.

    Every reservation of the batch is locked in one ascending id order, then every stock row they
    hold in one ascending id order, so a batch never deadlocks with a sale; the ledger rows
    (``RELEASE``) reference each reservation's order. Reservations that ended already are left as
    they are.
    """
    ids = [reservation_id for reservation_ids in reservations_by_order.values() for reservation_id in reservation_ids]
    locked = reservations_lock(reservation_ids=ids, lock_timeout_is_set=lock_timeout_is_set)
    allocated = {pk: row for pk, row in locked.items() if row.status == ReservationStatus.ALLOCATED}
    if not allocated:
        return []
    stock = stock_lock(
        condition=Q(pk__in=Allocation.objects.filter(reservation_id__in=list(allocated)).values("stock_id")),
        lock_timeout_is_set=True,
    )
    movements: list[StockMovement] = []
    for order_id, reservation_ids in reservations_by_order.items():
        held = [allocated[pk] for pk in reservation_ids if pk in allocated]
        if held:
            movements += reservations_settle(
                reservations=held, action="release", actor=actor, order_id=order_id, locked=stock
            )
    return movements


@retry_on_conflict
@transaction.atomic(durable=True)
def _expire_batch(*, now: datetime, batch_size: int) -> int:
    due = reservations_due_lock(now=now, limit=batch_size)
    if due:
        reservations_settle(reservations=due, action="expire", actor=None)
    return len(due)


def reservations_expire_due(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """ALLOCATED -> EXPIRED for every hold past its ``expires_at``, in batches of one transaction each.

    Safe to run concurrently with itself and with allocation: a hold someone else has locked is
    skipped (that one is ending anyway). Returns how many holds this run expired.
    """
    now = now or timezone.now()
    expired = 0
    while True:
        done = _expire_batch(now=now, batch_size=batch_size)
        expired += done
        if done == 0:
            return expired
