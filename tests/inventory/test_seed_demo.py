from collections import Counter, defaultdict

import pytest

from accounts.models import Role, User
from catalog.models import Brand, Category, Product, ProductStatus, Variant
from inventory.models import Location, MovementKind, Reservation, Stock, StockMovement, Warehouse
from orders.services.placement import OrderLine, order_place
from tests.commands import command_output
from tests.stock import assert_stock_consistent

pytestmark = pytest.mark.django_db


def table_counts() -> dict[str, int]:
    models = [User, Brand, Category, Product, Variant, Warehouse, Location, Stock, StockMovement, Reservation]
    return {model.__name__: model.objects.count() for model in models}


def test_seed_demo_creates_users_catalog_warehouses_and_spread_stock():
    out = command_output("seed_demo", "--products", "8", "--customers", "2")

    assert dict(User.objects.values_list("email", "role")) == {
        "admin@example.com": Role.ADMIN,
        "manager@example.com": Role.INVENTORY_MANAGER,
        "customer1@example.com": Role.CUSTOMER,
        "customer2@example.com": Role.CUSTOMER,
    }
    assert "admin@example.com / Demo-Admin-Pass-1" in out
    assert "manager@example.com / Demo-Manager-Pass-1" in out
    assert "customer2@example.com / Demo-Customer-Pass-1" in out
    assert "products: 8 created, 0 already there" in out

    assert Brand.objects.count() == 4
    roots = Category.objects.filter(parent__isnull=True)
    assert roots.count() == 3
    assert all(root.children.count() == 2 for root in roots)

    products = list(Product.objects.prefetch_related("variants"))
    assert len(products) == 8
    assert {product.status for product in products} == {ProductStatus.PUBLISHED}
    assert all(product.brand_id and product.category.parent_id for product in products)
    variant_counts = Counter(product.variants.count() for product in products)
    assert set(variant_counts) == {1, 2, 3, 4}
    for product in products:
        variants = list(product.variants.all())
        prices = [variant.price for variant in variants]
        assert len(set(prices)) == len(prices)
        assert all(variant.is_active and variant.sku.startswith("DEMO-") for variant in variants)
        if len(variants) > 1:
            assert all(variant.options and variant.name for variant in variants)
            assert len({tuple(sorted(variant.options.items())) for variant in variants}) == len(variants)

    warehouses = {warehouse.code: warehouse for warehouse in Warehouse.objects.all()}
    assert set(warehouses) == {"MAIN", "EAST"}
    assert warehouses["MAIN"].priority != warehouses["EAST"].priority
    locations = defaultdict(set)
    for warehouse_code, code in Location.objects.values_list("warehouse__code", "code"):
        locations[warehouse_code].add(code)
    assert all("DEFAULT" in codes and len(codes) >= 3 for codes in locations.values())

    where = defaultdict(set)
    for sku, warehouse_code, location_code, on_hand, reserved in Stock.objects.values_list(
        "variant__sku", "location__warehouse__code", "location__code", "on_hand", "reserved"
    ):
        assert on_hand > 0
        assert reserved == 0
        where[sku].add((warehouse_code, location_code))
    assert set(where) == set(Variant.objects.values_list("sku", flat=True))
    warehouses_of = {sku: {warehouse for warehouse, _ in spots} for sku, spots in where.items()}
    assert {"MAIN", "EAST"} in warehouses_of.values()
    assert {"MAIN"} in warehouses_of.values()
    assert {"EAST"} in warehouses_of.values()
    assert any(len([spot for spot in spots if spot[0] == "MAIN"]) == 2 for spots in where.values())
    used_locations = {spot for spots in where.values() for spot in spots}
    assert {code for warehouse, code in used_locations if warehouse == "MAIN"} - {"DEFAULT"}
    assert {code for warehouse, code in used_locations if warehouse == "EAST"} - {"DEFAULT"}

    movements = StockMovement.objects.all()
    assert {movement.kind for movement in movements} == {MovementKind.RECEIPT}
    assert all(movement.reference.startswith("seed-demo:") for movement in movements)
    assert_stock_consistent()


def test_seed_demo_twice_adds_nothing():
    command_output("seed_demo", "--products", "6", "--customers", "2")
    before = table_counts()

    again = command_output("seed_demo", "--products", "6", "--customers", "2")

    assert table_counts() == before
    assert "Demo-" not in again
    assert "products: 0 created, 6 already there; stock receipts: 0 booked" in again
    assert_stock_consistent()


def test_seed_demo_adds_only_the_missing_products_and_their_stock():
    command_output("seed_demo", "--products", "4", "--customers", "1")
    movements = set(StockMovement.objects.values_list("pk", flat=True))
    stock_before = dict(Stock.objects.values_list("pk", "on_hand"))

    out = command_output("seed_demo", "--products", "6", "--customers", "1")

    assert "products: 2 created, 4 already there" in out
    assert Product.objects.count() == 6
    assert dict(Stock.objects.filter(pk__in=stock_before).values_list("pk", "on_hand")) == stock_before
    new_skus = set(
        StockMovement.objects.exclude(pk__in=movements).values_list("stock__variant__sku", flat=True).distinct()
    )
    added = Variant.objects.filter(sku__regex=r"^DEMO-0000[56]")
    assert new_skus == set(added.values_list("sku", flat=True))
    assert_stock_consistent()


def test_seed_demo_users_log_in_and_order_the_seeded_variants(api_client):
    command_output("seed_demo", "--products", "4", "--customers", "1")
    customer = User.objects.get(email="customer1@example.com")
    multi = Product.objects.filter(variants__sku="DEMO-00003-1").get()
    skus = sorted(multi.variants.values_list("sku", flat=True))

    login = api_client.post("/auth/login", {"email": "customer1@example.com", "password": "Demo-Customer-Pass-1"})
    order = order_place(customer=customer, lines=[OrderLine(quantity=1, sku=sku) for sku in skus]).order

    assert login.status_code == 200
    assert sorted(order.items.values_list("sku", flat=True)) == skus
    assert_stock_consistent()
