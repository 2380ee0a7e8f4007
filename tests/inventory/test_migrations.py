"""Issue 10's data migration: a populated seed-001 database migrates forward without loss.

The database is taken back to the state before catalog and warehouses (inventory 0002,
orders 0001, no catalog), filled through the historical models with products, a ledger that
reconciles and orders in every status, then migrated to the latest state. The fixture leaves
the database at the latest state whatever happens, so the tests after this one keep working.
"""

import uuid
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from accounts.models import User
from catalog.models import Product, ProductStatus, Variant
from inventory.models import (
    DEFAULT_LOCATION_CODE,
    DEFAULT_WAREHOUSE_CODE,
    MovementKind,
    Reservation,
    ReservationStatus,
    Stock,
    StockMovement,
)
from inventory.services.products import product_create_with_stock
from orders.models import Order, OrderItem, OrderStatus
from orders.services.workflow import order_cancel, order_pay, order_ship
from tests.stock import assert_stock_consistent

BEFORE_ISSUE_10 = [
    ("inventory", "0002_ledger_append_only"),
    ("orders", "0001_orders_items_payments_shipments"),
    ("catalog", None),
]


def _executor() -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    return executor


def _migrate(targets) -> MigrationExecutor:
    executor = _executor()
    executor.migrate(targets)
    return _executor()


def _migrate_to_latest() -> None:
    executor = _executor()
    _migrate(executor.loader.graph.leaf_nodes())


@pytest.fixture
def old_apps(transactional_db):
    """The historical models of the state before issue 10; the database is migrated to the latest state after."""
    try:
        executor = _migrate(BEFORE_ISSUE_10)
        yield executor.loader.project_state([node for node in BEFORE_ISSUE_10 if node[1] is not None]).apps
    finally:
        _migrate_to_latest()


class OldLedger:
    """Writes seed-001 ledger rows the way seed 001's services did: signed deltas and the balances after."""

    def __init__(self, apps, actor) -> None:
        self.movement = apps.get_model("inventory", "StockMovement")
        self.actor = actor
        self.balances: dict[int, tuple[int, int]] = {}
        self.ids: list[int] = []

    def book(self, product, kind: str, available: int, reserved: int = 0, order=None, reason: str = "") -> None:
        before = self.balances.get(product.pk, (0, 0))
        after = (before[0] + available, before[1] + reserved)
        self.balances[product.pk] = after
        row = self.movement.objects.create(
            product=product,
            kind=kind,
            available_delta=available,
            reserved_delta=reserved,
            available_after=after[0],
            reserved_after=after[1],
            order_id=order.pk if order is not None else None,
            actor=self.actor,
            reason=reason,
        )
        self.ids.append(row.pk)


def _populate(apps) -> dict:
    """Seed-001 rows: products (two named alike, one inactive), a reconciling ledger, orders in every status."""
    OldUser = apps.get_model("accounts", "User")
    OldProduct = apps.get_model("inventory", "Product")
    OldOrder = apps.get_model("orders", "Order")
    OldItem = apps.get_model("orders", "OrderItem")
    OldPayment = apps.get_model("orders", "Payment")
    OldShipment = apps.get_model("orders", "Shipment")

    admin = OldUser.objects.create(email="old-admin@example.com", role="ADMIN")
    first = OldUser.objects.create(email="old-customer-1@example.com", role="CUSTOMER")
    second = OldUser.objects.create(email="old-customer-2@example.com", role="CUSTOMER")

    def product(sku: str, name: str, price: str, is_active: bool = True):
        return OldProduct.objects.create(sku=sku, name=name, price=Decimal(price), is_active=is_active, version=3)

    products = {
        "widget": product("W-1", "Widget", "10.00"),
        "widget_again": product("W-2", "Widget", "12.50"),
        "widget_2": product("W-3", "Widget 2", "7.25"),
        "retired": product("G-1", "Gadget", "99.99", is_active=False),
        "symbols": product("X-1", "!!!", "1.00"),
        "never_stocked": product("E-1", "Empty", "0.00"),
    }

    def order(user, status: str, lines: list[tuple[str, int]]):
        subtotal = sum((products[key].price * units for key, units in lines), Decimal("0.00"))
        placed = OldOrder.objects.create(
            id=uuid.uuid4(),
            user=user,
            status=status,
            subtotal=subtotal,
            shipping_amount=Decimal("0.00"),
            total_amount=subtotal,
        )
        for key, units in lines:
            OldItem.objects.create(
                order=placed,
                product=products[key],
                product_name=products[key].name,
                sku=products[key].sku,
                quantity=units,
                unit_price_at_purchase=products[key].price,
                line_total=products[key].price * units,
            )
        if status in {OrderStatus.PAID, OrderStatus.SHIPPED}:
            OldPayment.objects.create(order=placed, amount=subtotal, status="SUCCEEDED", provider_reference="mock_old")
        if status == OrderStatus.SHIPPED:
            OldShipment.objects.create(
                order=placed, cost=0, tracking_number=f"FR-OLD-{placed.pk.hex[:8]}", shipped_at=timezone.now()
            )
        return placed

    orders = {
        "pending": order(first, OrderStatus.PENDING, [("widget", 3), ("widget_again", 2)]),
        "pending_to_ship": order(second, OrderStatus.PENDING, [("widget_again", 1), ("widget_2", 5)]),
        "paid": order(first, OrderStatus.PAID, [("widget", 2)]),
        "shipped": order(second, OrderStatus.SHIPPED, [("widget", 1)]),
        "cancelled": order(second, OrderStatus.CANCELLED, [("widget", 4), ("retired", 1)]),
    }

    ledger = OldLedger(apps, admin)
    p, o = products, orders
    ledger.book(p["widget"], "RECEIPT", 100, reason="initial stock")
    ledger.book(p["widget_again"], "RECEIPT", 20, reason="initial stock")
    ledger.book(p["widget_2"], "RECEIPT", 10, reason="initial stock")
    ledger.book(p["retired"], "RECEIPT", 7, reason="initial stock")
    ledger.book(p["symbols"], "RECEIPT", 5, reason="initial stock")
    ledger.book(p["widget"], "RESERVE", -3, 3, order=o["pending"])
    ledger.book(p["widget_again"], "RESERVE", -2, 2, order=o["pending"])
    ledger.book(p["widget_again"], "RESERVE", -1, 1, order=o["pending_to_ship"])
    ledger.book(p["widget_2"], "RESERVE", -5, 5, order=o["pending_to_ship"])
    ledger.book(p["widget"], "RESERVE", -2, 2, order=o["paid"])
    ledger.book(p["widget"], "RESERVE", -1, 1, order=o["shipped"])
    ledger.book(p["widget"], "SHIP", 0, -1, order=o["shipped"])
    ledger.book(p["widget"], "RESERVE", -4, 4, order=o["cancelled"])
    ledger.book(p["retired"], "RESERVE", -1, 1, order=o["cancelled"])
    ledger.book(p["widget"], "RELEASE", 4, -4, order=o["cancelled"])
    ledger.book(p["retired"], "RELEASE", 1, -1, order=o["cancelled"])
    ledger.book(p["widget"], "ADJUSTMENT", -4, reason="damaged")
    ledger.book(p["symbols"], "ADJUSTMENT", -5, reason="count")
    for item in products.values():
        available, reserved = ledger.balances.get(item.pk, (0, 0))
        OldProduct.objects.filter(pk=item.pk).update(stock_quantity=available, reserved_quantity=reserved)
        item.refresh_from_db()

    old_ledger = {
        row.pk: (
            row.product_id,
            row.kind,
            row.available_delta,
            row.reserved_delta,
            row.available_after,
            row.reserved_after,
        )
        for row in ledger.movement.objects.all()
    }
    return {
        "admin_id": admin.pk,
        "products": products,
        "orders": {key: value.pk for key, value in orders.items()},
        "ledger": old_ledger,
        "items": {item.pk: (item.order_id, item.product_id, item.sku, item.quantity) for item in OldItem.objects.all()},
    }


def test_migration_moves_products_stock_ledger_and_orders_without_loss(old_apps):
    old = _populate(old_apps)

    _migrate_to_latest()

    products = old["products"]
    migrated = {product.pk: product for product in Product.objects.prefetch_related("variants")}
    assert set(migrated) == {product.pk for product in products.values()}
    for before in products.values():
        after = migrated[before.pk]
        assert after.status == ProductStatus.PUBLISHED
        assert after.published_at is not None
        assert after.archived_at is None
        assert (after.name, after.description, after.version) == (before.name, before.description, before.version)
        (variant,) = after.variants.all()
        assert (variant.pk, variant.sku, variant.price, variant.is_active, variant.name, variant.options) == (
            before.pk,
            before.sku,
            before.price,
            before.is_active,
            "",
            {},
        )
    slugs = {key: migrated[product.pk].slug for key, product in products.items()}
    assert len(set(slugs.values())) == len(slugs)
    assert slugs["widget"] == "widget"
    assert slugs["widget_again"] not in {"widget", slugs["widget_2"]}
    assert slugs["symbols"] == "item"

    stock = {row.variant_id: row for row in Stock.objects.select_related("location__warehouse")}
    assert set(stock) == set(migrated)
    for before in products.values():
        row = stock[before.pk]
        assert (row.location.warehouse.code, row.location.code) == (DEFAULT_WAREHOUSE_CODE, DEFAULT_LOCATION_CODE)
        assert (row.on_hand, row.reserved) == (
            before.stock_quantity + before.reserved_quantity,
            before.reserved_quantity,
        )
    assert (stock[products["widget"].pk].on_hand, stock[products["widget"].pk].reserved) == (95, 5)

    ledger = {row.pk: row for row in StockMovement.objects.all()}
    assert set(ledger) == set(old["ledger"])
    for pk, old_row in old["ledger"].items():
        product_id, kind, available_delta, reserved_delta, available_after, reserved_after = old_row
        row = ledger[pk]
        assert row.stock_id == stock[product_id].pk
        assert row.kind == (MovementKind.COMMIT if kind == "SHIP" else kind)
        assert (row.on_hand_delta, row.reserved_delta) == (available_delta + reserved_delta, reserved_delta)
        assert (row.on_hand_after, row.reserved_after) == (available_after + reserved_after, reserved_after)
    assert not StockMovement.objects.filter(kind="SHIP").exists()
    assert_stock_consistent()

    items = {item.pk: item for item in OrderItem.objects.select_related("order", "reservation")}
    assert set(items) == set(old["items"])
    for pk, (order_id, product_id, sku, quantity) in old["items"].items():
        item = items[pk]
        assert (item.order_id, item.product_id, item.variant_id, item.sku, item.quantity) == (
            order_id,
            product_id,
            product_id,
            sku,
            quantity,
        )
        if item.order.status in {OrderStatus.PENDING, OrderStatus.PAID}:
            reservation = item.reservation
            assert reservation.status == ReservationStatus.ALLOCATED
            assert (reservation.order_id, reservation.expires_at) == (item.order_id, None)
            assert [(a.stock_id, a.quantity) for a in reservation.allocations.all()] == [
                (stock[product_id].pk, quantity)
            ]
        else:
            assert item.reservation is None
    assert Reservation.objects.count() == 5


def test_migrated_open_orders_still_cancel_and_ship(old_apps):
    old = _populate(old_apps)
    _migrate_to_latest()
    orders, products = old["orders"], old["products"]
    admin = User.objects.get(pk=old["admin_id"])
    owner = Order.objects.select_related("user").get(pk=orders["pending"]).user
    second = Order.objects.select_related("user").get(pk=orders["pending_to_ship"]).user

    order_cancel(order_id=orders["pending"], actor=owner)
    order_pay(order_id=orders["pending_to_ship"], actor=second)
    order_ship(order_id=orders["pending_to_ship"], actor=admin)
    order_cancel(order_id=orders["paid"], actor=admin)

    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses[orders["pending"]] == OrderStatus.CANCELLED
    assert statuses[orders["pending_to_ship"]] == OrderStatus.SHIPPED
    assert statuses[orders["paid"]] == OrderStatus.CANCELLED
    reservation_statuses = {
        (item.order_id, item.sku): item.reservation.status
        for item in OrderItem.objects.filter(reservation__isnull=False).select_related("reservation")
    }
    assert reservation_statuses == {
        (orders["pending"], "W-1"): ReservationStatus.RELEASED,
        (orders["pending"], "W-2"): ReservationStatus.RELEASED,
        (orders["pending_to_ship"], "W-2"): ReservationStatus.COMMITTED,
        (orders["pending_to_ship"], "W-3"): ReservationStatus.COMMITTED,
        (orders["paid"], "W-1"): ReservationStatus.RELEASED,
    }
    numbers = {
        variant_id: (on_hand, reserved)
        for variant_id, on_hand, reserved in Stock.objects.values_list("variant_id", "on_hand", "reserved")
    }
    assert numbers[products["widget"].pk] == (95, 0)
    assert numbers[products["widget_again"].pk] == (19, 0)
    assert numbers[products["widget_2"].pk] == (5, 0)
    assert_stock_consistent()


def test_migrated_ledger_is_append_only_and_new_rows_get_fresh_ids(old_apps):
    old = _populate(old_apps)
    _migrate_to_latest()

    with pytest.raises(IntegrityError, match="append-only"):
        StockMovement.objects.filter(pk=min(old["ledger"])).update(reason="rewritten")

    product = product_create_with_stock(actor=None, name="Widget", sku="NEW-1", price=Decimal("3.00"), stock_quantity=4)
    variant = Variant.objects.get(product=product)
    assert product.pk > max(p.pk for p in old["products"].values())
    assert variant.pk > max(p.pk for p in old["products"].values())
    assert product.slug not in {"widget", "widget-2"}
    assert Stock.objects.get(variant=variant).on_hand == 4
    assert_stock_consistent()
