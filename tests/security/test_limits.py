"""Resource limits answered in the error shape: lines per order and checkout, lines per cart, page sizes.

(Request bodies and the product and order lists' page sizes are in ``tests/config/test_limits.py``.)
"""

from decimal import Decimal

import pytest

from carts.models import Cart, CartItem, CartStatus
from catalog.models import Variant
from inventory.models import Reservation, StockMovement
from inventory.services.reservations import reservation_hold
from orders.models import Order, Payment, Shipment
from orders.services.payments import payment_create
from orders.services.shipments import shipment_cancel, shipment_create
from tests.assertions import error_of
from tests.carts.factories import CartFactory
from tests.catalog.factories import BrandFactory, CategoryFactory, DraftProductFactory
from tests.inventory.factories import StockedProductFactory, WarehouseFactory
from tests.stock import only_variant, stock_of

pytestmark = pytest.mark.django_db

MAX_LINES = 500


def books() -> tuple:
    """Orders, reservations and the ledger: what a refused order or checkout must leave as it was."""
    return (
        sorted(Order.objects.values_list("pk", flat=True)),
        sorted(Reservation.objects.values_list("pk", "status")),
        StockMovement.objects.count(),
    )


def too_many_lines(response, lines: int) -> dict:
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert (error["code"], error["details"]) == ("too_many_lines", {"max_lines": MAX_LINES, "lines": lines})
    return error


def extra_variants(count: int) -> list[Variant]:
    """``count`` variants of a draft product, written in one statement (test setup: no stock, not for sale)."""
    product = DraftProductFactory()
    return Variant.objects.bulk_create(
        [Variant(product=product, sku=f"BULK-{n:04d}", price=Decimal("1.00")) for n in range(count)]
    )


# --- POST /orders


@pytest.mark.parametrize("lines", [MAX_LINES + 1, 5_000])
def test_order_with_more_than_500_lines_is_too_many_lines(world, lines):
    """Counted as sent: 501 lines of one variant are 501 lines, although they would merge into one."""
    client = world.session("customer").client
    item = {"variant_id": world.variant.pk, "quantity": 1}
    before, stock = books(), stock_of(world.product)

    response = client.post("/orders", {"items": [item] * lines})

    error = too_many_lines(response, lines)
    assert error["message"] == f"An order takes at most {MAX_LINES} lines; this one has {lines}."
    assert books() == before
    assert stock_of(world.product) == stock


def test_order_lines_are_counted_before_they_are_read(world):
    """501 lines that are not even lines: the count answers first, no line is validated."""
    response = world.session("customer").client.post("/orders", {"items": [{"nonsense": True}] * (MAX_LINES + 1)})

    too_many_lines(response, MAX_LINES + 1)
    assert not Order.objects.exists()


def test_order_of_500_repeated_lines_is_placed_with_them_merged(world, product_factory):
    variant = only_variant(product := product_factory(stock_quantity=MAX_LINES))

    response = world.session("customer").client.post(
        "/orders", {"items": [{"variant_id": variant.pk, "quantity": 1}] * MAX_LINES}
    )

    assert response.status_code == 201, response.content
    assert [(item["variant_id"], item["quantity"]) for item in response.json()["items"]] == [(variant.pk, MAX_LINES)]
    assert stock_of(product) == (0, MAX_LINES)


# --- carts


def test_cart_with_more_lines_than_an_order_takes_is_refused_at_checkout(world):
    """A cart holds at most 500 lines (cart_full); should one hold more (a direct write, a limit lowered
    later), its checkout is refused the way POST /orders refuses it, and the cart stays OPEN."""
    cart = CartFactory(owner=world.customer, items=[(world.variant, 1)])
    CartItem.objects.bulk_create([CartItem(cart=cart, variant=v, quantity=1) for v in extra_variants(MAX_LINES)])
    before = books()

    response = world.session("customer").client.post(f"/carts/{cart.pk}/checkout")

    error = too_many_lines(response, MAX_LINES + 1)
    assert error["message"] == f"An order takes at most {MAX_LINES} lines; this cart has {MAX_LINES + 1}."
    cart.refresh_from_db()
    assert (cart.status, cart.order_id, cart.items.count()) == (CartStatus.OPEN, None, MAX_LINES + 1)
    assert books() == before


def test_cart_of_500_lines_takes_no_new_variant(world, product_factory):
    cart = CartFactory(owner=world.customer, items=[(world.variant, 1)])
    CartItem.objects.bulk_create([CartItem(cart=cart, variant=v, quantity=1) for v in extra_variants(MAX_LINES - 1)])
    newcomer = only_variant(product_factory())
    client = world.session("customer").client
    lines_before = sorted(cart.items.values_list("variant_id", "quantity"))

    refused = client.post(f"/carts/{cart.pk}/items", {"variant_id": newcomer.pk, "quantity": 1})
    unchanged = sorted(cart.items.values_list("variant_id", "quantity"))
    more_of_a_line = client.post(f"/carts/{cart.pk}/items", {"variant_id": world.variant.pk, "quantity": 1})

    assert refused.status_code == 400, refused.content
    error = error_of(refused)
    assert (error["code"], error["details"]) == ("cart_full", {"cart_id": str(cart.pk), "max_lines": MAX_LINES})
    assert unchanged == lines_before
    assert more_of_a_line.status_code == 200, more_of_a_line.content
    assert cart.items.get(variant=world.variant).quantity == 2
    assert cart.items.count() == MAX_LINES


# --- page sizes of the lists: at most 100 a page


def _carts(world) -> str:
    for _ in range(101):
        Cart.objects.create(owner=world.customer)
    return "customer"


def _payments(world) -> str:
    order = world.new_order()
    for _ in range(101):
        payment_create(order_id=order.pk, actor=world.customer)
    assert Payment.objects.count() == 101
    return "customer"


def _shipments(world) -> str:
    order = world.new_order(paid=True)
    for _ in range(101):
        shipment_cancel(shipment_id=shipment_create(order_id=order.pk, actor=world.admin).pk, actor=world.admin)
    assert Shipment.objects.count() == 101
    return "customer"


def _warehouses(world) -> str:
    WarehouseFactory.create_batch(101)
    return "manager"


def _locations(world) -> str:
    WarehouseFactory.create_batch(101)  # each with its DEFAULT location
    return "manager"


def _holds(world, count: int) -> None:
    variant = only_variant(StockedProductFactory(stock_quantity=count))
    for _ in range(count):  # each hold is a reservation and a ledger row
        reservation_hold(
            sku=variant.sku, quantity=1, location_id=world.main_location.pk, reference="r", actor=world.admin
        )


def _movements(world) -> str:
    _holds(world, 101)
    return "manager"


def _reservations(world) -> str:
    _holds(world, 101)
    return "admin"


def _brands(world) -> str:
    BrandFactory.create_batch(101)
    return "customer"


def _categories(world) -> str:
    CategoryFactory.create_batch(101)
    return "customer"


LISTS = {
    "/carts": _carts,
    "/payments": _payments,
    "/shipments": _shipments,
    "/warehouses": _warehouses,
    "/locations": _locations,
    "/stock/movements": _movements,
    "/stock/reservations": _reservations,
    "/brands": _brands,
    "/categories": _categories,
}


@pytest.mark.parametrize("page_size", ["101", "1000", "100000000000000000000"])
@pytest.mark.parametrize("path", list(LISTS))
def test_list_page_size_is_clamped_to_100(world, path, page_size):
    role = LISTS[path](world)

    response = world.session(role).client.get(path, {"page_size": page_size})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] >= 101
    assert len(body["results"]) == 100
    assert "page=2" in body["next"]


@pytest.mark.parametrize("page_size", ["0", "-5", "many", ""])
def test_unusable_page_size_falls_back_to_the_default(world, page_size):
    _brands(world)

    body = world.session("customer").client.get("/brands", {"page_size": page_size}).json()

    assert (body["count"], len(body["results"])) == (101, 20)
