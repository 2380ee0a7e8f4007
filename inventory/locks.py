"""The one row-lock helper: every stock path locks products through it."""

from collections.abc import Iterable

from django.conf import settings
from django.db import connection

from inventory.models import Product


def products_lock(*, product_ids: Iterable[int]) -> dict[int, Product]:
    """Lock the products ``FOR UPDATE`` in ascending id order and return them by id.

    Ascending order makes two transactions that need {A, B} and {B, A} queue instead of
    deadlocking. A ``lock_timeout`` turns a stuck lock into an error instead of a hang.
    Must run inside a transaction; ids that do not exist are simply absent from the result.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{settings.STOCK_LOCK_TIMEOUT_MS}ms"])
    queryset = Product.objects.filter(pk__in=set(product_ids)).order_by("pk").select_for_update(of=("self",))
    return {product.pk: product for product in queryset}  # evaluating the queryset takes the locks
