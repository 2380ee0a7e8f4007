"""Reads of products and the ledger, already scoped to the caller."""

from django.db.models import F, QuerySet, Sum
from django.db.models.functions import Coalesce

from accounts.models import User
from inventory.models import Product, StockMovement


def product_list(*, user: User) -> QuerySet[Product]:
    """Staff see every product; customers only those for sale."""
    products = Product.objects.all()
    return products if user.is_staff else products.filter(is_active=True)


def stock_movement_list(*, product_id: int) -> QuerySet[StockMovement]:
    return StockMovement.objects.filter(product_id=product_id).select_related("actor").order_by("-id")


def ledger_mismatches() -> QuerySet[Product]:
    """Products whose quantities differ from the sums of their ledger deltas (there should be none)."""
    return (
        Product.objects.annotate(
            ledger_available=Coalesce(Sum("movements__available_delta"), 0),
            ledger_reserved=Coalesce(Sum("movements__reserved_delta"), 0),
        )
        .exclude(stock_quantity=F("ledger_available"), reserved_quantity=F("ledger_reserved"))
        .order_by("pk")
    )
