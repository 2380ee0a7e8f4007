"""Database helpers shared by the apps' services."""

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import psycopg
import structlog
from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import IntegrityError, OperationalError, connection, transaction
from django.db.models import QuerySet

from config.exceptions import DomainError

logger = structlog.get_logger(__name__)
P = ParamSpec("P")
R = TypeVar("R")

RETRYABLE = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure)


class DatabaseBusy(DomainError):
    """A lock could not be had in time, or a deadlock kept recurring: the client may retry."""

    code = "database_busy"
    status = 503


def lock_timeout_set() -> None:
    """Make this transaction's row-lock waits give up after ``STOCK_LOCK_TIMEOUT_MS`` (then 503, not a hang).

    Every helper that takes row locks calls it first; it lasts until the transaction ends.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{settings.STOCK_LOCK_TIMEOUT_MS}ms"])


def lock_timeout_set_and_read(values: QuerySet) -> list:
    """Set this transaction's ``lock_timeout`` (as ``lock_timeout_set`` does) and evaluate the one-column
    ``values`` queryset, in one round trip: what a caller reads before taking its first lock."""
    try:
        sql, params = values.query.sql_with_params()
    except EmptyResultSet:  # e.g. ``__in=[]``: nothing to read, the timeout still to set
        lock_timeout_set()
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT set_config('lock_timeout', %s, true), ARRAY({sql})",  # ``sql`` is Django's, with placeholders
            [f"{settings.STOCK_LOCK_TIMEOUT_MS}ms", *params],
        )
        return list(cursor.fetchone()[1])


def unique_violation(exc: IntegrityError) -> str | None:
    """The name of the unique constraint ``exc`` violated, or None if it is another integrity error."""
    cause = exc.__cause__
    if isinstance(cause, psycopg.errors.UniqueViolation):
        return cause.diag.constraint_name or ""
    return None


def retry_on_conflict(function: Callable[P, R]) -> Callable[P, R]:
    """Run a transactional service again after a deadlock or serialization failure.

    Ordered locking should make both impossible; this is the safety net. After
    ``DB_RETRY_ATTEMPTS`` tries, or at once on a ``lock_timeout``, the caller gets ``DatabaseBusy``.
    Wrap the function that owns the (durable) transaction, so each try starts afresh.
    """

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        attempts = settings.DB_RETRY_ATTEMPTS
        for attempt in range(1, attempts + 1):
            try:
                return function(*args, **kwargs)
            except OperationalError as exc:
                cause = exc.__cause__
                if isinstance(cause, psycopg.errors.LockNotAvailable):
                    raise DatabaseBusy("The data is busy; retry shortly.", reason="lock_timeout") from exc
                if not isinstance(cause, RETRYABLE):
                    raise
                error = type(cause).__name__
                logger.warning("transaction_retry", function=function.__name__, attempt=attempt, error=error)
                if attempt == attempts:
                    raise DatabaseBusy("The data is busy; retry shortly.", reason=error) from exc
        raise AssertionError("unreachable")

    return wrapper


@retry_on_conflict
@transaction.atomic(durable=True)
def entry_point(service: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """Run an inner service (``brand_create``, ``warehouse_update``, ...) as the entry point of a request.

    Inner services run inside their callers' transactions (other services, the admin, imports);
    a view that calls one directly runs it here, in a durable transaction of its own with the
    lock timeout set, so a deadlock is retried and a lock held past the lock timeout answers 503
    ``database_busy``.
    """
    lock_timeout_set()
    return service(*args, **kwargs)
