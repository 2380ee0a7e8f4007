"""Placing orders: lines resolved through the catalog, one inventory reservation per line, prices snapshotted.

The entry point owns one durable transaction, is retried on a deadlock or serialization
failure, and queues its events with ``transaction.on_commit``.
"""

import functools
import hashlib
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import ParamSpec, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from accounts.models import User
from catalog.exceptions import ProductsUnavailable, VariantRequired
from catalog.models import Variant
from catalog.selectors import variant_is_sellable, variants_for_sale
from catalog.validators import sku_normalize
from config.db import retry_on_conflict, unique_violation
from inventory.services.allocation import HoldLine, HoldRequest, stock_allocate
from orders import policies
from orders.exceptions import (
    EmptyOrder,
    IdempotencyKeyInFlight,
    IdempotencyKeyReused,
    OrderTooLarge,
    TransitionForbidden,
)
from orders.models import MAX_AMOUNT, Order, OrderItem
from orders.notifications import order_event_emit

IDEMPOTENCY_CONSTRAINT = "order_idempotency_key_per_user"
P = ParamSpec("P")
R = TypeVar("R")


def replay_on_idempotency_conflict(function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function`` (an entry point placing an order with an ``idempotency_key`` keyword) once more when a
    concurrent request with the same key committed its order just as this one looked: the unique
    violation rolls this try back, and the next try sees that order and replays it."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except IntegrityError as exc:
            if kwargs.get("idempotency_key") is None or unique_violation(exc) != IDEMPOTENCY_CONSTRAINT:
                raise
            return function(*args, **kwargs)

    return wrapper


@dataclass(frozen=True)
class OrderLine:
    """One requested line: a variant named by ``variant_id`` or ``sku``, or a one-variant product by ``product_id``."""

    quantity: int
    product_id: int | None = None
    variant_id: int | None = None
    sku: str | None = None


@dataclass(frozen=True)
class Placement:
    order: Order
    replayed: bool  # True when an Idempotency-Key matched an order placed earlier


def _lines_check(lines: Sequence[OrderLine]) -> None:
    if not lines:
        raise EmptyOrder("An order needs at least one item.")
    if any(line.quantity < 1 for line in lines):
        raise ValidationError({"items": ["Quantities must be at least 1."]})
    if any(sum(key is not None for key in (line.product_id, line.variant_id, line.sku)) != 1 for line in lines):
        raise ValidationError({"items": ["Name each item by exactly one of product_id, variant_id or sku."]})


@dataclass(frozen=True)
class _Found:
    """What each line names: its variant (None when unknown), and the products named by id with several variants."""

    chosen: list[tuple[OrderLine, Variant | None]]
    several: list[int]

    @property
    def complete(self) -> bool:
        return not self.several and all(variant is not None for _, variant in self.chosen)


def _variants_find(lines: Sequence[OrderLine]) -> _Found:
    """The variant each line names, sellable or not (one query)."""
    found = variants_for_sale(
        variant_ids={line.variant_id for line in lines if line.variant_id is not None},
        product_ids={line.product_id for line in lines if line.product_id is not None},
        skus={sku_normalize(line.sku) for line in lines if line.sku is not None},
    )
    by_id = {variant.pk: variant for variant in found}
    by_sku = {variant.sku: variant for variant in found}
    by_product: dict[int, list[Variant]] = {}
    for variant in found:
        by_product.setdefault(variant.product_id, []).append(variant)
    several = sorted({line.product_id for line in lines if len(by_product.get(line.product_id, ())) > 1})
    chosen: list[tuple[OrderLine, Variant | None]] = []
    for line in lines:
        if line.variant_id is not None:
            chosen.append((line, by_id.get(line.variant_id)))
        elif line.sku is not None:
            chosen.append((line, by_sku.get(sku_normalize(line.sku))))
        else:
            named = by_product.get(line.product_id, ())
            chosen.append((line, named[0] if len(named) == 1 else None))
    return _Found(chosen=chosen, several=several)


def _sale_check(found: _Found) -> None:
    """Every line names one variant that is for sale; otherwise one error naming every bad line."""
    if found.several:
        raise VariantRequired(
            "Some products have several variants: order them by variant_id or sku.", product_ids=found.several
        )
    bad = [line for line, variant in found.chosen if variant is None or not variant_is_sellable(variant)]
    if bad:
        named = {
            "product_ids": sorted({line.product_id for line in bad if line.product_id is not None}),
            "variant_ids": sorted({line.variant_id for line in bad if line.variant_id is not None}),
            "skus": sorted({sku_normalize(line.sku) for line in bad if line.sku is not None}),
        }
        raise ProductsUnavailable(
            "Some products do not exist or are not for sale.", **{key: ids for key, ids in named.items() if ids}
        )


def _merged(found: _Found) -> list[tuple[Variant, int]]:
    """(variant, units) per variant named, in variant id order: a variant named twice (by any key) is one line."""
    merged: dict[int, tuple[Variant, int]] = {}
    for line, variant in found.chosen:
        units = merged.get(variant.pk, (variant, 0))[1]
        merged[variant.pk] = (variant, units + line.quantity)
    return [merged[variant_id] for variant_id in sorted(merged)]


def _request_hash(lines: list[tuple[Variant, int]]) -> str:
    """Fingerprint of what was asked for: the same variants and units, in any order or split, give the same hash."""
    return hashlib.sha256(json.dumps([[variant.pk, units] for variant, units in lines]).encode()).hexdigest()


def _idempotent_replay(*, customer: User, key: str, request_hash: str) -> Order | None:
    """The order an earlier request with ``key`` placed, or None if this is the first use of the key.

    One statement takes a transaction-scoped advisory lock on (customer, key), held until this
    transaction ends, so a concurrent request with the same key is told it is in flight instead
    of racing, and reads the order placed with the key. Its snapshot may predate the commit of a
    request that held the lock a moment earlier; the unique constraint on (user, idempotency_key)
    then refuses the second order and ``order_place`` runs again, seeing the first.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0)), earlier.id, earlier.request_hash "
            f"FROM (SELECT 1) AS one LEFT JOIN {Order._meta.db_table} AS earlier "
            f"ON earlier.user_id = %s AND earlier.idempotency_key = %s",
            [f"order:{customer.pk}:{key}", customer.pk, key],
        )
        acquired, order_id, earlier_hash = cursor.fetchone()
    if not acquired:
        raise IdempotencyKeyInFlight("A request with this Idempotency-Key is still being processed.", key=key)
    if order_id is None:
        return None
    if earlier_hash != request_hash:
        raise IdempotencyKeyReused("This Idempotency-Key was used with a different request body.", key=key)
    return Order.objects.get(pk=order_id)


def _amounts_check(items: list[OrderItem], subtotal: Decimal, total: Decimal) -> None:
    if max([total, subtotal, *(item.line_total for item in items)]) >= MAX_AMOUNT:
        raise OrderTooLarge(
            "The order's amounts are too large to record; split it into smaller orders.", max_amount=str(MAX_AMOUNT)
        )


@replay_on_idempotency_conflict
@retry_on_conflict
@transaction.atomic(durable=True)
def order_place(*, customer: User, lines: Sequence[OrderLine], idempotency_key: str | None = None) -> Placement:
    """Reserve every line's units (one reservation per line) and record the order with each variant's snapshot.

    Lines name a variant by ``variant_id`` or ``sku`` (any case), or a one-variant product by
    ``product_id``; lines naming the same variant become one. With ``idempotency_key``, a repeat
    of an earlier request returns its order (``replayed``) without moving stock.
    """
    return order_place_in_transaction(customer=customer, lines=lines, idempotency_key=idempotency_key)


@transaction.atomic(savepoint=False)
def order_place_in_transaction(
    *, customer: User, lines: Sequence[OrderLine], idempotency_key: str | None = None
) -> Placement:
    """``order_place`` inside the caller's transaction (a cart's checkout, which locks the cart first).

    The caller owns the transaction: it retries it on a deadlock, and on the unique violation of
    a concurrent request with the same Idempotency-Key runs it once more to replay that order
    (``retry_on_conflict`` and ``replay_on_idempotency_conflict`` around a durable transaction).
    """
    if not policies.may_place_orders(customer):
        raise TransitionForbidden("Only customers may place orders.", action="place")
    _lines_check(lines)
    found = _variants_find(lines)
    if idempotency_key is not None and found.complete:
        # A retry replays the order placed earlier even if a variant stopped being for sale since.
        earlier = _idempotent_replay(customer=customer, key=idempotency_key, request_hash=_request_hash(_merged(found)))
        if earlier is not None:
            return Placement(order=earlier, replayed=True)
    _sale_check(found)
    resolved = _merged(found)
    request_hash = _request_hash(resolved)

    order = Order(
        id=uuid.uuid4(),
        user=customer,
        currency=settings.CURRENCY,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
    )
    items = [
        OrderItem(
            order=order,
            product_id=variant.product_id,
            variant=variant,
            product_name=variant.product.name,
            variant_name=variant.name,
            sku=variant.sku,
            quantity=units,
            unit_price_at_purchase=variant.price,
            line_total=variant.price * units,
        )
        for variant, units in resolved
    ]
    order.subtotal = sum((item.line_total for item in items), Decimal("0.00"))
    order.shipping_amount = settings.SHIPPING_FLAT_RATE
    order.total_amount = order.subtotal + order.shipping_amount
    _amounts_check(items, order.subtotal, order.total_amount)

    requests = [
        HoldRequest(reference=f"order:{order.id}:{variant.sku}", lines=[HoldLine(variant, units)], order_id=order.id)
        for variant, units in resolved
    ]
    reservations = stock_allocate(requests=requests, actor=customer)
    for item, reservation in zip(items, reservations, strict=True):
        item.reservation = reservation
    order.save(force_insert=True)
    OrderItem.objects.bulk_create(items)
    order_event_emit(order=order, email=customer.email, event="order_placed")
    return Placement(order=order, replayed=False)
