"""The one row-lock helper for stock, and the locks of reservations that precede it.

Lock order, everywhere: an order row (in ``orders``), then reservation rows, then stock rows,
each set in ascending id order. Two transactions that need the same rows then queue instead
of deadlocking. Every helper sets the ``lock_timeout`` first (unless the caller says it already
did in this transaction), so a stuck lock is an error (503), not a hang. Each must run inside a
transaction; evaluating the queryset takes the locks.
"""

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Q

from config.db import lock_timeout_set
from inventory.models import Reservation, ReservationStatus, Stock


def stock_lock(*, condition: Q, lock_timeout_is_set: bool = False) -> dict[int, Stock]:
    """Lock the stock rows matching ``condition`` ``FOR UPDATE`` in ascending id order; return them by id.

    Each row comes with its location, warehouse and variant (read, not locked).
    """
    if not lock_timeout_is_set:
        lock_timeout_set()
    rows = (
        Stock.objects.filter(condition)
        .select_related("location__warehouse", "variant")
        .order_by("pk")
        .select_for_update(of=("self",))
    )
    return {row.pk: row for row in rows}


def reservations_lock(*, reservation_ids: Iterable[int], lock_timeout_is_set: bool = False) -> dict[int, Reservation]:
    """Lock reservations in ascending id order, waiting for those someone else holds."""
    if not lock_timeout_is_set:
        lock_timeout_set()
    rows = Reservation.objects.filter(pk__in=set(reservation_ids)).order_by("pk").select_for_update(of=("self",))
    return {row.pk: row for row in rows}


def reservations_due_lock(*, now: datetime, limit: int) -> list[Reservation]:
    """Up to ``limit`` ALLOCATED holds past their expiry that nobody else holds, locked in id order.

    ``SKIP LOCKED`` never waits: a hold someone is releasing, committing or expiring is left to them,
    and concurrent callers share the work instead of queueing for it.
    """
    return list(
        Reservation.objects.filter(status=ReservationStatus.ALLOCATED, expires_at__lte=now)
        .order_by("pk")
        .select_for_update(of=("self",), skip_locked=True)[:limit]
    )
