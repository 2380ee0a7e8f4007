"""A row lock held by another transaction, and how a caller that needs it must answer."""

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.db import connection, transaction

from tests.assertions import error_of

# What the admin shows when a lock wait runs out (``STOCK_LOCK_TIMEOUT_MS``).
BUSY = "The data is busy; retry shortly. (reason: lock_timeout)"


@contextmanager
def held_in_another_transaction(take_lock: Callable[[], object]) -> Iterator[None]:
    """Run ``take_lock()`` in a transaction of another thread and keep it open until the block ends."""
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                take_lock()
                locked.set()
                release.wait(timeout=60)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(timeout=60)
        yield
    finally:
        release.set()
        holder.join()


def assert_database_busy(response) -> None:
    """A lock wait that ran out is a 503 ``database_busy`` in the one error shape, never a 500."""
    assert response.status_code == 503, response.content
    error = error_of(response)
    assert (error["code"], error["details"]) == ("database_busy", {"reason": "lock_timeout"})
