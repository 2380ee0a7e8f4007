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

SELLABLE_ROW = Q(location__is_active=True, location__warehouse__is_active=True)


def _stock_sum(expression, *, outer: str, **filters) -> Coalesce:
    """The sum of ``expression`` over the stock rows matching ``filters`` (OuterRef ``outer``), 0 if none."""
    rows = Stock.objects.filter(**filters).values(outer).annotate(total=Sum(expression)).values("total")
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def available_of_variant() -> Coalesce:
    """Units available in active locations of active warehouses, per variant (an annotation)."""
    return _stock_sum(
        F("on_hand") - F("reserved"), outer="variant_id", variant_id=OuterRef("pk"), **_sellable_filters()
    )


def _sellable_filters() -> dict:
    return {"location__is_active": True, "location__warehouse__is_active": True}


def product_list_with_stock(*, user: User) -> QuerySet[Product]:
    """The products the caller may see, each with the seed-001 stock totals and its visible variants.

    ``stock_quantity``: units available over every variant, warehouse and active location;
    ``reserved_quantity``: units held; ``variant_count`` and ``min_price`` over the visible variants.
    Every variant carries ``available``. Four queries for a page, whatever its size.
    """
    variants = variant_list(user=user).filter(product_id=OuterRef("pk"))
    return (
        product_list(user=user)
        .annotate(
            stock_quantity=_stock_sum(
                F("on_hand") - F("reserved"),
                outer="variant__product_id",
                variant__product_id=OuterRef("pk"),
                **_sellable_filters(),
            ),
            reserved_quantity=_stock_sum(
                F("reserved"), outer="variant__product_id", variant__product_id=OuterRef("pk")
            ),
            min_price=Subquery(variants.order_by("price").values("price")[:1]),
        )
        .prefetch_related(
            Prefetch("variants", queryset=variant_list(user=user).annotate(available=available_of_variant())),
            "images",
        )
    )


def product_with_stock(*, user: User, product_id: int) -> Product | None:
    return product_list_with_stock(user=user).filter(pk=product_id).first()


def variant_with_stock(*, variant_id: int) -> Variant:
    return Variant.objects.annotate(available=available_of_variant()).get(pk=variant_id)


def stock_by_sku(*, variant: Variant) -> list[Stock]:
    """Every stock row of a variant with its location and warehouse, by warehouse code then location code."""
    return list(
        Stock.objects.filter(variant=variant)
        .select_related("location__warehouse")
        .order_by("location__warehouse__code", "location__code")
    )


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
