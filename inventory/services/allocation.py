"""Allocation: which stock rows hold a reservation's units, chosen by inventory.

Policy, for each line: the highest-priority (lowest number) active warehouse that can supply
the whole line; otherwise everything available from each warehouse in priority order until
the line is covered (equal priorities: by warehouse code). Within a warehouse, the locations
with the most available first (equal: by location code). A short line takes nothing: the
caller gets one ``InsufficientStock`` naming every short line, and nothing changes.

Expired holds never block a sale: before choosing, allocation expires the ALLOCATED holds
past their ``expires_at`` on the rows it is about to lock, so their units come back even if
no one runs ``release_expired_reservations``. It locks those holds before the stock rows (the
lock order everywhere: reservations, then stock) and waits for them, so a hold that someone
is releasing or expiring at that moment is seen settled, never skipped as still reserved.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from uuid import UUID

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from catalog.models import Variant
from config.db import lock_timeout_set_and_read
from inventory.exceptions import InsufficientStock
from inventory.locks import reservations_lock, stock_lock
from inventory.models import Allocation, MovementKind, Reservation, ReservationStatus, Stock
from inventory.services.settle import reservations_settle
from inventory.services.stock import StockChange, _stock_apply, short_line


@dataclass(frozen=True)
class HoldLine:
    variant: Variant
    quantity: int


@dataclass(frozen=True)
class HoldRequest:
    """One reservation to make: its lines, what it is for, and optionally where and until when."""

    reference: str
    lines: Sequence[HoldLine]
    order_id: UUID | None = None
    expires_at: datetime | None = None
    location_id: int | None = None  # hold at this location only (explicit holds)


def _rows_condition(requests: Sequence[HoldRequest], variant_ids: set[int], due: list[Reservation]) -> Q:
    """Every active row of the variants (empty ones too: a row that a concurrent transfer fills is then
    read after its update), the rows at explicitly named locations, and the rows the due holds hold."""
    condition = Q(variant_id__in=variant_ids, location__is_active=True, location__warehouse__is_active=True)
    explicit = {request.location_id for request in requests if request.location_id is not None}
    if explicit:
        condition |= Q(variant_id__in=variant_ids, location_id__in=explicit)
    if due:
        condition |= Q(pk__in=Allocation.objects.filter(reservation_id__in=[r.pk for r in due]).values("stock_id"))
    return condition


def _due_holds_lock(variant_ids: set[int], now: datetime) -> list[Reservation]:
    """Lock the ALLOCATED holds past their expiry that hold units of ``variant_ids``; those still due after the wait.

    The lookup shares its round trip with setting the lock timeout: without due holds it costs no query.
    """
    candidates = lock_timeout_set_and_read(
        Allocation.objects.filter(
            stock__variant_id__in=variant_ids,
            reservation__status=ReservationStatus.ALLOCATED,
            reservation__expires_at__lte=now,
        )
        .order_by()
        .values("reservation_id")
        .distinct()
    )
    if not candidates:
        return []
    held = reservations_lock(reservation_ids=candidates, lock_timeout_is_set=True)
    return [
        r
        for r in held.values()
        if r.status == ReservationStatus.ALLOCATED and r.expires_at is not None and r.expires_at <= now
    ]


def _candidates(rows: dict[int, Stock], line: HoldLine, location_id: int | None) -> list[Stock]:
    return [
        row
        for row in rows.values()
        if row.variant_id == line.variant.pk
        and row.location.is_active
        and row.location.warehouse.is_active
        and (location_id is None or row.location_id == location_id)
    ]


def _plan(quantity: int, rows: list[Stock], available: dict[int, int]) -> list[tuple[int, int]] | None:
    """(stock id, units) to take for one line, or None when the rows cannot cover it."""

    def warehouse_key(row: Stock) -> tuple:
        return (row.location.warehouse.priority, row.location.warehouse.code, row.location.warehouse_id)

    def take(from_rows: list[Stock], need: int) -> tuple[list[tuple[int, int]], int]:
        taken = []
        for row in sorted(from_rows, key=lambda r: (-available[r.pk], r.location.code)):
            units = min(available[row.pk], need)
            if units > 0:
                taken.append((row.pk, units))
                need -= units
        return taken, need

    warehouses = [list(group) for _, group in groupby(sorted(rows, key=warehouse_key), key=warehouse_key)]
    for warehouse_rows in warehouses:
        if sum(available[row.pk] for row in warehouse_rows) >= quantity:
            return take(warehouse_rows, quantity)[0]
    plan, need = [], quantity
    for warehouse_rows in warehouses:
        taken, need = take(warehouse_rows, need)
        plan.extend(taken)
        if need == 0:
            return plan
    return None


def _plans(requests: Sequence[HoldRequest], locked: dict[int, Stock]) -> tuple[list[list[tuple[int, int]]], list]:
    """Each line's plan, in order, and every short line (then the plans are not to be used)."""
    available = {row.pk: row.available for row in locked.values()}
    plans: list[list[tuple[int, int]]] = []
    short = []
    for request in requests:
        for line in request.lines:
            rows = _candidates(locked, line, request.location_id)
            plan = _plan(line.quantity, rows, available)
            if plan is None:
                total = sum(available[row.pk] for row in rows)
                short.append(short_line(line.variant, requested=line.quantity, available=total))
                continue
            for stock_id, units in plan:
                available[stock_id] -= units
            plans.append(plan)
    return plans, short


@transaction.atomic(savepoint=False)
def stock_allocate(*, requests: Sequence[HoldRequest], actor: User | None) -> list[Reservation]:
    """Make one ALLOCATED reservation per request, all or nothing; constant queries whatever the lines.

    Runs inside its caller's transaction (an order's, or an API entry point's).
    """
    now = timezone.now()
    variant_ids = {line.variant.pk for request in requests for line in request.lines}
    due = _due_holds_lock(variant_ids, now)
    condition = _rows_condition(requests, variant_ids, due)
    locked = stock_lock(condition=condition, lock_timeout_is_set=True)
    if due:
        reservations_settle(reservations=due, action="expire", actor=actor, locked=locked)
    plans, short = _plans(requests, locked)
    if short:
        # A transfer that committed while this statement waited for a row lock may have put units in a row
        # created after the statement began, which it cannot see. Look once more with a fresh snapshot: the
        # rows already held stay held; a new row with a lower id than one held breaks the ascending order,
        # so this second look may deadlock, which PostgreSQL detects and retry_on_conflict retries afresh.
        locked = stock_lock(condition=condition, lock_timeout_is_set=True)
        plans, short = _plans(requests, locked)
    if short:
        raise InsufficientStock("Not enough stock for some items.", lines=short)

    reservations = Reservation.objects.bulk_create(
        Reservation(reference=request.reference, order_id=request.order_id, expires_at=request.expires_at, actor=actor)
        for request in requests
    )
    line_plans = iter(plans)
    allocations, changes = [], []
    for request, reservation in zip(requests, reservations, strict=True):
        units_by_row: dict[int, int] = defaultdict(int)
        for _line in request.lines:
            for stock_id, units in next(line_plans):
                units_by_row[stock_id] += units
        for stock_id, units in sorted(units_by_row.items()):
            allocations.append(Allocation(reservation=reservation, stock_id=stock_id, quantity=units))
            changes.append(
                StockChange(
                    stock_id,
                    MovementKind.RESERVE,
                    reserved_delta=units,
                    reservation_id=reservation.pk,
                    reference=reservation.reference,
                )
            )
    Allocation.objects.bulk_create(allocations)
    order_ids = {request.order_id for request in requests}
    _stock_apply(changes=changes, locked=locked, actor=actor, order_id=order_ids.pop() if len(order_ids) == 1 else None)
    return reservations
