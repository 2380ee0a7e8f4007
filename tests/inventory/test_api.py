import uuid
from decimal import Decimal

import pytest
from django.core.management import call_command

from inventory.models import MovementKind, Product, StockMovement
from inventory.services import StockLine, stock_reserve
from tests.assertions import error_of

pytestmark = pytest.mark.django_db

PRODUCT_FIELDS = {
    "id",
    "sku",
    "name",
    "description",
    "price",
    "stock_quantity",
    "reserved_quantity",
    "version",
    "is_active",
    "created_at",
    "updated_at",
}
NEW_PRODUCT = {"name": "Industrial Widget A", "sku": "widget-a-001", "price": 150.00, "stock_quantity": 500}


@pytest.fixture(params=["admin", "inventory_manager"])
def any_staff_client(request, client_for, admin_user, inventory_manager):
    return client_for(admin_user if request.param == "admin" else inventory_manager)


# --- POST /products


def test_create_product_returns_the_product_and_books_a_receipt(any_staff_client):
    response = any_staff_client.post("/products", NEW_PRODUCT)

    assert response.status_code == 201
    body = response.json()
    assert set(body) == PRODUCT_FIELDS
    assert body["sku"] == "WIDGET-A-001"
    assert body["price"] == "150.00"
    assert (body["stock_quantity"], body["reserved_quantity"], body["version"], body["is_active"]) == (500, 0, 1, True)
    assert response["ETag"] == '"1"'
    (movement,) = StockMovement.objects.filter(product_id=body["id"])
    assert (movement.kind, movement.available_delta) == (MovementKind.RECEIPT, 500)


def test_create_product_with_trailing_slash(admin_client):
    assert admin_client.post("/products/", NEW_PRODUCT).status_code == 201


def test_create_product_is_refused_to_customers_and_anonymous(customer_client, api_client):
    refused = customer_client.post("/products", NEW_PRODUCT)
    anonymous = api_client.post("/products", NEW_PRODUCT)

    assert refused.status_code == 403
    assert error_of(refused)["code"] == "staff_required"
    assert anonymous.status_code == 401
    assert not Product.objects.exists()


def test_create_product_refuses_a_duplicate_sku_in_any_case(admin_client, product_factory):
    product_factory(sku="WIDGET-A-001")

    response = admin_client.post("/products", NEW_PRODUCT)

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "sku_taken"
    assert error["details"] == {"sku": "WIDGET-A-001"}
    assert Product.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"price": -1}, "price"),
        ({"price": "1.234"}, "price"),
        ({"price": "abc"}, "price"),
        ({"stock_quantity": -5}, "stock_quantity"),
        ({"stock_quantity": "many"}, "stock_quantity"),
        ({"sku": "a b"}, "sku"),
        ({"sku": ""}, "sku"),
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
    ],
)
def test_create_product_names_the_invalid_field(admin_client, change, field):
    response = admin_client.post("/products", {**NEW_PRODUCT, **change})

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert field in error["details"]["fields"]
    assert not Product.objects.exists()
    assert not StockMovement.objects.exists()


def test_create_product_requires_name_sku_and_price(admin_client):
    response = admin_client.post("/products", {})

    assert response.status_code == 400
    assert {"name", "sku", "price"} <= set(error_of(response)["details"]["fields"])


# --- GET /products


def test_list_products_is_paginated(customer_client, product_factory):
    product_factory.create_batch(25)

    first = customer_client.get("/products").json()
    second = customer_client.get("/products", {"page": 2}).json()

    assert set(first) == {"count", "next", "previous", "results"}
    assert first["count"] == 25
    assert len(first["results"]) == 20
    assert first["previous"] is None
    assert "page=2" in first["next"]
    assert len(second["results"]) == 5
    assert set(first["results"][0]) == PRODUCT_FIELDS


def test_list_products_page_size_is_capped_at_100(customer_client, product_factory):
    product_factory.create_batch(3)

    assert len(customer_client.get("/products", {"page_size": 2}).json()["results"]) == 2
    assert len(customer_client.get("/products", {"page_size": 1000}).json()["results"]) == 3


def test_list_products_needs_a_token(api_client):
    response = api_client.get("/products")

    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"


def test_customers_never_see_inactive_products(customer_client, manager_client, product_factory):
    active = product_factory(sku="ACTIVE-1")
    hidden = product_factory(sku="HIDDEN-1", is_active=False)

    customer_skus = {p["sku"] for p in customer_client.get("/products").json()["results"]}
    customer_inactive = customer_client.get("/products", {"is_active": "false"}).json()["results"]
    staff_skus = {p["sku"] for p in manager_client.get("/products").json()["results"]}

    assert customer_skus == {active.sku}
    assert customer_inactive == []
    assert staff_skus == {active.sku, hidden.sku}
    assert customer_client.get(f"/products/{hidden.pk}").status_code == 404
    assert manager_client.get(f"/products/{hidden.pk}").status_code == 200


@pytest.fixture
def catalogue(product_factory):
    return {
        "bolt": product_factory(sku="BOLT-10", name="Steel bolt", price=Decimal("1.50"), stock_quantity=0),
        "nut": product_factory(sku="NUT-10", name="Brass nut", price=Decimal("0.75"), stock_quantity=40),
        "gear": product_factory(sku="GEAR-XL", name="Large gear", price=Decimal("99.00"), stock_quantity=3),
        "old": product_factory(sku="OLD-1", name="Old bolt", price=Decimal("5.00"), is_active=False),
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"in_stock": "true"}, {"NUT-10", "GEAR-XL", "OLD-1"}),
        ({"in_stock": "false"}, {"BOLT-10"}),
        ({"search": "bolt"}, {"BOLT-10", "OLD-1"}),
        ({"search": "gear-x"}, {"GEAR-XL"}),
        ({"sku": "nut-10"}, {"NUT-10"}),
        ({"min_price": "1"}, {"BOLT-10", "GEAR-XL", "OLD-1"}),
        ({"max_price": "1.50"}, {"BOLT-10", "NUT-10"}),
        ({"min_price": "1", "max_price": "10"}, {"BOLT-10", "OLD-1"}),
        ({"is_active": "false"}, {"OLD-1"}),
    ],
)
def test_list_products_filters(manager_client, catalogue, params, expected):
    response = manager_client.get("/products", params)

    assert response.status_code == 200
    assert {p["sku"] for p in response.json()["results"]} == expected


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("price", ["NUT-10", "BOLT-10", "OLD-1", "GEAR-XL"]),
        ("-price", ["GEAR-XL", "OLD-1", "BOLT-10", "NUT-10"]),
        ("name", ["NUT-10", "GEAR-XL", "OLD-1", "BOLT-10"]),
        ("-stock_quantity", ["OLD-1", "NUT-10", "GEAR-XL", "BOLT-10"]),
        ("created_at", ["BOLT-10", "NUT-10", "GEAR-XL", "OLD-1"]),
    ],
)
def test_list_products_ordering(manager_client, catalogue, ordering, expected):
    results = manager_client.get("/products", {"ordering": ordering}).json()["results"]

    assert [p["sku"] for p in results] == expected


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"min_price": "abc"}, "min_price"),
        ({"in_stock": "maybe"}, "in_stock"),
        ({"ordering": "bogus"}, "ordering"),
    ],
)
def test_list_products_rejects_invalid_filters(manager_client, params, field):
    response = manager_client.get("/products", params)

    assert response.status_code == 400
    assert field in error_of(response)["details"]["fields"]


def test_list_products_rejects_an_out_of_range_page(manager_client, product):
    response = manager_client.get("/products", {"page": 99})

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


# --- GET /products/{id}


def test_get_product_carries_its_version_as_etag(customer_client, product):
    response = customer_client.get(f"/products/{product.pk}/")

    assert response.status_code == 200
    assert response.json()["id"] == product.pk
    assert response["ETag"] == '"1"'


@pytest.mark.parametrize("path", ["/products/999999", "/products/abc", "/products/99999999999999999999"])
def test_get_product_unknown_is_404(customer_client, path):
    response = customer_client.get(path)

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


# --- PATCH /products/{id}


def test_patch_product_changes_fields_and_bumps_version(any_staff_client, product):
    response = any_staff_client.patch(f"/products/{product.pk}", {"price": 160.00, "name": "Renamed"})

    assert response.status_code == 200
    body = response.json()
    assert (body["price"], body["name"], body["version"]) == ("160.00", "Renamed", 2)
    assert response["ETag"] == '"2"'
    assert Product.objects.get(pk=product.pk).price == Decimal("160.00")


@pytest.mark.parametrize("how", ["body", "header"])
def test_patch_product_accepts_the_current_version(manager_client, product, how):
    kwargs = {"HTTP_IF_MATCH": '"1"'} if how == "header" else {}
    body = {"description": "Updated"} | ({"version": 1} if how == "body" else {})

    response = manager_client.patch(f"/products/{product.pk}", body, **kwargs)

    assert response.status_code == 200
    assert response.json()["version"] == 2


@pytest.mark.parametrize("how", ["body", "header"])
def test_patch_product_with_a_stale_version_is_409(manager_client, product, how):
    manager_client.patch(f"/products/{product.pk}", {"name": "First edit"})
    kwargs = {"HTTP_IF_MATCH": '"1"'} if how == "header" else {}
    body = {"name": "Lost update"} | ({"version": 1} if how == "body" else {})

    response = manager_client.patch(f"/products/{product.pk}", body, **kwargs)

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "version_conflict"
    assert error["details"]["current_version"] == 2
    assert Product.objects.get(pk=product.pk).name == "First edit"


@pytest.mark.parametrize(
    ("field", "hint"),
    [("stock_quantity", "stock-adjustments"), ("reserved_quantity", "orders"), ("sku", "cannot change")],
)
def test_patch_product_refuses_fields_that_move_only_elsewhere(manager_client, product, field, hint):
    response = manager_client.patch(f"/products/{product.pk}", {field: 5, "name": "Nope"})

    assert response.status_code == 400
    messages = error_of(response)["details"]["fields"][field]
    assert hint in messages[0]
    refreshed = Product.objects.get(pk=product.pk)
    assert (refreshed.stock_quantity, refreshed.name, refreshed.version) == (100, product.name, 1)


def test_patch_product_rejects_a_malformed_if_match(manager_client, product):
    response = manager_client.patch(f"/products/{product.pk}", {"name": "x"}, HTTP_IF_MATCH="abc")

    assert response.status_code == 400
    assert "If-Match" in error_of(response)["details"]["fields"]


def test_patch_product_rejects_invalid_values(manager_client, product):
    response = manager_client.patch(f"/products/{product.pk}", {"price": -3})

    assert response.status_code == 400
    assert "price" in error_of(response)["details"]["fields"]


def test_patch_product_is_refused_to_customers(customer_client, product):
    response = customer_client.patch(f"/products/{product.pk}", {"price": 1})

    assert response.status_code == 403
    assert Product.objects.get(pk=product.pk).price == product.price


def test_put_product_is_not_allowed(manager_client, product):
    response = manager_client.put(f"/products/{product.pk}", NEW_PRODUCT)

    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


# --- POST /products/{id}/stock-adjustments and GET /products/{id}/stock-movements


def test_stock_adjustment_returns_the_movement_and_new_balances(any_staff_client, product):
    response = any_staff_client.post(f"/products/{product.pk}/stock-adjustments", {"delta": -30, "reason": "breakage"})

    assert response.status_code == 201
    body = response.json()
    assert body["movement"]["kind"] == "ADJUSTMENT"
    assert (body["movement"]["available_delta"], body["movement"]["available_after"]) == (-30, 70)
    assert body["movement"]["reason"] == "breakage"
    assert body["movement"]["actor_email"]
    assert (body["product"]["stock_quantity"], body["product"]["version"]) == (70, 2)


def test_stock_adjustment_below_zero_is_409_and_changes_nothing(manager_client, product):
    response = manager_client.post(f"/products/{product.pk}/stock-adjustments/", {"delta": -101, "reason": "count"})

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "stock_would_go_negative"
    assert error["details"] == {"product_id": product.pk, "sku": product.sku, "delta": -101, "available": 100}
    assert Product.objects.get(pk=product.pk).stock_quantity == 100
    assert StockMovement.objects.filter(product=product).count() == 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"delta": 0, "reason": "x"}, "delta"), ({"delta": 5}, "reason"), ({"delta": "ten", "reason": "x"}, "delta")],
)
def test_stock_adjustment_validates_input(manager_client, product, payload, field):
    response = manager_client.post(f"/products/{product.pk}/stock-adjustments", payload)

    assert response.status_code == 400
    assert field in error_of(response)["details"]["fields"]
    assert StockMovement.objects.filter(product=product).count() == 1


def test_stock_adjustment_is_refused_to_customers(customer_client, product):
    response = customer_client.post(f"/products/{product.pk}/stock-adjustments", {"delta": 5, "reason": "x"})

    assert response.status_code == 403
    assert Product.objects.get(pk=product.pk).stock_quantity == 100


def test_stock_adjustment_on_unknown_product_is_404(manager_client):
    assert manager_client.post("/products/424242/stock-adjustments", {"delta": 5, "reason": "x"}).status_code == 404


def test_stock_movements_list_the_ledger_newest_first(manager_client, product):
    manager_client.post(f"/products/{product.pk}/stock-adjustments", {"delta": -3, "reason": "first"})
    manager_client.post(f"/products/{product.pk}/stock-adjustments", {"delta": 7, "reason": "second"})

    response = manager_client.get(f"/products/{product.pk}/stock-movements")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [m["reason"] for m in body["results"]] == ["second", "first", "initial stock"]
    assert [m["available_after"] for m in body["results"]] == [104, 97, 100]


def test_stock_movements_are_staff_only(customer_client, product):
    assert customer_client.get(f"/products/{product.pk}/stock-movements").status_code == 403


# --- DELETE /products/{id}


def test_delete_product_without_orders_deletes_it(admin_client, product):
    response = admin_client.delete(f"/products/{product.pk}")

    assert response.status_code == 204
    assert admin_client.get(f"/products/{product.pk}").status_code == 404
    assert not StockMovement.objects.filter(product_id=product.pk).exists()


def test_delete_product_an_order_references_deactivates_it(admin_client, customer_client, product, customer):
    stock_reserve(lines=[StockLine(product.pk, 1)], actor=customer, order_id=uuid.uuid4())

    response = admin_client.delete(f"/products/{product.pk}")

    assert response.status_code == 204
    assert Product.objects.get(pk=product.pk).is_active is False
    assert customer_client.get("/products").json()["count"] == 0


@pytest.mark.parametrize("role", ["inventory_manager", "customer"])
def test_delete_product_is_admin_only(client_for, inventory_manager, customer, product, role):
    client = client_for(inventory_manager if role == "inventory_manager" else customer)

    response = client.delete(f"/products/{product.pk}")

    assert response.status_code == 403
    assert error_of(response)["code"] == "admin_required"
    assert Product.objects.filter(pk=product.pk, is_active=True).exists()


def test_ledger_stays_consistent_after_api_operations(admin_client, manager_client):
    product_id = admin_client.post("/products", NEW_PRODUCT).json()["id"]
    manager_client.post(f"/products/{product_id}/stock-adjustments", {"delta": -20, "reason": "count"})
    manager_client.post(f"/products/{product_id}/stock-adjustments", {"delta": -1000, "reason": "refused"})
    manager_client.patch(f"/products/{product_id}", {"price": 10})

    call_command("check_stock")
    assert Product.objects.get(pk=product_id).stock_quantity == 480


def test_product_list_query_count_does_not_grow_with_products(
    customer_client, product_factory, django_assert_max_num_queries
):
    counts = []
    for _ in range(2):
        product_factory.create_batch(10)
        with django_assert_max_num_queries(10) as captured:  # auth 1, throttle cache 6, count, page
            assert customer_client.get("/products", {"page_size": 100}).status_code == 200
        counts.append(len(captured))

    assert counts[0] == counts[1]
