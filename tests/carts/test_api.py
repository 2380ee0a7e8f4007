"""``/carts`` through the API: every endpoint, role and refusal; a cart never touches stock."""

import re
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from carts.models import Cart, CartItem, CartStatus
from catalog.services.products import product_archive, product_publish, product_update
from catalog.services.variants import variant_update
from inventory.services.locations import default_location
from inventory.services.receipts import ReceiptLine, stock_receive
from inventory.services.warehouses import warehouse_update
from orders.models import Order, OrderStatus
from tests.assertions import error_of, field_errors
from tests.carts.helpers import cart_state, stock_books
from tests.stock import assert_stock_consistent, rows_of

pytestmark = pytest.mark.django_db

CART_FIELDS = {"id", "status", "currency", "total", "items", "order_id", "created_at", "updated_at", "checked_out_at"}
LINE_FIELDS = {
    "variant_id",
    "quantity",
    "sku",
    "product_name",
    "variant_name",
    "unit_price",
    "line_total",
    "available",
    "sellable",
}


def line(variant, quantity: int, *, available: int, sellable: bool = True, **overrides) -> dict:
    """A cart line as the API renders it, from the variant as it is now."""
    return {
        "variant_id": variant.pk,
        "quantity": quantity,
        "sku": variant.sku,
        "product_name": variant.product.name,
        "variant_name": variant.name,
        "unit_price": str(variant.price),
        "line_total": str(variant.price * quantity),
        "available": available,
        "sellable": sellable,
        **overrides,
    }


def call(client, method: str, path: str, body=None, **headers):
    if body is None:
        return getattr(client, method)(path, **headers)
    return getattr(client, method)(path, body, format="json", **headers)


# Every /carts endpoint: (method, path, body); {id} is a cart, {variant} a variant in it.
ENDPOINTS = [
    ("post", "/carts", None),
    ("get", "/carts", None),
    ("get", "/carts/{id}", None),
    ("post", "/carts/{id}/items", {"variant_id": "{variant}", "quantity": 1}),
    ("put", "/carts/{id}/items/{variant}", {"quantity": 3}),
    ("delete", "/carts/{id}/items/{variant}", None),
    ("post", "/carts/{id}/clear", None),
    ("post", "/carts/{id}/checkout", None),
]
CART_ENDPOINTS = [endpoint for endpoint in ENDPOINTS if "{id}" in endpoint[1]]
CHANGES = [endpoint for endpoint in CART_ENDPOINTS if endpoint[0] != "get"]


def request_to(client, endpoint, *, cart, variant, **headers):
    method, path, body = endpoint
    if body is not None:
        body = {key: variant.pk if value == "{variant}" else value for key, value in body.items()}
    return call(client, method, path.format(id=cart.pk, variant=variant.pk), body, **headers)


def cart_queries(queries) -> list[str]:
    """The table each query of the cart's own reads names first (authentication and throttling left out)."""
    tables = [re.search(r'"(\w+)"\."', query["sql"]) for query in queries.captured_queries]
    infrastructure = {"django_cache", "django_session", "accounts_user"}
    return [table.group(1) for table in tables if table and table.group(1) not in infrastructure]


# --- POST /carts, GET /carts/{id}


def test_create_cart_answers_201_with_an_empty_cart(customer_client, customer):
    response = customer_client.post("/carts")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == CART_FIELDS
    cart = Cart.objects.get()
    assert (body["id"], body["status"], body["currency"], body["total"], body["items"]) == (
        str(cart.pk),
        "OPEN",
        "USD",
        "0.00",
        [],
    )
    assert (body["order_id"], body["checked_out_at"]) == (None, None)
    assert cart.owner == customer


def test_create_cart_with_a_trailing_slash_and_an_empty_body(customer_client):
    response = customer_client.post("/carts/", {}, format="json")

    assert response.status_code == 201
    assert Cart.objects.filter(pk=response.json()["id"]).exists()


@pytest.mark.parametrize("body", [{"items": [{"variant_id": 1, "quantity": 1}]}, {"total": "0.01"}, [1]])
def test_create_cart_refuses_a_body(customer_client, body):
    response = customer_client.post("/carts", body, format="json")

    assert response.status_code == 400
    assert error_of(response)["code"] == "validation_error"
    assert not Cart.objects.exists()


def test_get_cart_reads_names_prices_and_availability_live(customer_client, customer, cart_factory, widget, gadget):
    cart = cart_factory(owner=customer, items=[(widget, 2), (gadget, 3)])
    variant_update(variant_id=widget.pk, changes={"price": Decimal("120.00"), "name": "Blue"}, actor=None)
    product_update(product_id=gadget.product_id, changes={"name": "Gadget B2"}, actor=None)
    stock_receive(warehouse_id=default_location().warehouse_id, lines=[ReceiptLine(gadget.sku, 5)], actor=None)
    widget.refresh_from_db()
    gadget.refresh_from_db()

    response = customer_client.get(f"/carts/{cart.pk}")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == CART_FIELDS
    assert all(set(item) == LINE_FIELDS for item in body["items"])
    assert body["items"] == [
        line(widget, 2, available=500, variant_name="Blue", unit_price="120.00", line_total="240.00"),
        line(gadget, 3, available=15, product_name="Gadget B2", unit_price="9.99", line_total="29.97"),
    ]
    assert (body["status"], body["currency"], body["total"]) == ("OPEN", "USD", "269.97")


def test_get_cart_shows_unsellable_lines_outside_the_total(
    customer_client, customer, cart_factory, widget, gadget, draft_product_factory, variant_factory
):
    shirt = draft_product_factory(name="Shirt")
    small, medium = variant_factory(product=shirt, sku="SHIRT-S", name="S"), variant_factory(product=shirt, name="M")
    product_publish(product_id=shirt.pk, actor=None)
    cart = cart_factory(owner=customer, items=[(widget, 1), (gadget, 2), (small, 1), (medium, 4)])
    product_archive(product_id=gadget.product_id)
    variant_update(variant_id=small.pk, changes={"is_active": False}, actor=None)
    for variant in (widget, gadget, small, medium):
        variant.refresh_from_db()

    response = customer_client.get(f"/carts/{cart.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["items"] == [
        line(widget, 1, available=500),
        line(gadget, 2, available=10, sellable=False),
        line(small, 1, available=0, sellable=False),
        line(medium, 4, available=0),  # sellable, but short: the shortfall shows only in ``available``
    ]
    assert body["total"] == "190.00"  # widget 150.00 + medium 4 x 10.00


def test_available_counts_active_locations_of_active_warehouses_only(
    customer_client, customer, cart_factory, widget, warehouse_factory
):
    west, east = warehouse_factory(code="WEST"), warehouse_factory(code="EAST")
    stock_receive(warehouse_id=west.pk, lines=[ReceiptLine(widget.sku, 7)], actor=None)
    stock_receive(warehouse_id=east.pk, lines=[ReceiptLine(widget.sku, 40)], actor=None)
    warehouse_update(warehouse_id=east.pk, changes={"is_active": False}, actor=None)
    cart = cart_factory(owner=customer, items=[(widget, 1)])

    body = customer_client.get(f"/carts/{cart.pk}").json()

    assert body["items"][0]["available"] == 507


def test_get_cart_takes_the_same_queries_for_one_line_or_thirty(
    client_for, user_factory, cart_factory, draft_product_factory, variant_factory
):
    product = draft_product_factory()
    variants = [variant_factory(product=product) for _ in range(30)]
    product_publish(product_id=product.pk, actor=None)
    one, thirty = user_factory(), user_factory()
    small = cart_factory(owner=one, items=[(variants[0], 1)])
    large = cart_factory(owner=thirty, items=[(variant, 2) for variant in variants])
    clients = {one: client_for(one), thirty: client_for(thirty)}

    counts = []
    for owner, cart in ((one, small), (thirty, large)):
        with CaptureQueriesContext(connection) as queries:
            response = clients[owner].get(f"/carts/{cart.pk}")
        assert response.status_code == 200
        counts.append(len(queries))
        assert cart_queries(queries) == ["carts_cart", "carts_cartitem", "catalog_variant"]

    assert len(response.json()["items"]) == 30
    assert counts[0] == counts[1]


# --- GET /carts


def test_list_carts_shows_the_callers_own_newest_first(
    customer_client, customer, user_factory, cart_factory, widget, place_order
):
    first = cart_factory(owner=customer, items=[(widget, 1)])
    second = cart_factory(owner=customer)
    cart_factory(owner=user_factory(), items=[(widget, 3)])

    response = customer_client.get("/carts")

    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (2, None, None)
    assert [cart["id"] for cart in body["results"]] == [str(second.pk), str(first.pk)]
    assert body["results"][1]["items"] == [line(widget, 1, available=500)]
    assert body["results"][1]["total"] == "150.00"


def test_list_carts_filters_by_status_and_paginates(customer_client, customer, cart_factory, widget):
    carts = [cart_factory(owner=customer, items=[(widget, 1)]) for _ in range(3)]
    assert customer_client.post(f"/carts/{carts[0].pk}/checkout").status_code == 201

    checked_out = customer_client.get("/carts?status=checked_out").json()
    page = customer_client.get("/carts?status=OPEN&page_size=1").json()

    assert [cart["id"] for cart in checked_out["results"]] == [str(carts[0].pk)]
    assert checked_out["results"][0]["status"] == "CHECKED_OUT"
    assert (page["count"], [cart["id"] for cart in page["results"]]) == (2, [str(carts[2].pk)])
    assert page["next"] is not None


def test_list_carts_refuses_an_unknown_status(customer_client):
    response = customer_client.get("/carts?status=ABANDONED")

    assert "status" in field_errors(response)


def test_list_carts_takes_the_same_queries_for_one_cart_or_ten(client_for, user_factory, cart_factory, widget, gadget):
    one, ten = user_factory(), user_factory()
    cart_factory(owner=one, items=[(widget, 1)])
    for _ in range(10):
        cart_factory(owner=ten, items=[(widget, 1), (gadget, 2)])

    counts = []
    for owner in (one, ten):
        client = client_for(owner)
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/carts")
        assert response.status_code == 200
        counts.append(len(queries))
        assert cart_queries(queries) == ["carts_cart", "carts_cart", "carts_cartitem", "catalog_variant"]

    assert response.json()["count"] == 10
    assert counts[0] == counts[1]


# --- POST /carts/{id}/items, PUT and DELETE /carts/{id}/items/{variant_id}, POST /carts/{id}/clear


def test_add_item_answers_the_cart_and_adding_again_increases(customer_client, customer, cart_factory, widget, gadget):
    cart = cart_factory(owner=customer)

    first = customer_client.post(f"/carts/{cart.pk}/items", {"variant_id": widget.pk, "quantity": 2})
    customer_client.post(f"/carts/{cart.pk}/items", {"variant_id": gadget.pk, "quantity": 1})
    again = customer_client.post(f"/carts/{cart.pk}/items", {"variant_id": widget.pk, "quantity": 3})

    assert first.status_code == 200
    assert first.json()["items"] == [line(widget, 2, available=500)]
    assert again.status_code == 200
    assert again.json()["items"] == [line(widget, 5, available=500), line(gadget, 1, available=10)]
    assert again.json()["total"] == "759.99"
    assert list(CartItem.objects.order_by("variant_id").values_list("variant_id", "quantity")) == sorted(
        [(widget.pk, 5), (gadget.pk, 1)]
    )


def test_add_item_up_to_the_line_limit(customer_client, customer, cart_factory, widget):
    cart = cart_factory(owner=customer, items=[(widget, 9_999)])

    response = customer_client.post(f"/carts/{cart.pk}/items", {"variant_id": widget.pk, "quantity": 1})

    assert response.status_code == 200
    assert response.json()["items"][0]["quantity"] == 10_000


def test_add_item_refuses_to_take_a_line_above_the_limit(customer_client, customer, cart_factory, widget):
    cart = cart_factory(owner=customer, items=[(widget, 9_000)])
    before, books = cart_state(cart), stock_books()

    response = customer_client.post(f"/carts/{cart.pk}/items", {"variant_id": widget.pk, "quantity": 1_001})

    assert response.status_code == 400
    assert error_of(response)["details"] == {
        "fields": {"quantity": ["A line holds 1 to 10000 units; this one would hold 10001."]}
    }
    assert error_of(response)["code"] == "validation_error"
    assert (cart_state(cart), stock_books()) == (before, books)


BAD_QUANTITIES = [0, -1, 10_001, 1.5, 2.0, "2", "many", True, None, [1], {"n": 1}]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        *[({"variant_id": "{variant}", "quantity": quantity}, "quantity") for quantity in BAD_QUANTITIES],
        ({"variant_id": "{variant}"}, "quantity"),
        ({"quantity": 1}, "variant_id"),
        ({"variant_id": 0, "quantity": 1}, "variant_id"),
        ({"variant_id": -5, "quantity": 1}, "variant_id"),
        ({"variant_id": 2**63, "quantity": 1}, "variant_id"),
        ({"variant_id": "abc", "quantity": 1}, "variant_id"),
        ({"variant_id": 1.5, "quantity": 1}, "variant_id"),
        ({"variant_id": "{variant}", "quantity": 1, "unit_price": "0.01"}, "unit_price"),
        ({"variant_id": "{variant}", "quantity": 1, "sku": "CHEAP"}, "sku"),
        ([{"variant_id": "{variant}", "quantity": 1}], "non_field_errors"),
    ],
)
def test_add_item_refuses_bad_input(customer_client, customer, cart_factory, widget, body, field):
    cart = cart_factory(owner=customer, items=[(widget, 2)])
    before, books = cart_state(cart), stock_books()
    if isinstance(body, dict):
        body = {key: widget.pk if value == "{variant}" else value for key, value in body.items()}
    else:
        body = [{**item, "variant_id": widget.pk} for item in body]

    response = customer_client.post(f"/carts/{cart.pk}/items", body, format="json")

    assert field in field_errors(response)
    assert (cart_state(cart), stock_books()) == (before, books)


def test_add_item_refuses_an_unknown_variant(customer_client, customer, cart_factory, widget):
    cart = cart_factory(owner=customer, items=[(widget, 2)])
    before = cart_state(cart)
    missing = widget.pk + 1_000

    response = customer_client.post(f"/carts/{cart.pk}/items", {"variant_id": missing, "quantity": 1})

    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["message"], error["details"]) == (
        "products_unavailable",
        "Some products do not exist or are not for sale.",
        {"variant_ids": [missing]},
    )
    assert cart_state(cart) == before


@pytest.mark.parametrize("why", ["draft", "archived", "inactive"])
def test_add_item_refuses_a_variant_not_for_sale_like_an_unknown_one(
    customer_client, customer, cart_factory, widget, draft_product_factory, variant_factory, why
):
    if why == "draft":
        variant = variant_factory(product=draft_product_factory())
    elif why == "archived":
        variant = variant_factory(product=draft_product_factory())
        product_archive(product_id=variant.product_id)
    else:
        variant = variant_factory(product=widget.product)
        variant_update(variant_id=variant.pk, changes={"is_active": False}, actor=None)
    cart = cart_factory(owner=customer)
    before = cart_state(cart)

    response = customer_client.post(f"/carts/{cart.pk}/items", {"variant_id": variant.pk, "quantity": 1})

    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["details"]) == ("products_unavailable", {"variant_ids": [variant.pk]})
    assert cart_state(cart) == before


def test_add_item_again_refuses_a_variant_no_longer_for_sale(customer_client, customer, cart_factory, gadget):
    cart = cart_factory(owner=customer, items=[(gadget, 1)])
    product_archive(product_id=gadget.product_id)
    before = cart_state(cart)

    response = customer_client.post(f"/carts/{cart.pk}/items", {"variant_id": gadget.pk, "quantity": 1})

    assert response.status_code == 400
    assert error_of(response)["code"] == "products_unavailable"
    assert cart_state(cart) == before


def test_add_item_refuses_a_line_past_the_cart_limit(
    customer_client, customer, cart_factory, widget, gadget, monkeypatch
):
    monkeypatch.setattr("carts.services.carts.MAX_CART_LINES", 1)
    cart = cart_factory(owner=customer, items=[(widget, 1)])
    before = cart_state(cart)

    refused = customer_client.post(f"/carts/{cart.pk}/items", {"variant_id": gadget.pk, "quantity": 1})
    assert cart_state(cart) == before
    same_line = customer_client.post(f"/carts/{cart.pk}/items", {"variant_id": widget.pk, "quantity": 1})

    assert refused.status_code == 400
    error = error_of(refused)
    assert (error["code"], error["details"]) == ("cart_full", {"cart_id": str(cart.pk), "max_lines": 1})
    assert same_line.status_code == 200
    assert same_line.json()["items"] == [line(widget, 2, available=500)]


def test_update_item_sets_the_quantity(customer_client, customer, cart_factory, widget, gadget):
    cart = cart_factory(owner=customer, items=[(widget, 2), (gadget, 1)])

    response = customer_client.put(f"/carts/{cart.pk}/items/{widget.pk}/", {"quantity": 7})

    assert response.status_code == 200
    assert response.json()["items"] == [line(widget, 7, available=500), line(gadget, 1, available=10)]
    assert response.json()["total"] == "1059.99"


def test_update_item_of_an_unsellable_line_is_allowed(customer_client, customer, cart_factory, gadget):
    cart = cart_factory(owner=customer, items=[(gadget, 4)])
    product_archive(product_id=gadget.product_id)

    response = customer_client.put(f"/carts/{cart.pk}/items/{gadget.pk}", {"quantity": 1})

    assert response.status_code == 200
    assert (response.json()["items"][0]["quantity"], response.json()["items"][0]["sellable"]) == (1, False)


@pytest.mark.parametrize("variant_id", ["other", "unknown", "huge"])
def test_update_item_not_in_the_cart_is_404(customer_client, customer, cart_factory, widget, gadget, variant_id):
    cart = cart_factory(owner=customer, items=[(widget, 2)])
    before = cart_state(cart)
    missing = {"other": gadget.pk, "unknown": gadget.pk + 1_000, "huge": 10**19}[variant_id]

    response = customer_client.put(f"/carts/{cart.pk}/items/{missing}", {"quantity": 1})

    assert response.status_code == 404
    error = error_of(response)
    assert (error["code"], error["message"], error["details"]) == (
        "not_found",
        "This variant is not in the cart.",
        {"cart_id": str(cart.pk), "variant_id": missing},
    )
    assert cart_state(cart) == before


@pytest.mark.parametrize("quantity", BAD_QUANTITIES)
def test_update_item_refuses_bad_quantities(customer_client, customer, cart_factory, widget, quantity):
    cart = cart_factory(owner=customer, items=[(widget, 2)])
    before = cart_state(cart)

    response = customer_client.put(f"/carts/{cart.pk}/items/{widget.pk}", {"quantity": quantity}, format="json")

    assert "quantity" in field_errors(response)
    assert cart_state(cart) == before


def test_update_item_refuses_a_variant_id_in_the_body(customer_client, customer, cart_factory, widget, gadget):
    cart = cart_factory(owner=customer, items=[(widget, 2)])

    response = customer_client.put(f"/carts/{cart.pk}/items/{widget.pk}", {"quantity": 1, "variant_id": gadget.pk})

    assert field_errors(response) == {"variant_id": ["The variant is named by the URL."]}
    assert cart_state(cart)[-1] == [(widget.pk, 2)]


def test_remove_item_drops_the_line(customer_client, customer, cart_factory, widget, gadget):
    cart = cart_factory(owner=customer, items=[(widget, 2), (gadget, 1)])

    response = customer_client.delete(f"/carts/{cart.pk}/items/{widget.pk}")

    assert response.status_code == 200
    assert response.json()["items"] == [line(gadget, 1, available=10)]
    assert response.json()["total"] == "9.99"


def test_remove_item_not_in_the_cart_is_404(customer_client, customer, cart_factory, widget, gadget):
    cart = cart_factory(owner=customer, items=[(widget, 2)])
    before = cart_state(cart)

    response = customer_client.delete(f"/carts/{cart.pk}/items/{gadget.pk}")

    assert response.status_code == 404
    assert error_of(response)["details"] == {"cart_id": str(cart.pk), "variant_id": gadget.pk}
    assert cart_state(cart) == before


def test_clear_empties_the_cart(customer_client, customer, cart_factory, widget, gadget):
    cart = cart_factory(owner=customer, items=[(widget, 2), (gadget, 1)])

    response = customer_client.post(f"/carts/{cart.pk}/clear")
    again = customer_client.post(f"/carts/{cart.pk}/clear")

    assert response.status_code == 200
    assert (response.json()["items"], response.json()["total"], response.json()["status"]) == ([], "0.00", "OPEN")
    assert again.status_code == 200
    assert not CartItem.objects.exists()


# --- who may call what


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e[0]} {e[1]}")
def test_staff_get_403_on_every_cart_endpoint(client_for, staff_user, customer, cart_factory, widget, endpoint):
    cart = cart_factory(owner=customer, items=[(widget, 2)])
    before, books, carts = cart_state(cart), stock_books(), Cart.objects.count()

    response = request_to(client_for(staff_user), endpoint, cart=cart, variant=widget)

    assert response.status_code == 403
    error = error_of(response)
    assert (error["code"], error["message"]) == ("customer_required", "Only customers may do this.")
    assert (cart_state(cart), stock_books(), Cart.objects.count()) == (before, books, carts)
    assert not Order.objects.exists()


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e[0]} {e[1]}")
def test_anonymous_callers_get_401_on_every_cart_endpoint(api_client, customer, cart_factory, widget, endpoint):
    cart = cart_factory(owner=customer, items=[(widget, 2)])
    before, carts = cart_state(cart), Cart.objects.count()

    response = request_to(api_client, endpoint, cart=cart, variant=widget)

    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert (cart_state(cart), Cart.objects.count()) == (before, carts)


@pytest.mark.parametrize("endpoint", CART_ENDPOINTS, ids=lambda e: f"{e[0]} {e[1]}")
def test_another_customers_cart_is_404_like_a_missing_one(
    customer_client, user_factory, cart_factory, widget, endpoint
):
    theirs = cart_factory(owner=user_factory(), items=[(widget, 2)])
    before, books = cart_state(theirs), stock_books()
    missing = Cart(pk=uuid.uuid4())

    response = request_to(customer_client, endpoint, cart=theirs, variant=widget)
    nothing = request_to(customer_client, endpoint, cart=missing, variant=widget)

    assert response.status_code == nothing.status_code == 404
    error, other = error_of(response), error_of(nothing)
    assert (error["code"], error["message"], error["details"]) == (
        "not_found",
        "Cart not found.",
        {"cart_id": str(theirs.pk)},
    )
    assert (other["code"], other["message"], other["details"]) == (
        "not_found",
        "Cart not found.",
        {"cart_id": str(missing.pk)},
    )
    assert (cart_state(theirs), stock_books()) == (before, books)
    assert not Order.objects.exists()


def test_another_customers_carts_are_not_listed(customer_client, user_factory, cart_factory):
    cart_factory(owner=user_factory())

    response = customer_client.get("/carts")

    assert (response.status_code, response.json()["count"], response.json()["results"]) == (200, 0, [])


@pytest.mark.parametrize("cart_id", ["not-a-cart", "0" * 36, "-" * 36, "12345678-1234-1234-1234-12345678901"])
def test_a_malformed_cart_id_is_404(customer_client, cart_id):
    response = customer_client.get(f"/carts/{cart_id}")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


# --- POST /carts/{id}/checkout


ORDER_FIELDS = {
    "id",
    "status",
    "subtotal",
    "shipping_amount",
    "total_amount",
    "currency",
    "customer_email",
    "created_at",
    "paid_at",
    "shipped_at",
    "cancelled_at",
    "expired_at",
    "items",
}


def test_checkout_places_the_order_at_catalog_prices(customer_client, customer, cart_factory, widget, gadget, settings):
    settings.SHIPPING_FLAT_RATE = Decimal("7.50")
    cart = cart_factory(owner=customer, items=[(widget, 2), (gadget, 3)])
    variant_update(
        variant_id=widget.pk, changes={"price": Decimal("140.00")}, actor=None
    )  # the price when checking out counts

    response = customer_client.post(f"/carts/{cart.pk}/checkout")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == ORDER_FIELDS
    order = Order.objects.get()
    assert (body["id"], body["status"], body["customer_email"]) == (str(order.pk), "PENDING", customer.email)
    assert (body["subtotal"], body["shipping_amount"], body["total_amount"]) == ("309.97", "7.50", "317.47")
    assert [(i["variant_id"], i["quantity"], i["unit_price_at_purchase"]) for i in body["items"]] == [
        (widget.pk, 2, "140.00"),
        (gadget.pk, 3, "9.99"),
    ]
    assert all(item["reservation_id"] is not None for item in body["items"])
    cart.refresh_from_db()
    assert (cart.status, cart.order_id) == (CartStatus.CHECKED_OUT, order.pk)
    assert cart.checked_out_at is not None
    assert (rows_of(widget), rows_of(gadget)) == ({"MAIN/DEFAULT": (500, 2)}, {"MAIN/DEFAULT": (10, 3)})
    shown = customer_client.get(f"/carts/{cart.pk}").json()
    assert (shown["status"], shown["order_id"], shown["items"][0]["available"]) == ("CHECKED_OUT", str(order.pk), 498)
    assert_stock_consistent()


def test_checkout_refuses_an_empty_cart(customer_client, customer, cart_factory):
    cart = cart_factory(owner=customer)
    before = cart_state(cart)

    response = customer_client.post(f"/carts/{cart.pk}/checkout")

    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["message"], error["details"]) == (
        "empty_cart",
        "The cart is empty: add items before checking out.",
        {"cart_id": str(cart.pk)},
    )
    assert cart_state(cart) == before
    assert not Order.objects.exists()


def _same_error_as_post_orders(client, cart, lines) -> dict:
    """Check out ``cart`` and POST /orders with the same lines: both answer the same 400; returns the error."""
    books = stock_books()
    from_cart = client.post(f"/carts/{cart.pk}/checkout")
    from_orders = client.post(
        "/orders", {"items": [{"variant_id": variant.pk, "quantity": quantity} for variant, quantity in lines]}
    )
    assert from_cart.status_code == from_orders.status_code == 400
    error, expected = error_of(from_cart), error_of(from_orders)
    assert (error["code"], error["message"], error["details"]) == (
        expected["code"],
        expected["message"],
        expected["details"],
    )
    assert not Order.objects.exists()
    assert stock_books() == books
    return error


def test_checkout_with_unsellable_lines_answers_like_post_orders(
    customer_client, customer, cart_factory, widget, gadget, draft_product_factory, variant_factory
):
    shirt = draft_product_factory(name="Shirt")
    small = variant_factory(product=shirt, sku="SHIRT-S")
    product_publish(product_id=shirt.pk, actor=None)
    cart = cart_factory(owner=customer, items=[(widget, 1), (gadget, 1), (small, 1)])
    product_archive(product_id=gadget.product_id)
    variant_update(variant_id=small.pk, changes={"is_active": False}, actor=None)
    before = cart_state(cart)

    error = _same_error_as_post_orders(customer_client, cart, [(widget, 1), (gadget, 1), (small, 1)])

    assert (error["code"], error["details"]) == ("products_unavailable", {"variant_ids": sorted([gadget.pk, small.pk])})
    assert cart_state(cart) == before


def test_checkout_with_short_lines_answers_like_post_orders(customer_client, customer, cart_factory, widget, gadget):
    cart = cart_factory(owner=customer, items=[(widget, 501), (gadget, 11)])
    before = cart_state(cart)

    error = _same_error_as_post_orders(customer_client, cart, [(widget, 501), (gadget, 11)])

    assert error["code"] == "insufficient_stock"
    assert sorted(
        (line["variant_id"], line["requested"], line["available"]) for line in error["details"]["lines"]
    ) == sorted([(widget.pk, 501, 500), (gadget.pk, 11, 10)])
    assert cart_state(cart) == before


@pytest.mark.parametrize("endpoint", CHANGES, ids=lambda e: f"{e[0]} {e[1]}")
def test_a_checked_out_cart_refuses_every_change(customer_client, customer, cart_factory, widget, endpoint):
    cart = cart_factory(owner=customer, items=[(widget, 2)])
    assert customer_client.post(f"/carts/{cart.pk}/checkout").status_code == 201
    before, books, order = cart_state(cart), stock_books(), Order.objects.get()

    response = request_to(customer_client, endpoint, cart=cart, variant=widget)

    assert response.status_code == 409
    error = error_of(response)
    assert (error["code"], error["details"]) == (
        "cart_checked_out",
        {"cart_id": str(cart.pk), "order_id": str(order.pk)},
    )
    assert (cart_state(cart), stock_books(), Order.objects.count()) == (before, books, 1)


def test_checkout_replayed_with_its_idempotency_key_answers_the_original_order(
    customer_client, customer, cart_factory, widget
):
    cart = cart_factory(owner=customer, items=[(widget, 2)])
    first = customer_client.post(f"/carts/{cart.pk}/checkout", HTTP_IDEMPOTENCY_KEY="checkout-1")
    assert customer_client.post(f"/orders/{first.json()['id']}/cancel").status_code == 200
    books = stock_books()

    again = customer_client.post(f"/carts/{cart.pk}/checkout", HTTP_IDEMPOTENCY_KEY="checkout-1")
    other_key = customer_client.post(f"/carts/{cart.pk}/checkout", HTTP_IDEMPOTENCY_KEY="checkout-2")
    no_key = customer_client.post(f"/carts/{cart.pk}/checkout")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()  # the original body, though the order has been cancelled since
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Order.objects.get().status == OrderStatus.CANCELLED
    for refused in (other_key, no_key):
        assert refused.status_code == 409
        assert error_of(refused)["code"] == "cart_checked_out"
    assert stock_books() == books
    assert Order.objects.count() == 1


@pytest.mark.parametrize("key", ["", " padded ", "x" * 256, "tab\there"])
def test_checkout_refuses_a_malformed_idempotency_key(customer_client, customer, cart_factory, widget, key):
    cart = cart_factory(owner=customer, items=[(widget, 2)])
    before, books = cart_state(cart), stock_books()

    response = customer_client.post(f"/carts/{cart.pk}/checkout", HTTP_IDEMPOTENCY_KEY=key)

    assert field_errors(response) == {"Idempotency-Key": ["Must be 1 to 255 printable characters."]}
    assert (cart_state(cart), stock_books()) == (before, books)
    assert not Order.objects.exists()


@pytest.mark.parametrize("same_items", [True, False])
def test_checkout_refuses_a_key_that_placed_another_order(
    customer_client, customer, cart_factory, widget, gadget, same_items
):
    items = [{"variant_id": widget.pk, "quantity": 2}] if same_items else [{"variant_id": gadget.pk, "quantity": 1}]
    assert customer_client.post("/orders", {"items": items}, HTTP_IDEMPOTENCY_KEY="k-1").status_code == 201
    cart = cart_factory(owner=customer, items=[(widget, 2)])
    before, books = cart_state(cart), stock_books()

    response = customer_client.post(f"/carts/{cart.pk}/checkout", HTTP_IDEMPOTENCY_KEY="k-1")

    assert response.status_code == 422
    error = error_of(response)
    assert (error["code"], error["details"]) == ("idempotency_key_reused", {"key": "k-1"})
    assert (cart_state(cart), stock_books(), Order.objects.count()) == (before, books, 1)


def test_checkout_refuses_a_body(customer_client, customer, cart_factory, widget, gadget):
    cart = cart_factory(owner=customer, items=[(widget, 2)])
    before = cart_state(cart)

    response = customer_client.post(f"/carts/{cart.pk}/checkout", {"items": [{"variant_id": gadget.pk, "quantity": 1}]})

    assert field_errors(response) == {"items": ["The order is made of the cart's lines."]}
    assert cart_state(cart) == before
    assert not Order.objects.exists()


# --- a cart never touches stock


def test_no_cart_call_but_checkout_changes_stock(customer_client, widget, gadget):
    books = stock_books()
    cart_id = customer_client.post("/carts").json()["id"]
    calls = [
        ("get", f"/carts/{cart_id}", None),
        ("get", "/carts", None),
        ("post", f"/carts/{cart_id}/items", {"variant_id": widget.pk, "quantity": 400}),
        ("post", f"/carts/{cart_id}/items", {"variant_id": gadget.pk, "quantity": 10}),
        ("post", f"/carts/{cart_id}/items", {"variant_id": widget.pk, "quantity": 100}),
        ("put", f"/carts/{cart_id}/items/{widget.pk}", {"quantity": 9_000}),  # more than there is: still no hold
        ("delete", f"/carts/{cart_id}/items/{gadget.pk}", None),
        ("post", f"/carts/{cart_id}/clear", None),
        ("post", f"/carts/{cart_id}/items", {"variant_id": widget.pk, "quantity": 3}),
    ]

    for method, path, body in calls:
        response = call(customer_client, method, path, body)
        assert response.status_code == 200, response.content
        assert stock_books() == books

    assert customer_client.post(f"/carts/{cart_id}/checkout").status_code == 201
    assert stock_books() != books
    assert rows_of(widget) == {"MAIN/DEFAULT": (500, 3)}
    assert_stock_consistent()


def test_a_cart_stores_references_only():
    """Seed 002: a cart stores no trusted names, prices, SKUs or currencies."""
    assert {field.name for field in CartItem._meta.get_fields()} == {"id", "cart", "variant", "quantity", "added_at"}
    assert {field.name for field in Cart._meta.get_fields()} == {
        "id",
        "owner",
        "status",
        "order",
        "created_at",
        "updated_at",
        "checked_out_at",
        "items",
    }
