"""Real threads, each on its own PostgreSQL connection, racing for the same rows."""

import pytest

from inventory.exceptions import InsufficientStock, StockWouldGoNegative
from inventory.models import Product, StockMovement
from inventory.selectors import ledger_mismatches
from inventory.services import StockLine, stock_adjust, stock_reserve

pytestmark = pytest.mark.django_db(transaction=True)


def _reserve_or_adjust(*, kind: str, product_id: int, quantity: int, actor):
    if kind == "reserve":
        return stock_reserve(lines=[StockLine(product_id, quantity)], actor=actor)
    return stock_adjust(product_id=product_id, delta=-quantity, actor=actor, reason="count")


def test_concurrent_adjustments_and_reservations_end_with_exact_balances(
    product_factory, customer, inventory_manager, in_threads
):
    product = product_factory(stock_quantity=30)
    calls = [{"kind": "reserve", "product_id": product.pk, "quantity": 3, "actor": customer} for _ in range(10)] + [
        {"kind": "adjust", "product_id": product.pk, "quantity": 2, "actor": inventory_manager} for _ in range(10)
    ]

    outcomes = in_threads(_reserve_or_adjust, calls)

    failures = [o for o in outcomes if isinstance(o, Exception)]
    assert all(isinstance(f, InsufficientStock | StockWouldGoNegative) for f in failures), failures
    reserved = sum(
        1 for call, o in zip(calls, outcomes, strict=True) if call["kind"] == "reserve" and o not in failures
    )
    adjusted = sum(1 for call, o in zip(calls, outcomes, strict=True) if call["kind"] == "adjust" and o not in failures)
    product.refresh_from_db()
    assert product.stock_quantity == 30 - 3 * reserved - 2 * adjusted
    assert product.stock_quantity >= 0
    assert product.reserved_quantity == 3 * reserved
    assert product.stock_quantity < 2  # demand (50) exceeded supply (30): nothing sellable was left unsold
    assert StockMovement.objects.filter(product=product).count() == 1 + reserved + adjusted
    assert list(ledger_mismatches()) == []


def test_concurrent_single_unit_reservations_sell_exactly_the_stock(product_factory, customer, in_threads):
    product = product_factory(stock_quantity=7)

    outcomes = in_threads(stock_reserve, [{"lines": [StockLine(product.pk, 1)], "actor": customer} for _ in range(20)])

    assert sum(not isinstance(o, Exception) for o in outcomes) == 7
    assert sum(isinstance(o, InsufficientStock) for o in outcomes) == 13
    assert Product.objects.values_list("stock_quantity", "reserved_quantity").get(pk=product.pk) == (0, 7)
    assert list(ledger_mismatches()) == []


def test_opposite_line_order_never_deadlocks(product_factory, customer, in_threads):
    a, b = product_factory(stock_quantity=100), product_factory(stock_quantity=100)
    calls = [
        {
            "lines": [StockLine(a.pk, 1), StockLine(b.pk, 1)] if i % 2 else [StockLine(b.pk, 1), StockLine(a.pk, 1)],
            "actor": customer,
        }
        for i in range(20)
    ]

    outcomes = in_threads(stock_reserve, calls)

    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert Product.objects.filter(pk__in=[a.pk, b.pk], stock_quantity=80, reserved_quantity=20).count() == 2
    assert list(ledger_mismatches()) == []
