"""The one row-lock helper for stock, and the lock of reservations that precedes it.

Lock order, everywhere: an order row (in ``orders``), then reservation rows, then stock rows,
each set in ascending id order. Two transactions that need the same rows then queue instead
of deadlocking. Every helper sets the ``lock_timeout`` first, so a stuck lock is an error
(503), not a hang. Each must run inside a transaction; evaluating the queryset takes the locks.
"""

from collections.abc import Iterable

from django.db.models import Q

from config.db import lock_timeout_set
from inventory.models import Reservation, Stock


def stock_lock(*, condition: Q) -> dict[int, Stock]:
    """Lock the stock rows matching ``condition`` ``FOR UPDATE`` in ascending id order; return them by id.

    Each row comes with its location, warehouse and variant (read, not locked).
    """
    lock_timeout_set()
    rows = (
        Stock.objects.filter(condition)
        .select_related("location__warehouse", "variant")
        .order_by("pk")
        .select_for_update(of=("self",))
    )
    return {row.pk: row for row in rows}


def reservations_lock(*, reservation_ids: Iterable[int], skip_locked: bool = False) -> dict[int, Reservation]:
    """Lock reservations in ascending id order; with ``skip_locked``, leave out those someone else holds."""
    lock_timeout_set()
    rows = (
        Reservation.objects.filter(pk__in=set(reservation_ids))
        .order_by("pk")
        .select_for_update(of=("self",), skip_locked=skip_locked)
    )
    return {row.pk: row for row in rows}
