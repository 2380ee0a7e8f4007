"""Reads of stock, the ledger and reservations, and the product listing with its stock."""

from django.db.models import (
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce

from accounts.models import User
from catalog.models import Product, Variant
from catalog.selectors import product_list, variant_list
from inventory.models import Allocation, Reservation, ReservationStatus, Stock, StockMovement

SELLABLE_ROWS = {"location__is_active": True, "location__warehouse__is_active": True}


def _stock_sum(expression, *, outer: str, condition: Q) -> Coalesce:
    """The sum of ``expression`` over the stock rows matching ``condition``, grouped by ``outer``; 0 if none."""
    rows = Stock.objects.filter(condition).values(outer).annotate(total=Sum(expression)).values("total")
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def available_of_variant() -> Coalesce:
    """Units available in active locations of active warehouses, per variant (an annotation)."""
    return _stock_sum(
        F("on_hand") - F("reserved"), outer="variant_id", condition=Q(variant_id=OuterRef("pk"), **SELLABLE_ROWS)
    )


def product_list_with_stock(*, user: User) -> QuerySet[Product]:
    """The products the caller may see, each with seed 001's stock totals over the variants the caller may see.

    ``stock_quantity``: units available in active locations of active warehouses;
    ``reserved_quantity``: units held; ``min_price``: the cheapest visible variant. Every
    prefetched variant carries ``available``. Four queries for a page, whatever its size.
    """
    visible = variant_list(user=user)
    rows = Q(variant__product_id=OuterRef("pk"), variant__in=visible.values("pk"))
    return (
        product_list(user=user)
        .annotate(
            stock_quantity=_stock_sum(
                F("on_hand") - F("reserved"), outer="variant__product_id", condition=rows & Q(**SELLABLE_ROWS)
            ),
            reserved_quantity=_stock_sum(F("reserved"), outer="variant__product_id", condition=rows),
            min_price=Subquery(visible.filter(product_id=OuterRef("pk")).order_by("price").values("price")[:1]),
        )
        .prefetch_related(
            Prefetch("variants", queryset=visible.annotate(available=available_of_variant())),
            "images",
        )
    )


def product_with_stock(*, user: User, product_id: int) -> Product | None:
    return product_list_with_stock(user=user).filter(pk=product_id).first()


def variant_with_stock(*, variant_id: int) -> Variant:
    return Variant.objects.annotate(available=available_of_variant()).get(pk=variant_id)


def stock_of_variant(*, variant: Variant) -> dict:
    """A variant's stock in every warehouse and location, with totals (``GET /stock/{sku}``).

    ``available`` counts only active locations of active warehouses (0 elsewhere), as everywhere.
    """
    rows = (
        Stock.objects.filter(variant=variant)
        .select_related("location__warehouse")
        .order_by("location__warehouse__code", "location__code")
    )
    locations = [
        {
            "warehouse_id": row.location.warehouse_id,
            "warehouse_code": row.location.warehouse.code,
            "location_id": row.location_id,
            "location_code": row.location.code,
            "on_hand": row.on_hand,
            "reserved": row.reserved,
            "available": row.available if row.location.is_active and row.location.warehouse.is_active else 0,
        }
        for row in rows
    ]
    return {
        "sku": variant.sku,
        "variant_id": variant.pk,
        "on_hand": sum(row["on_hand"] for row in locations),
        "reserved": sum(row["reserved"] for row in locations),
        "available": sum(row["available"] for row in locations),
        "locations": locations,
    }


def stock_movement_list(*, filters: dict | None = None) -> QuerySet[StockMovement]:
    """The ledger, newest first, with what renders it (sku, location, warehouse, actor)."""
    return (
        StockMovement.objects.filter(**(filters or {}))
        .select_related("stock__variant", "stock__location", "actor")
        .order_by("-id")
    )


def reservation_list() -> QuerySet[Reservation]:
    return Reservation.objects.prefetch_related(
        Prefetch(
            "allocations",
            queryset=Allocation.objects.select_related("stock__variant", "stock__location").order_by("id"),
        )
    ).order_by("-id")


def ledger_mismatches() -> QuerySet[Stock]:
    """Stock rows whose quantities differ from the sums of their ledger deltas (there should be none)."""
    return (
        Stock.objects.annotate(
            ledger_on_hand=Coalesce(Sum("movements__on_hand_delta"), 0),
            ledger_reserved=Coalesce(Sum("movements__reserved_delta"), 0),
        )
        .exclude(on_hand=F("ledger_on_hand"), reserved=F("ledger_reserved"))
        .select_related("variant", "location__warehouse")
        .order_by("pk")
    )


def reservation_mismatches() -> QuerySet[Stock]:
    """Stock rows whose ``reserved`` differs from the units their ALLOCATED reservations hold."""
    held = (
        Allocation.objects.filter(stock=OuterRef("pk"), reservation__status=ReservationStatus.ALLOCATED)
        .values("stock")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    return (
        Stock.objects.annotate(held=Coalesce(Subquery(held, output_field=IntegerField()), 0))
        .exclude(reserved=F("held"))
        .select_related("variant", "location__warehouse")
        .order_by("pk")
    )
