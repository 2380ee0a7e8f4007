"""Every write to products and stock. The only code that changes a stock quantity.

Each stock change locks the products (``inventory.locks.products_lock``, ascending id order),
checks every line, raises one error naming every line that fails, then moves stock with a single
guarded ``UPDATE`` of ``F()`` expressions and writes one ledger row per product with
``bulk_create``, all in one transaction. The number of queries does not depend on the number of
products.

``stock_reserve``, ``stock_release`` and ``stock_commit`` run inside their caller's transaction
(an order's) without a savepoint: if they raise, the whole transaction is rolled back.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

import psycopg
from django.db import IntegrityError, transaction
from django.db.models import Case, F, IntegerField, Value, When
from django.db.models.functions import Now

from accounts.models import User
from config.db import retry_on_conflict
from inventory.exceptions import (
    InsufficientReservedStock,
    InsufficientStock,
    ProductNotFound,
    ProductsUnavailable,
    SkuAlreadyExists,
    StockWouldGoNegative,
    VersionConflict,
)
from inventory.locks import products_lock
from inventory.models import MovementKind, Product, StockMovement

EDITABLE_FIELDS = frozenset({"name", "description", "price", "is_active"})


@dataclass(frozen=True)
class StockLine:
    """``quantity`` units of one product (always positive)."""

    product_id: int
    quantity: int


@dataclass(frozen=True)
class _Change:
    product_id: int
    available_delta: int
    reserved_delta: int


def _merge(lines: Sequence[StockLine]) -> dict[int, int]:
    merged: dict[int, int] = {}
    for line in lines:
        if line.quantity < 1:
            raise ValueError(f"stock line quantities must be positive, got {line.quantity}")
        merged[line.product_id] = merged.get(line.product_id, 0) + line.quantity
    return merged


def _by_product(changes: Sequence[_Change], attribute: str) -> Case:
    return Case(
        *(When(pk=change.product_id, then=Value(getattr(change, attribute))) for change in changes),
        default=Value(0),
        output_field=IntegerField(),
    )


def _stock_apply(
    *,
    changes: Sequence[_Change],
    locked: dict[int, Product],
    kind: str,
    actor: User | None,
    order_id: UUID | None = None,
    reason: str = "",
) -> list[StockMovement]:
    """Apply ``changes``, already checked against the ``locked`` rows, and write their ledger rows.

    The rows stay locked until the transaction ends, so the balances after the change are the
    locked values plus the deltas; the guarded UPDATE touching every row confirms it.
    """
    available = _by_product(changes, "available_delta")
    reserved = _by_product(changes, "reserved_delta")
    updated = (
        Product.objects.filter(pk__in=[c.product_id for c in changes])
        .alias(new_available=F("stock_quantity") + available, new_reserved=F("reserved_quantity") + reserved)
        .filter(new_available__gte=0, new_reserved__gte=0)
        .update(
            stock_quantity=F("stock_quantity") + available,
            reserved_quantity=F("reserved_quantity") + reserved,
            version=F("version") + 1,
            updated_at=Now(),
        )
    )
    if updated != len(changes):  # cannot happen while the rows are locked; refuse rather than half-apply
        raise RuntimeError(f"stock update touched {updated} of {len(changes)} locked products")
    return StockMovement.objects.bulk_create(
        StockMovement(
            product_id=change.product_id,
            kind=kind,
            available_delta=change.available_delta,
            reserved_delta=change.reserved_delta,
            available_after=locked[change.product_id].stock_quantity + change.available_delta,
            reserved_after=locked[change.product_id].reserved_quantity + change.reserved_delta,
            order_id=order_id,
            actor=actor,
            reason=reason,
        )
        for change in changes
    )


def _lock_for_sale(product_ids: Sequence[int]) -> dict[int, Product]:
    locked = products_lock(product_ids=product_ids)
    unavailable = sorted(pid for pid in set(product_ids) if pid not in locked or not locked[pid].is_active)
    if unavailable:
        raise ProductsUnavailable("Some products do not exist or are not for sale.", product_ids=unavailable)
    return locked


def _short_lines(requested: dict[int, int], locked: dict[int, Product], have: Callable[[Product], int]) -> list[dict]:
    return [
        {"product_id": pid, "sku": locked[pid].sku, "requested": quantity, "available": have(locked[pid])}
        for pid, quantity in sorted(requested.items())
        if have(locked[pid]) < quantity
    ]


@dataclass(frozen=True)
class Reservation:
    """What ``stock_reserve`` did: the products as locked (name, sku and price are current) and the ledger rows."""

    products: dict[int, Product]
    movements: list[StockMovement]


@transaction.atomic(savepoint=False)
def stock_reserve(*, lines: Sequence[StockLine], actor: User | None, order_id: UUID | None = None) -> Reservation:
    """Move stock from available to reserved for every line, all or nothing."""
    requested = _merge(lines)
    locked = _lock_for_sale(list(requested))
    short = _short_lines(requested, locked, lambda p: p.stock_quantity)
    if short:
        raise InsufficientStock("Not enough stock for some items.", lines=short)
    changes = [_Change(pid, -quantity, quantity) for pid, quantity in sorted(requested.items())]
    movements = _stock_apply(changes=changes, locked=locked, kind=MovementKind.RESERVE, actor=actor, order_id=order_id)
    return Reservation(products=locked, movements=movements)


def _reserved_move(
    *, lines: Sequence[StockLine], actor: User | None, order_id: UUID | None, kind: str, to_available: bool
) -> list[StockMovement]:
    requested = _merge(lines)
    locked = products_lock(product_ids=list(requested))
    missing = sorted(set(requested) - set(locked))
    if missing:
        raise ProductsUnavailable("Some products do not exist.", product_ids=missing)
    short = _short_lines(requested, locked, lambda p: p.reserved_quantity)
    if short:
        raise InsufficientReservedStock("Less stock is reserved than requested.", lines=short)
    changes = [_Change(pid, quantity if to_available else 0, -quantity) for pid, quantity in sorted(requested.items())]
    return _stock_apply(changes=changes, locked=locked, kind=kind, actor=actor, order_id=order_id)


@transaction.atomic(savepoint=False)
def stock_release(
    *, lines: Sequence[StockLine], actor: User | None, order_id: UUID | None = None
) -> list[StockMovement]:
    """Return reserved stock to available (an order was cancelled)."""
    return _reserved_move(lines=lines, actor=actor, order_id=order_id, kind=MovementKind.RELEASE, to_available=True)


@transaction.atomic(savepoint=False)
def stock_commit(
    *, lines: Sequence[StockLine], actor: User | None, order_id: UUID | None = None
) -> list[StockMovement]:
    """Remove reserved stock for good (the goods left the warehouse)."""
    return _reserved_move(lines=lines, actor=actor, order_id=order_id, kind=MovementKind.SHIP, to_available=False)


def _available_change(product: Product, *, delta: int, kind: str, actor: User | None, reason: str) -> StockMovement:
    (movement,) = _stock_apply(
        changes=[_Change(product.pk, delta, 0)], locked={product.pk: product}, kind=kind, actor=actor, reason=reason
    )
    return movement


def _lock_one(product_id: int) -> Product:
    product = products_lock(product_ids=[product_id]).get(product_id)
    if product is None:
        raise ProductNotFound("Product not found.", product_id=product_id)
    return product


@retry_on_conflict
@transaction.atomic(durable=True)
def stock_adjust(*, product_id: int, delta: int, actor: User, reason: str) -> StockMovement:
    """Correct the available stock by a signed ``delta`` (a count, breakage, a found pallet)."""
    product = _lock_one(product_id)
    if product.stock_quantity + delta < 0:
        raise StockWouldGoNegative(
            "The adjustment would take available stock below zero.",
            product_id=product.pk,
            sku=product.sku,
            delta=delta,
            available=product.stock_quantity,
        )
    return _available_change(product, delta=delta, kind=MovementKind.ADJUSTMENT, actor=actor, reason=reason)


@retry_on_conflict
@transaction.atomic(durable=True)
def stock_receive(*, product_id: int, quantity: int, actor: User | None, reason: str = "") -> StockMovement:
    """Goods arrived: add ``quantity`` to available stock."""
    if quantity < 1:
        raise ValueError("received quantity must be positive")
    product = _lock_one(product_id)
    return _available_change(product, delta=quantity, kind=MovementKind.RECEIPT, actor=actor, reason=reason)


@transaction.atomic(durable=True)
def product_create(
    *,
    actor: User | None,
    sku: str,
    name: str,
    price: Decimal,
    stock_quantity: int = 0,
    description: str = "",
    is_active: bool = True,
) -> Product:
    """Create a product; its initial stock is booked as a RECEIPT in the ledger."""
    sku = sku.strip().upper()
    try:
        with transaction.atomic():
            product = Product.objects.create(
                sku=sku,
                name=name,
                description=description,
                price=price,
                stock_quantity=stock_quantity,
                is_active=is_active,
            )
    except IntegrityError as exc:
        if isinstance(exc.__cause__, psycopg.errors.UniqueViolation):
            raise SkuAlreadyExists("A product with this SKU already exists.", sku=sku) from exc
        raise
    if stock_quantity:
        StockMovement.objects.create(
            product=product,
            kind=MovementKind.RECEIPT,
            available_delta=stock_quantity,
            reserved_delta=0,
            available_after=stock_quantity,
            reserved_after=0,
            actor=actor,
            reason="initial stock",
        )
    return product


@retry_on_conflict
@transaction.atomic(durable=True)
def product_update(*, product_id: int, actor: User, changes: dict, expected_version: int | None = None) -> Product:
    """Change the catalogue fields of a product; refuse if the caller's ``expected_version`` is stale."""
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    product = _lock_one(product_id)
    if expected_version is not None and expected_version != product.version:
        raise VersionConflict(
            "The product was changed by someone else; reload it and try again.",
            product_id=product.pk,
            expected_version=expected_version,
            current_version=product.version,
        )
    if changes:
        Product.objects.filter(pk=product.pk).update(**changes, version=F("version") + 1, updated_at=Now())
        product.refresh_from_db()
    return product


@retry_on_conflict
@transaction.atomic(durable=True)
def product_delete(*, product_id: int, actor: User) -> Product | None:
    """Delete a product no order ever touched; deactivate one that an order references.

    Returns the deactivated product, or None when it was deleted (with its ledger).
    """
    product = _lock_one(product_id)
    if StockMovement.objects.filter(product=product, order_id__isnull=False).exists():
        if product.is_active:
            Product.objects.filter(pk=product.pk).update(is_active=False, version=F("version") + 1, updated_at=Now())
            product.refresh_from_db()
        return product
    product.delete()
    return None
