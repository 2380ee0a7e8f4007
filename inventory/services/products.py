"""The seed-001 product shape on top of catalog and stock: a product with one variant and its stock.

``POST /products {name, sku, price, stock_quantity}`` creates a PUBLISHED product with one
variant and receives the stock into ``MAIN/DEFAULT``; ``DELETE /products/{id}`` deletes a
product nothing has used, and archives one that stock reservations or orders refer to.
"""

from decimal import Decimal

from django.db import transaction
from django.db.models import ProtectedError, Q

from accounts.models import User
from catalog.locks import product_lock
from catalog.models import Product, ProductStatus
from catalog.selectors import product_only_variant
from catalog.services.products import product_archive, product_create, product_delete
from catalog.services.variants import VariantIn
from config.db import retry_on_conflict
from inventory.locks import stock_lock
from inventory.models import Allocation, Stock, StockMovement
from inventory.services.adjustments import variant_stock_adjust
from inventory.services.locations import default_location
from inventory.services.receipts import ReceiptLine, stock_receive

INITIAL_STOCK_REASON = "initial stock"


@retry_on_conflict
@transaction.atomic(durable=True)
def product_create_with_stock(
    *,
    actor: User | None,
    name: str,
    sku: str,
    price: Decimal,
    stock_quantity: int = 0,
    description: str = "",
    is_active: bool = True,
    publish: bool = True,
    slug: str | None = None,
    brand_id: int | None = None,
    category_id: int | None = None,
) -> Product:
    """One product, one variant (``sku`` at ``price``), and its initial stock booked as a RECEIPT."""
    product = product_create(
        name=name,
        description=description,
        slug=slug,
        brand_id=brand_id,
        category_id=category_id,
        variants=[VariantIn(sku=sku, price=price, is_active=is_active)],
        publish=publish,
        actor=actor,
    )
    if stock_quantity:
        location = default_location()
        stock_receive(
            warehouse_id=location.warehouse_id,
            lines=[ReceiptLine(sku=sku, quantity=stock_quantity, location_id=location.pk)],
            actor=actor,
            reason=INITIAL_STOCK_REASON,
        )
    return product


def _used(product: Product) -> bool:
    stock = Stock.objects.filter(variant__product_id=product.pk)
    history = Q(order_id__isnull=False) | Q(reservation__isnull=False)
    return (
        Allocation.objects.filter(stock__in=stock).exists()
        or StockMovement.objects.filter(history, stock__in=stock).exists()
    )


@retry_on_conflict
@transaction.atomic(durable=True)
def product_remove(*, product_id: int, actor: User) -> Product | None:
    """Delete a product no reservation or order ever touched (with its stock rows and ledger); archive any other.

    Returns the archived product, or None when it was deleted.
    """
    product = product_lock(product_id=product_id)
    stock_lock(condition=Q(variant__product_id=product.pk))  # waits for stock work in flight on its variants
    if not _used(product):
        try:
            with transaction.atomic():
                stock = Stock.objects.filter(variant__product_id=product.pk)
                StockMovement.objects.filter(stock__in=stock).delete()
                stock.delete()
                product_delete(product_id=product.pk, actor=actor)
            return None
        except ProtectedError:
            pass  # an order line names one of its variants: archive it instead
    if product.status != ProductStatus.ARCHIVED:
        return product_archive(product_id=product.pk, actor=actor)
    return product


@retry_on_conflict
@transaction.atomic(durable=True)
def product_stock_adjust(*, product_id: int, delta: int, reason: str, actor: User) -> StockMovement:
    """Seed 001's stock adjustment of a one-variant product at ``MAIN/DEFAULT`` (``VariantRequired`` otherwise)."""
    variant = product_only_variant(product_id=product_id)
    location = default_location()
    return variant_stock_adjust(variant=variant, location_id=location.pk, delta=delta, reason=reason, actor=actor)
