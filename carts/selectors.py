"""Reads of carts: the caller's own, with every line's current name, price and availability read live.

A cart stores variant ids and quantities only; ``cart_view`` joins them with the catalog
(names, SKU, price, whether it is sellable) and inventory (units available) as they are now.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import Prefetch, QuerySet

from accounts.models import User
from carts.exceptions import CartNotFound
from carts.models import Cart, CartItem
from catalog.models import Variant
from catalog.selectors import variant_is_sellable
from inventory.selectors import available_of_variant

CENTS = Decimal("0.01")


@dataclass(frozen=True)
class CartLine:
    variant_id: int
    quantity: int
    sku: str
    product_name: str
    variant_name: str
    unit_price: Decimal
    line_total: Decimal
    available: int  # units available now in active locations of active warehouses (may be below quantity)
    sellable: bool  # the product is PUBLISHED and the variant active


@dataclass(frozen=True)
class CartView:
    id: uuid.UUID
    status: str
    currency: str
    total: Decimal  # the sellable lines only
    items: list[CartLine]
    order_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
    checked_out_at: datetime | None


def cart_lines_prefetch() -> Prefetch:
    """Prefetch a cart queryset's lines with their variants, products and live availability (two queries),
    as ``cart_view`` needs them (the admin uses it too)."""
    variants = Variant.objects.select_related("product").annotate(available=available_of_variant())
    return Prefetch("items", queryset=CartItem.objects.prefetch_related(Prefetch("variant", queryset=variants)))


def cart_list(*, owner: User) -> QuerySet[Cart]:
    """``owner``'s carts, newest first, each with its lines and their variants (three queries whatever the size)."""
    return Cart.objects.filter(owner=owner).prefetch_related(cart_lines_prefetch()).order_by("-created_at", "-pk")


def cart_get(*, owner: User, cart_id: uuid.UUID) -> Cart:
    """``owner``'s cart ``cart_id`` with its lines; ``CartNotFound`` for any other (another customer's too)."""
    cart = cart_list(owner=owner).filter(pk=cart_id).first()
    if cart is None:
        raise CartNotFound("Cart not found.", cart_id=str(cart_id))
    return cart


def _line(item: CartItem) -> CartLine:
    variant = item.variant
    return CartLine(
        variant_id=variant.pk,
        quantity=item.quantity,
        sku=variant.sku,
        product_name=variant.product.name,
        variant_name=variant.name,
        unit_price=variant.price,
        line_total=variant.price * item.quantity,
        available=variant.available,
        sellable=variant_is_sellable(variant),
    )


def cart_view(cart: Cart) -> CartView:
    """What ``GET /carts/{id}`` shows of a cart fetched with ``cart_lines_prefetch`` (no query of its own).

    A line that is no longer sellable is shown with ``sellable`` false and left out of ``total``.
    """
    lines = [_line(item) for item in cart.items.all()]
    total = sum((line.line_total for line in lines if line.sellable), Decimal("0")).quantize(CENTS)
    return CartView(
        id=cart.pk,
        status=cart.status,
        currency=settings.CURRENCY,
        total=total,
        items=lines,
        order_id=cart.order_id,
        created_at=cart.created_at,
        updated_at=cart.updated_at,
        checked_out_at=cart.checked_out_at,
    )
