import uuid
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, transaction

from inventory.exceptions import (
    InsufficientReservedStock,
    InsufficientStock,
    ProductNotFound,
    ProductsUnavailable,
    SkuAlreadyExists,
    StockWouldGoNegative,
    VersionConflict,
)
from inventory.models import MovementKind, Product, StockMovement
from inventory.selectors import ledger_mismatches
from inventory.services import (
    StockLine,
    product_create,
    product_delete,
    product_update,
    stock_adjust,
    stock_commit,
    stock_receive,
    stock_release,
    stock_reserve,
)

pytestmark = pytest.mark.django_db


def balances(*products) -> list[tuple[int, int]]:
    ids = [p.pk for p in products]
    rows = dict(Product.objects.filter(pk__in=ids).values_list("pk", "stock_quantity"))
    reserved = dict(Product.objects.filter(pk__in=ids).values_list("pk", "reserved_quantity"))
    return [(rows[i], reserved[i]) for i in ids]


def test_product_create_books_initial_stock_as_a_receipt(admin_user):
    product = product_create(
        actor=admin_user, sku=" widget-a-001 ", name="Widget", price=Decimal("150.00"), stock_quantity=500
    )

    assert product.sku == "WIDGET-A-001"
    assert (product.stock_quantity, product.reserved_quantity, product.version) == (500, 0, 1)
    (movement,) = StockMovement.objects.filter(product=product)
    assert (movement.kind, movement.available_delta, movement.available_after) == (MovementKind.RECEIPT, 500, 500)
    assert movement.actor == admin_user


def test_product_create_without_stock_writes_no_movement(admin_user):
    product = product_create(actor=admin_user, sku="EMPTY-1", name="Empty", price=Decimal("1.00"))

    assert not StockMovement.objects.filter(product=product).exists()


def test_product_create_refuses_a_duplicate_sku_in_any_case(product_factory, admin_user):
    product_factory(sku="DUP-1")

    with pytest.raises(SkuAlreadyExists) as excinfo:
        product_create(actor=admin_user, sku="dup-1", name="Other", price=Decimal("1.00"), stock_quantity=5)

    assert excinfo.value.details == {"sku": "DUP-1"}
    assert Product.objects.filter(sku="DUP-1").count() == 1
    assert StockMovement.objects.count() == 1


@pytest.mark.parametrize(
    ("field", "value"), [("price", Decimal("-0.01")), ("stock_quantity", -1), ("reserved_quantity", -1)]
)
def test_database_refuses_negative_values(product, field, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=product.pk).update(**{field: value})


def test_database_refuses_lower_case_sku(product):
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=product.pk).update(sku="lower")


def test_ledger_rows_cannot_be_updated(product):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        StockMovement.objects.filter(product=product).update(reason="rewritten history")


def test_stock_reserve_moves_available_to_reserved_and_writes_the_ledger(product_factory, customer):
    a, b = product_factory(stock_quantity=10), product_factory(stock_quantity=5)
    order_id = uuid.uuid4()

    reservation = stock_reserve(
        lines=[StockLine(a.pk, 3), StockLine(b.pk, 5), StockLine(a.pk, 1)], actor=customer, order_id=order_id
    )
    movements = reservation.movements

    assert balances(a, b) == [(6, 4), (0, 5)]
    assert sorted((m.product_id, m.kind, m.available_delta, m.reserved_delta) for m in movements) == [
        (a.pk, MovementKind.RESERVE, -4, 4),
        (b.pk, MovementKind.RESERVE, -5, 5),
    ]
    assert {(m.available_after, m.reserved_after) for m in movements} == {(6, 4), (0, 5)}
    assert {m.order_id for m in movements} == {order_id}
    assert Product.objects.get(pk=a.pk).version == 2
    assert set(reservation.products) == {a.pk, b.pk}
    assert reservation.products[a.pk].price == a.price


def test_stock_reserve_lists_every_short_line_and_changes_nothing(product_factory, customer):
    a, b, c = product_factory(stock_quantity=2), product_factory(stock_quantity=9), product_factory(stock_quantity=0)
    before = StockMovement.objects.count()

    with pytest.raises(InsufficientStock) as excinfo, transaction.atomic():
        stock_reserve(lines=[StockLine(a.pk, 3), StockLine(b.pk, 9), StockLine(c.pk, 1)], actor=customer)

    assert excinfo.value.details == {
        "lines": [
            {"product_id": a.pk, "sku": a.sku, "requested": 3, "available": 2},
            {"product_id": c.pk, "sku": c.sku, "requested": 1, "available": 0},
        ]
    }
    assert balances(a, b, c) == [(2, 0), (9, 0), (0, 0)]
    assert StockMovement.objects.count() == before


def test_stock_reserve_refuses_unknown_and_inactive_products(product_factory, customer):
    active, inactive = product_factory(), product_factory(is_active=False)

    with pytest.raises(ProductsUnavailable) as excinfo, transaction.atomic():
        stock_reserve(lines=[StockLine(active.pk, 1), StockLine(inactive.pk, 1), StockLine(999999, 1)], actor=customer)

    assert excinfo.value.details == {"product_ids": [inactive.pk, 999999]}
    assert balances(active) == [(100, 0)]


def test_stock_reserve_refuses_non_positive_quantities(product, customer):
    with pytest.raises(ValueError, match="positive"), transaction.atomic():
        stock_reserve(lines=[StockLine(product.pk, 0)], actor=customer)


def test_stock_release_returns_reserved_stock(product, customer):
    stock_reserve(lines=[StockLine(product.pk, 7)], actor=customer)

    (movement,) = stock_release(lines=[StockLine(product.pk, 4)], actor=customer)

    assert balances(product) == [(97, 3)]
    assert (movement.kind, movement.available_delta, movement.reserved_delta) == (MovementKind.RELEASE, 4, -4)


def test_stock_commit_removes_reserved_stock(product, customer):
    stock_reserve(lines=[StockLine(product.pk, 7)], actor=customer)

    (movement,) = stock_commit(lines=[StockLine(product.pk, 7)], actor=customer)

    assert balances(product) == [(93, 0)]
    assert (movement.kind, movement.available_delta, movement.reserved_delta) == (MovementKind.SHIP, 0, -7)
    assert (movement.available_after, movement.reserved_after) == (93, 0)


@pytest.mark.parametrize("operation", [stock_release, stock_commit])
def test_reserved_moves_refuse_more_than_is_reserved(product, customer, operation):
    stock_reserve(lines=[StockLine(product.pk, 2)], actor=customer)

    with pytest.raises(InsufficientReservedStock) as excinfo, transaction.atomic():
        operation(lines=[StockLine(product.pk, 3)], actor=customer)

    assert excinfo.value.details["lines"] == [
        {"product_id": product.pk, "sku": product.sku, "requested": 3, "available": 2}
    ]
    assert balances(product) == [(98, 2)]


def test_stock_adjust_applies_a_signed_delta(product, inventory_manager):
    down = stock_adjust(product_id=product.pk, delta=-30, actor=inventory_manager, reason="breakage")
    up = stock_adjust(product_id=product.pk, delta=5, actor=inventory_manager, reason="found")

    assert balances(product) == [(75, 0)]
    assert (down.kind, down.available_delta, down.available_after, down.reason) == (
        MovementKind.ADJUSTMENT,
        -30,
        70,
        "breakage",
    )
    assert (up.available_delta, up.available_after) == (5, 75)


def test_stock_adjust_refuses_going_below_zero(product, inventory_manager):
    with pytest.raises(StockWouldGoNegative) as excinfo:
        stock_adjust(product_id=product.pk, delta=-101, actor=inventory_manager, reason="count")

    assert excinfo.value.details == {"product_id": product.pk, "sku": product.sku, "delta": -101, "available": 100}
    assert balances(product) == [(100, 0)]
    assert StockMovement.objects.filter(product=product).count() == 1


def test_stock_adjust_cannot_touch_reserved_stock(product, customer, inventory_manager):
    stock_reserve(lines=[StockLine(product.pk, 100)], actor=customer)

    with pytest.raises(StockWouldGoNegative):
        stock_adjust(product_id=product.pk, delta=-1, actor=inventory_manager, reason="count")


def test_stock_adjust_unknown_product(inventory_manager):
    with pytest.raises(ProductNotFound):
        stock_adjust(product_id=424242, delta=1, actor=inventory_manager, reason="x")


def test_stock_receive_adds_stock(product, inventory_manager):
    movement = stock_receive(product_id=product.pk, quantity=25, actor=inventory_manager, reason="PO-17")

    assert balances(product) == [(125, 0)]
    assert (movement.kind, movement.available_delta, movement.available_after) == (MovementKind.RECEIPT, 25, 125)


def test_product_update_bumps_the_version(product, admin_user):
    updated = product_update(
        product_id=product.pk, actor=admin_user, changes={"price": Decimal("160.00")}, expected_version=1
    )

    assert (updated.price, updated.version) == (Decimal("160.00"), 2)


def test_product_update_refuses_a_stale_version(product, admin_user):
    product_update(product_id=product.pk, actor=admin_user, changes={"name": "First"})

    with pytest.raises(VersionConflict) as excinfo:
        product_update(product_id=product.pk, actor=admin_user, changes={"name": "Second"}, expected_version=1)

    assert excinfo.value.details == {"product_id": product.pk, "expected_version": 1, "current_version": 2}
    assert Product.objects.get(pk=product.pk).name == "First"


def test_product_update_refuses_stock_fields(product, admin_user):
    with pytest.raises(ValueError, match="stock_quantity"):
        product_update(product_id=product.pk, actor=admin_user, changes={"stock_quantity": 5})


def test_stock_changes_bump_the_version(product, inventory_manager):
    stock_adjust(product_id=product.pk, delta=1, actor=inventory_manager, reason="count")

    assert Product.objects.get(pk=product.pk).version == 2


def test_product_delete_deletes_a_product_no_order_touched(product, admin_user):
    assert product_delete(product_id=product.pk, actor=admin_user) is None

    assert not Product.objects.filter(pk=product.pk).exists()
    assert not StockMovement.objects.filter(product_id=product.pk).exists()


def test_product_delete_deactivates_a_product_an_order_references(product, admin_user, customer):
    stock_reserve(lines=[StockLine(product.pk, 1)], actor=customer, order_id=uuid.uuid4())

    kept = product_delete(product_id=product.pk, actor=admin_user)

    assert kept is not None
    assert Product.objects.get(pk=product.pk).is_active is False


def test_ledger_matches_products_after_a_mix_of_operations(product_factory, customer, inventory_manager):
    a, b = product_factory(stock_quantity=50), product_factory(stock_quantity=20)
    stock_reserve(lines=[StockLine(a.pk, 10), StockLine(b.pk, 5)], actor=customer)
    stock_adjust(product_id=a.pk, delta=-7, actor=inventory_manager, reason="damaged")
    stock_release(lines=[StockLine(a.pk, 4)], actor=customer)
    stock_commit(lines=[StockLine(a.pk, 6), StockLine(b.pk, 5)], actor=inventory_manager)
    stock_receive(product_id=b.pk, quantity=30, actor=inventory_manager)

    assert balances(a, b) == [(37, 0), (45, 0)]
    assert list(ledger_mismatches()) == []


def test_ledger_mismatches_finds_a_product_changed_behind_the_ledger(product):
    Product.objects.filter(pk=product.pk).update(stock_quantity=99)

    assert [p.pk for p in ledger_mismatches()] == [product.pk]


def test_stock_reserve_query_count_does_not_grow_with_lines(product_factory, customer, django_assert_max_num_queries):
    counts = []
    for size in (1, 10, 50):
        lines = [StockLine(p.pk, 1) for p in product_factory.create_batch(size)]
        with django_assert_max_num_queries(10) as captured:
            stock_reserve(lines=lines, actor=customer)
        counts.append(len(captured))

    assert counts[0] == counts[1] == counts[2]
