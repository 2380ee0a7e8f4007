"""Running a catalog service as the entry point of a request."""

from collections.abc import Callable
from typing import ParamSpec, TypeVar

from django.db import transaction

from config.db import retry_on_conflict

P = ParamSpec("P")
R = TypeVar("R")


@retry_on_conflict
@transaction.atomic(durable=True)
def catalog_change(service: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """Run a catalog service (``brand_create``, ``category_update``, ...) in a transaction of its own.

    The catalog services are inner services (the admin, the imports and the inventory services
    run them inside their own transactions); a request owns the transaction here, so a deadlock
    is retried and a lock held past the lock timeout answers 503 ``database_busy``, not a 500.
    """
    return service(*args, **kwargs)
