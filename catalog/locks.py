"""Row locks of the catalog: a product row stands for the product and its variants."""

from django.db import connection, models
from django.db.models import F
from django.db.models.functions import Now

from catalog.exceptions import ProductNotFound
from catalog.models import Product
from config.db import lock_timeout_set


def product_lock(*, product_id: int) -> Product:
    """Lock one product row ``FOR UPDATE`` (with the lock timeout); 404 if it does not exist."""
    lock_timeout_set()
    product = Product.objects.select_for_update(of=("self",)).filter(pk=product_id).first()
    if product is None:
        raise ProductNotFound("Product not found.", product_id=product_id)
    return product


def product_touch(*, product: Product) -> None:
    """Bump the version of a locked product after a change to it or to its variants."""
    Product.objects.filter(pk=product.pk).update(version=F("version") + 1, updated_at=Now())


def slug_lock(*, model: type[models.Model], base: str) -> None:
    """Serialize, until commit, the transactions that generate a slug from the same ``base`` for ``model``.

    A transaction-level advisory lock: two creates named alike queue here, and the second one
    sees the first one's slug once it has committed, so it picks the next suffix at once.
    """
    lock_timeout_set()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"{model._meta.db_table}:slug:{base}"])
