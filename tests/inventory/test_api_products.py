"""The products API (seed 001's /products on catalog + stock): every endpoint, every role, every refusal,
and the ledger staying consistent.

Answers that issue 10 changes on purpose are marked "issue 10:" where they are asserted.
"""

import uuid
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from catalog.models import Product, ProductStatus, Variant
from inventory.models import Allocation, MovementKind, Reservation, Stock, StockMovement
from inventory.selectors import ledger_mismatches
from inventory.services.allocation import HoldLine, HoldRequest, stock_allocate
from orders.services.workflow import order_cancel, order_pay, order_ship
from tests.assertions import error_of, field_errors
from tests.inventory.helpers import VARIANT_FIELDS
from tests.stock import assert_stock_consistent, only_variant, rows_of, stock_of

pytestmark = pytest.mark.django_db

# issue 10: a product body gains slug, status, brand_id, category_id, currency, variants, images,
# published_at and archived_at.
PRODUCT_FIELDS = {
    "id",
    "sku",
    "name",
    "slug",
    "description",
    "status",
    "brand_id",
    "category_id",
    "currency",
    "price",
    "stock_quantity",
    "reserved_quantity",
    "version",
    "is_active",
    "variants",
    "images",
    "published_at",
    "archived_at",
    "created_at",
    "updated_at",
}
# issue 10: a ledger row gains sku, variant_id, warehouse_id, location_id, on_hand_delta, on_hand_after,
# reference, reservation_id and actor_id.
MOVEMENT_FIELDS = {
    "id",
    "product_id",
    "kind",
    "available_delta",
    "reserved_delta",
    "available_after",
    "reserved_after",
    "order_id",
    "actor_email",
    "reason",
    "created_at",
    "sku",
    "variant_id",
    "warehouse_id",
    "location_id",
    "on_hand_delta",
    "on_hand_after",
    "reference",
    "reservation_id",
    "actor_id",
}
NEW_PRODUCT = {"name": "Industrial Widget A", "sku": "widget-a-001", "price": 150.00, "stock_quantity": 500}

# name: (method, path, body, status on success)
ENDPOINTS = {
    "list": ("get", "/products", None, 200),
    "retrieve": ("get", "/products/{id}", None, 200),
    "create": ("post", "/products", NEW_PRODUCT, 201),
    "update": ("patch", "/products/{id}", {"name": "Changed"}, 200),
    "adjust": ("post", "/products/{id}/stock-adjustments", {"delta": 5, "reason": "count"}, 201),
    "movements": ("get", "/products/{id}/stock-movements", None, 200),
    "delete": ("delete", "/products/{id}", None, 204),
}
# role -> endpoint -> (status, error code) for the refused calls; anything absent is allowed
REFUSALS = {
    "admin": {},
    "inventory_manager": {"delete": (403, "admin_required")},
    "customer": {
        "create": (403, "staff_required"),
        "update": (403, "staff_required"),
        "adjust": (403, "staff_required"),
        "movements": (403, "staff_required"),
        "delete": (403, "admin_required"),
    },
    "anonymous": dict.fromkeys(ENDPOINTS, (401, "not_authenticated")),
}


def call(client, endpoint: str, product, slash: str = ""):
    method, path, body, _ = ENDPOINTS[endpoint]
    url = path.format(id=product.pk) + slash
    return getattr(client, method)(url, body) if body is not None else getattr(client, method)(url)


def db_state() -> tuple[list, ...]:
    """Every catalog, stock, ledger and reservation row, every column: equal before and after means nothing was
    written."""
    models = (Product, Variant, Stock, StockMovement, Reservation, Allocation)
    return tuple(list(model.objects.order_by("pk").values()) for model in models)


def movements_of(product) -> list[StockMovement]:
    return list(StockMovement.objects.filter(stock__variant__product_id=product.pk).order_by("pk"))


def hold(product, quantity: int, *, actor) -> Reservation:
    """Reserve units of a one-variant product for an order, through the allocation service (as an order does)."""
    with transaction.atomic():
        (reservation,) = stock_allocate(
            requests=[
                HoldRequest(
                    reference="test order",
                    lines=[HoldLine(variant=only_variant(product), quantity=quantity)],
                    order_id=uuid.uuid4(),
                )
            ],
            actor=actor,
        )
    return reservation


def skus(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [p["sku"] for p in response.json()["results"]]


@pytest.fixture
def any_staff_client(client_for, staff_user):
    return client_for(staff_user)


@pytest.fixture
def catalogue(product_factory):
    return {
        "bolt": product_factory(sku="BOLT-10", name="Steel bolt", price=Decimal("1.50"), stock_quantity=0),
        "nut": product_factory(sku="NUT-10", name="Brass nut", price=Decimal("0.75"), stock_quantity=40),
        "gear": product_factory(sku="GEAR-XL", name="Large gear", price=Decimal("99.00"), stock_quantity=3),
        "old": product_factory(sku="OLD-1", name="Old bolt", price=Decimal("5.00"), is_active=False),
    }


# --- routing and access, every endpoint


@pytest.mark.parametrize("slash", ["", "/"])
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_every_endpoint_answers_with_and_without_trailing_slash(admin_client, product, endpoint, slash):
    response = call(admin_client, endpoint, product, slash)

    assert response.status_code == ENDPOINTS[endpoint][3], response.content
    assert "Location" not in response  # answered, not redirected


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("role", list(REFUSALS))
def test_access_by_role(client_as, product, role, endpoint):
    client = client_as(role)
    before = db_state()

    response = call(client, endpoint, product)

    refusal = REFUSALS[role].get(endpoint)
    if refusal is None:
        assert response.status_code == ENDPOINTS[endpoint][3], response.content
    else:
        status, code = refusal
        assert response.status_code == status
        assert error_of(response)["code"] == code
        assert db_state() == before


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
    assert second["next"] is None
    assert second["previous"] is not None
    assert set(first["results"][0]) == PRODUCT_FIELDS
    assert {p["id"] for p in first["results"]}.isdisjoint({p["id"] for p in second["results"]})


@pytest.mark.parametrize(("page_size", "expected"), [("2", 2), ("100", 100), ("101", 100), ("1000", 100)])
def test_list_products_page_size_is_honoured_up_to_100(customer_client, product_factory, page_size, expected):
    product_factory.create_batch(105)

    body = customer_client.get("/products", {"page_size": page_size}).json()

    assert body["count"] == 105
    assert len(body["results"]) == expected
    assert body["next"] is not None


def test_list_products_rejects_an_out_of_range_page(manager_client, product):
    response = manager_client.get("/products", {"page": 99})

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize(("role", "sees_inactive"), [("admin", True), ("inventory_manager", True), ("customer", False)])
def test_list_products_shows_inactive_products_to_staff_only(client_as, catalogue, role, sees_inactive):
    listed = set(skus(client_as(role).get("/products")))

    active = {"BOLT-10", "NUT-10", "GEAR-XL"}
    assert listed == (active | {"OLD-1"} if sees_inactive else active)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"is_active": "false"}, set()),
        ({"is_active": "0"}, set()),
        ({"is_active": "true"}, {"BOLT-10", "NUT-10", "GEAR-XL"}),
        ({"search": "bolt"}, {"BOLT-10"}),
        ({"sku": "old-1"}, set()),
        ({"in_stock": "true"}, {"NUT-10", "GEAR-XL"}),
        ({"min_price": "4"}, {"GEAR-XL"}),
    ],
)
def test_customers_never_see_inactive_products_whatever_the_filter(customer_client, catalogue, params, expected):
    response = customer_client.get("/products", params)

    assert set(skus(response)) == expected
    assert response.json()["count"] == len(expected)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"BOLT-10", "NUT-10", "GEAR-XL", "OLD-1"}),
        ({"in_stock": "true"}, {"NUT-10", "GEAR-XL", "OLD-1"}),
        ({"in_stock": "1"}, {"NUT-10", "GEAR-XL", "OLD-1"}),
        ({"in_stock": "false"}, {"BOLT-10"}),
        ({"in_stock": "0"}, {"BOLT-10"}),
        ({"search": "bolt"}, {"BOLT-10", "OLD-1"}),
        ({"search": "BOLT"}, {"BOLT-10", "OLD-1"}),
        ({"search": "StEeL"}, {"BOLT-10"}),
        ({"search": "gear-x"}, {"GEAR-XL"}),
        ({"search": "ut-1"}, {"NUT-10"}),
        ({"search": "nothing-like-it"}, set()),
        ({"sku": "nut-10"}, {"NUT-10"}),
        ({"sku": "NUT-10"}, {"NUT-10"}),
        ({"sku": "nut"}, set()),
        ({"min_price": "1.50"}, {"BOLT-10", "GEAR-XL", "OLD-1"}),
        ({"max_price": "1.50"}, {"BOLT-10", "NUT-10"}),
        ({"min_price": "1", "max_price": "10"}, {"BOLT-10", "OLD-1"}),
        ({"is_active": "true"}, {"BOLT-10", "NUT-10", "GEAR-XL"}),
        ({"is_active": "false"}, {"OLD-1"}),
        ({"in_stock": "true", "is_active": "true", "max_price": "50"}, {"NUT-10"}),
    ],
)
def test_list_products_filters(manager_client, catalogue, params, expected):
    response = manager_client.get("/products", params)

    assert set(skus(response)) == expected
    assert response.json()["count"] == len(expected)


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("price", ["NUT-10", "BOLT-10", "OLD-1", "GEAR-XL"]),
        ("-price", ["GEAR-XL", "OLD-1", "BOLT-10", "NUT-10"]),
        ("name", ["NUT-10", "GEAR-XL", "OLD-1", "BOLT-10"]),
        ("-name", ["BOLT-10", "OLD-1", "GEAR-XL", "NUT-10"]),
        ("stock_quantity", ["BOLT-10", "GEAR-XL", "NUT-10", "OLD-1"]),
        ("-stock_quantity", ["OLD-1", "NUT-10", "GEAR-XL", "BOLT-10"]),
        ("created_at", ["BOLT-10", "NUT-10", "GEAR-XL", "OLD-1"]),
        ("-created_at", ["OLD-1", "GEAR-XL", "NUT-10", "BOLT-10"]),
    ],
)
def test_list_products_ordering(manager_client, catalogue, ordering, expected):
    assert skus(manager_client.get("/products", {"ordering": ordering})) == expected


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"min_price": "abc"}, "min_price"),
        ({"max_price": "abc"}, "max_price"),
        ({"min_price": "NaN"}, "min_price"),
        ({"in_stock": "maybe"}, "in_stock"),
        ({"in_stock": "yes"}, "in_stock"),
        ({"is_active": "maybe"}, "is_active"),
        ({"ordering": "bogus"}, "ordering"),
        ({"ordering": "sku"}, "ordering"),
        ({"ordering": "-reserved_quantity"}, "ordering"),
    ],
)
def test_list_products_rejects_invalid_filters(client_as, catalogue, params, field):
    for role in ("customer", "admin"):
        response = client_as(role).get("/products", params)

        assert field in field_errors(response)


def test_product_list_query_count_does_not_grow_with_products(
    customer_client, product_factory, django_assert_max_num_queries
):
    counts = []
    for batch in (5, 45):
        product_factory.create_batch(batch)
        # auth 1, throttle cache 6, count, page, then (issue 10) the variants and the images of the page: 11
        with django_assert_max_num_queries(11) as captured:
            response = customer_client.get("/products", {"page_size": 100})
        assert response.status_code == 200
        assert all(len(product["variants"]) == 1 for product in response.json()["results"])
        counts.append(len(captured))

    assert response.json()["count"] == 50
    assert counts[0] == counts[1]


# --- GET /products/{id}


@pytest.mark.parametrize("role", ["admin", "inventory_manager", "customer"])
def test_get_product_returns_it_with_its_version_as_etag(client_as, product, role):
    response = client_as(role).get(f"/products/{product.pk}")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == PRODUCT_FIELDS
    variant = only_variant(product)
    assert (body["id"], body["sku"], body["price"], body["stock_quantity"]) == (product.pk, variant.sku, "10.00", 100)
    assert (body["status"], body["currency"], body["reserved_quantity"], body["is_active"]) == (
        "PUBLISHED",
        "USD",
        0,
        True,
    )
    (rendered,) = body["variants"]
    assert set(rendered) == VARIANT_FIELDS
    assert (rendered["id"], rendered["sku"], rendered["price"], rendered["available"]) == (
        variant.pk,
        variant.sku,
        "10.00",
        100,
    )
    assert response["ETag"] == '"1"'


def test_get_product_etag_follows_the_version(manager_client, product):
    manager_client.patch(f"/products/{product.pk}", {"name": "Once"})
    manager_client.post(f"/products/{product.pk}/stock-adjustments", {"delta": 1, "reason": "count"})

    response = manager_client.get(f"/products/{product.pk}")

    # issue 10: stock changes no longer bump the version (it covers the product and its variants): 2, not 3
    assert response.json()["version"] == 2
    assert response["ETag"] == '"2"'
    assert response.json()["stock_quantity"] == 101


def test_get_inactive_product_is_404_for_customers_only(client_as, product_factory):
    hidden = product_factory(is_active=False)

    refused = client_as("customer").get(f"/products/{hidden.pk}")

    assert refused.status_code == 404
    assert error_of(refused)["code"] == "not_found"
    for role in ("admin", "inventory_manager"):
        response = client_as(role).get(f"/products/{hidden.pk}")
        assert response.status_code == 200
        assert response.json()["is_active"] is False


@pytest.mark.parametrize(
    "path", ["/products/999999", "/products/abc", "/products/999999999999999999", "/products/99999999999999999999"]
)
@pytest.mark.parametrize("role", ["admin", "customer"])
def test_get_product_unknown_is_404(client_as, role, path):
    response = client_as(role).get(path)

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


# --- POST /products


def test_create_product_returns_the_product_and_books_a_receipt(client_for, admin_user, inventory_manager):
    for user, sku in ((admin_user, "widget-a-001"), (inventory_manager, "widget-b-002")):
        response = client_for(user).post("/products", {**NEW_PRODUCT, "sku": sku})

        assert response.status_code == 201
        body = response.json()
        assert set(body) == PRODUCT_FIELDS
        assert body["sku"] == sku.upper()
        assert body["name"] == "Industrial Widget A"
        assert body["description"] == ""
        assert body["price"] == "150.00"
        assert (body["stock_quantity"], body["reserved_quantity"], body["version"], body["is_active"]) == (
            500,
            0,
            1,
            True,
        )
        assert (body["status"], body["slug"], body["published_at"] is not None) == (
            "PUBLISHED",
            "industrial-widget-a" if sku == "widget-a-001" else "industrial-widget-a-2",
            True,
        )
        assert response["ETag"] == '"1"'
        product = Product.objects.get(pk=body["id"])
        variant = only_variant(product)
        assert (variant.sku, variant.price, stock_of(product)) == (sku.upper(), Decimal("150.00"), (500, 0))
        assert rows_of(variant) == {"MAIN/DEFAULT": (500, 0)}
        (movement,) = movements_of(product)
        assert (movement.kind, movement.on_hand_delta, movement.reserved_delta) == (MovementKind.RECEIPT, 500, 0)
        assert (movement.on_hand_after, movement.reserved_after, movement.actor) == (500, 0, user)
    assert_stock_consistent()


def test_create_product_takes_description_and_is_active(admin_client, customer_client):
    response = admin_client.post(
        "/products", {**NEW_PRODUCT, "description": "Made of steel", "is_active": False, "price": "0"}
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["description"], body["is_active"], body["price"]) == ("Made of steel", False, "0.00")
    assert only_variant(Product.objects.get(pk=body["id"])).is_active is False
    assert customer_client.get("/products").json()["count"] == 0


@pytest.mark.parametrize("stock", [0, None])
def test_create_product_without_stock_writes_no_ledger_row(admin_client, stock):
    payload = {k: v for k, v in NEW_PRODUCT.items() if k != "stock_quantity"}
    if stock is not None:
        payload["stock_quantity"] = stock

    response = admin_client.post("/products", payload)

    assert response.status_code == 201
    assert response.json()["stock_quantity"] == 0
    assert not StockMovement.objects.exists()
    assert_stock_consistent()


@pytest.mark.parametrize("sku", ["widget-a-001", "Widget-A-001", "WIDGET-A-001", "  widget-a-001  "])
def test_create_product_refuses_a_duplicate_sku_in_any_case(admin_client, product_factory, sku):
    product_factory(sku="WIDGET-A-001")
    before = db_state()

    response = admin_client.post("/products", {**NEW_PRODUCT, "sku": sku})

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "sku_taken"
    assert error["details"] == {"sku": "WIDGET-A-001"}
    assert db_state() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"price": -1}, "price"),
        ({"price": "-0.01"}, "price"),
        ({"price": "1.234"}, "price"),
        ({"price": "abc"}, "price"),
        ({"price": "10000000000.00"}, "price"),
        ({"price": None}, "price"),
        ({"stock_quantity": -5}, "stock_quantity"),
        ({"stock_quantity": "many"}, "stock_quantity"),
        ({"stock_quantity": 1.5}, "stock_quantity"),
        ({"stock_quantity": 1_000_000_001}, "stock_quantity"),
        ({"sku": "a b"}, "sku"),
        ({"sku": "-abc"}, "sku"),
        ({"sku": "abc?"}, "sku"),
        ({"sku": "ÄBC"}, "sku"),
        ({"sku": ""}, "sku"),
        ({"sku": "x" * 65}, "sku"),
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"name": "n" * 201}, "name"),
        ({"description": None}, "description"),
        ({"is_active": "maybe"}, "is_active"),
    ],
)
def test_create_product_names_the_invalid_field(admin_client, change, field):
    response = admin_client.post("/products", {**NEW_PRODUCT, **change})

    assert set(field_errors(response)) == {field}
    assert not Product.objects.exists()
    assert not Variant.objects.exists()
    assert not StockMovement.objects.exists()


@pytest.mark.parametrize("missing", ["name", "sku", "price"])
def test_create_product_requires_name_sku_and_price(admin_client, missing):
    payload = {k: v for k, v in NEW_PRODUCT.items() if k != missing}

    response = admin_client.post("/products", payload)

    assert set(field_errors(response)) == {missing}
    assert not Product.objects.exists()


def test_create_product_with_an_empty_body_names_every_required_field(admin_client):
    response = admin_client.post("/products", {})

    assert response.status_code == 400
    # issue 10: only the name is required now (without a sku the product is a DRAFT with no variants)
    assert set(error_of(response)["details"]["fields"]) == {"name"}
    assert not Product.objects.exists()


def test_create_product_rejects_a_body_that_is_not_an_object(admin_client):
    response = admin_client.post("/products", [NEW_PRODUCT])

    assert response.status_code == 400
    assert error_of(response)["code"] == "validation_error"
    assert not Product.objects.exists()


# --- PATCH /products/{id}


def test_patch_product_changes_fields_and_bumps_version(any_staff_client, product):
    response = any_staff_client.patch(f"/products/{product.pk}", {"price": 160.00, "name": "Renamed"})

    assert response.status_code == 200
    body = response.json()
    assert set(body) == PRODUCT_FIELDS
    assert (body["price"], body["name"], body["version"]) == ("160.00", "Renamed", 2)
    assert response["ETag"] == '"2"'
    assert (body["variants"][0]["price"], body["stock_quantity"]) == ("160.00", 100)
    product.refresh_from_db()
    assert (only_variant(product).price, product.name, product.version, stock_of(product)) == (
        Decimal("160.00"),
        "Renamed",
        2,
        (100, 0),
    )
    assert len(movements_of(product)) == 1  # catalogue edits write no ledger row


def test_patch_product_bumps_the_version_by_one_on_each_change(manager_client, product):
    changes = [{"name": "One"}, {"description": "Two"}, {"price": "3.00"}, {"is_active": False}, {"is_active": True}]

    versions = []
    for change in changes:
        response = manager_client.patch(f"/products/{product.pk}", change)
        assert response.status_code == 200
        versions.append((response.json()["version"], response["ETag"]))

    assert versions == [(2, '"2"'), (3, '"3"'), (4, '"4"'), (5, '"5"'), (6, '"6"')]
    product.refresh_from_db()
    variant = only_variant(product)
    assert (product.name, product.description, variant.price, variant.is_active, product.version) == (
        "One",
        "Two",
        Decimal("3.00"),
        True,
        6,
    )


def test_patch_product_deactivating_hides_it_from_customers(admin_client, customer_client, product):
    response = admin_client.patch(f"/products/{product.pk}", {"is_active": False})

    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert customer_client.get("/products").json()["count"] == 0
    assert customer_client.get(f"/products/{product.pk}").status_code == 404


def test_patch_product_with_an_empty_body_changes_nothing(manager_client, product):
    before = db_state()

    response = manager_client.patch(f"/products/{product.pk}", {})

    assert response.status_code == 200
    assert response.json()["version"] == 1
    assert db_state() == before


@pytest.mark.parametrize(
    ("body_version", "if_match"),
    [(1, None), (None, '"1"'), (None, "1"), (None, 'W/"1"'), (None, "*"), (1, '"1"')],
)
def test_patch_product_accepts_the_current_version(manager_client, product, body_version, if_match):
    body = {"description": "Updated"} | ({"version": body_version} if body_version else {})
    headers = {"HTTP_IF_MATCH": if_match} if if_match else {}

    response = manager_client.patch(f"/products/{product.pk}", body, **headers)

    assert response.status_code == 200
    assert response.json()["version"] == 2
    assert Product.objects.get(pk=product.pk).description == "Updated"


@pytest.mark.parametrize(
    ("body_version", "if_match"),
    [(1, None), (None, '"1"'), (3, None), (None, '"3"'), (1, '"1"')],
)
def test_patch_product_with_a_stale_version_is_409_and_changes_nothing(manager_client, product, body_version, if_match):
    manager_client.patch(f"/products/{product.pk}", {"name": "First edit"})
    before = db_state()
    body = {"name": "Lost update"} | ({"version": body_version} if body_version else {})
    headers = {"HTTP_IF_MATCH": if_match} if if_match else {}

    response = manager_client.patch(f"/products/{product.pk}", body, **headers)

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "version_conflict"
    assert error["details"]["current_version"] == 2
    assert error["details"]["product_id"] == product.pk
    assert error["details"]["expected_version"] == (body_version or int(if_match.strip('"')))
    assert db_state() == before


@pytest.mark.parametrize(("body_version", "if_match"), [(2, '"1"'), (1, '"2"')])
def test_patch_product_is_409_when_either_the_body_version_or_if_match_is_stale(
    manager_client, product, body_version, if_match
):
    manager_client.patch(f"/products/{product.pk}", {"name": "First edit"})
    before = db_state()

    response = manager_client.patch(
        f"/products/{product.pk}", {"name": "Lost update", "version": body_version}, HTTP_IF_MATCH=if_match
    )

    assert response.status_code == 409
    assert error_of(response)["code"] == "version_conflict"
    assert db_state() == before


@pytest.mark.parametrize(
    ("field", "value", "hint"),
    [
        ("stock_quantity", 5, "stock-adjustments"),
        ("reserved_quantity", 5, "orders"),
        ("sku", "NEW-SKU", "cannot change"),
        ("colour", "red", "Unknown or read-only"),
        ("id", 42, "Unknown or read-only"),
    ],
)
def test_patch_product_refuses_fields_that_cannot_be_edited(manager_client, product, field, value, hint):
    before = db_state()

    response = manager_client.patch(f"/products/{product.pk}", {field: value, "name": "Nope"})

    errors = field_errors(response)
    assert set(errors) == {field}
    assert hint in errors[field][0]
    assert db_state() == before


@pytest.mark.parametrize("if_match", ["abc", '"v1"', '"1", "2"', "-1", '""'])
def test_patch_product_rejects_a_malformed_if_match(manager_client, product, if_match):
    before = db_state()

    response = manager_client.patch(f"/products/{product.pk}", {"name": "x"}, HTTP_IF_MATCH=if_match)

    assert "If-Match" in field_errors(response)
    assert db_state() == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"price": -3}, "price"),
        ({"price": "1.234"}, "price"),
        ({"price": "abc"}, "price"),
        ({"name": ""}, "name"),
        ({"name": "n" * 201}, "name"),
        ({"is_active": "maybe"}, "is_active"),
        ({"version": 0}, "version"),
        ({"version": "two"}, "version"),
    ],
)
def test_patch_product_rejects_invalid_values(manager_client, product, change, field):
    before = db_state()

    response = manager_client.patch(f"/products/{product.pk}", change)

    assert set(field_errors(response)) == {field}
    assert db_state() == before


def test_patch_unknown_product_is_404(manager_client):
    response = manager_client.patch("/products/424242", {"name": "x"})

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize("role", ["admin", "inventory_manager", "customer"])
def test_put_product_is_not_allowed(client_as, product, role):
    before = db_state()

    response = client_as(role).put(f"/products/{product.pk}", {**NEW_PRODUCT, "sku": only_variant(product).sku})

    assert response.status_code == (405 if role != "customer" else 403)
    if role != "customer":
        assert error_of(response)["code"] == "method_not_allowed"
    assert db_state() == before


# --- POST /products/{id}/stock-adjustments


def test_stock_adjustment_returns_the_movement_and_new_balances(client_for, admin_user, inventory_manager, product):
    expected_stock = 100
    location_id = Stock.objects.get(variant__product=product).location_id
    for user, delta in ((admin_user, -30), (inventory_manager, 12)):
        expected_stock += delta
        response = client_for(user).post(
            f"/products/{product.pk}/stock-adjustments", {"delta": delta, "reason": f"count by {user.role}"}
        )

        assert response.status_code == 201
        body = response.json()
        assert set(body) == {"movement", "product"}
        movement, returned = body["movement"], body["product"]
        assert set(movement) == MOVEMENT_FIELDS
        assert set(returned) == PRODUCT_FIELDS
        assert (movement["product_id"], movement["variant_id"]) == (product.pk, only_variant(product).pk)
        assert (movement["sku"], movement["location_id"]) == (only_variant(product).sku, location_id)
        assert movement["kind"] == "ADJUSTMENT"
        assert (movement["available_delta"], movement["reserved_delta"], movement["on_hand_delta"]) == (delta, 0, delta)
        assert (movement["available_after"], movement["reserved_after"]) == (expected_stock, 0)
        assert movement["on_hand_after"] == expected_stock
        assert (movement["order_id"], movement["reservation_id"]) == (None, None)
        assert (movement["actor_email"], movement["actor_id"]) == (user.email, str(user.pk))
        assert movement["reason"] == f"count by {user.role}"
        assert movement["created_at"]
        assert (returned["id"], returned["stock_quantity"]) == (product.pk, expected_stock)
        assert returned["version"] == 1  # issue 10: stock changes no longer bump the product version
        row = StockMovement.objects.get(pk=movement["id"])
        assert (row.kind, row.on_hand_delta, row.actor) == (MovementKind.ADJUSTMENT, delta, user)

    product.refresh_from_db()
    assert (stock_of(product), product.version) == ((82, 0), 1)
    assert rows_of(only_variant(product)) == {"MAIN/DEFAULT": (82, 0)}
    assert len(movements_of(product)) == 3
    assert_stock_consistent()


def test_stock_adjustment_may_take_stock_to_exactly_zero(manager_client, product):
    response = manager_client.post(f"/products/{product.pk}/stock-adjustments", {"delta": -100, "reason": "lost"})

    assert response.status_code == 201
    assert response.json()["product"]["stock_quantity"] == 0
    assert stock_of(product) == (0, 0)
    assert_stock_consistent()


def test_stock_adjustment_leaves_reserved_stock_alone(manager_client, product, customer):
    hold(product, 30, actor=customer)

    response = manager_client.post(f"/products/{product.pk}/stock-adjustments", {"delta": -70, "reason": "count"})

    assert response.status_code == 201
    body = response.json()
    assert (body["product"]["stock_quantity"], body["product"]["reserved_quantity"]) == (0, 30)
    assert (body["movement"]["on_hand_after"], body["movement"]["reserved_after"]) == (30, 30)
    assert rows_of(only_variant(product)) == {"MAIN/DEFAULT": (30, 30)}
    assert_stock_consistent()


@pytest.mark.parametrize("delta", [-101, -1_000_000_000])
def test_stock_adjustment_below_zero_is_409_and_changes_nothing(manager_client, product, delta):
    before = db_state()
    location_id = Stock.objects.get(variant__product=product).location_id

    response = manager_client.post(f"/products/{product.pk}/stock-adjustments/", {"delta": delta, "reason": "count"})

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "stock_would_go_negative"
    # issue 10: the details also name the stock row (location_id, on_hand)
    assert error["details"] == {
        "product_id": product.pk,
        "sku": only_variant(product).sku,
        "location_id": location_id,
        "delta": delta,
        "on_hand": 100,
        "available": 100,
    }
    assert db_state() == before
    assert stock_of(product) == (100, 0)
    assert len(movements_of(product)) == 1


def test_stock_adjustment_cannot_take_reserved_stock(manager_client, product, customer):
    hold(product, 30, actor=customer)
    before = db_state()

    response = manager_client.post(f"/products/{product.pk}/stock-adjustments", {"delta": -71, "reason": "count"})

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "stock_would_go_negative"
    assert (error["details"]["available"], error["details"]["on_hand"]) == (70, 100)
    assert db_state() == before


def test_stock_adjustment_beyond_the_stock_column_range_is_refused_not_a_500(manager_client, product_factory):
    product = product_factory(stock_quantity=1_000_000_000)
    first = manager_client.post(
        f"/products/{product.pk}/stock-adjustments", {"delta": 1_000_000_000, "reason": "pallets"}
    )
    assert first.status_code == 201  # 2,000,000,000 still fits the column
    before = db_state()

    response = manager_client.post(
        f"/products/{product.pk}/stock-adjustments", {"delta": 1_000_000_000, "reason": "more pallets"}
    )

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "stock_limit_exceeded"
    assert error["details"]["lines"] == [
        {
            "sku": only_variant(product).sku,
            "location_id": Stock.objects.get(variant__product=product).location_id,
            "on_hand": 2_000_000_000,
            "delta": 1_000_000_000,
        }
    ]
    assert db_state() == before


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"delta": 0, "reason": "x"}, {"delta"}),
        ({"delta": 5}, {"reason"}),
        ({"delta": 5, "reason": ""}, {"reason"}),
        ({"delta": 5, "reason": "r" * 256}, {"reason"}),
        ({"reason": "x"}, {"delta"}),
        ({"delta": "ten", "reason": "x"}, {"delta"}),
        ({"delta": 1.5, "reason": "x"}, {"delta"}),
        ({"delta": 1_000_000_001, "reason": "x"}, {"delta"}),
        ({"delta": None, "reason": "x"}, {"delta"}),
        ({}, {"delta", "reason"}),
    ],
)
def test_stock_adjustment_validates_input(manager_client, product, payload, fields):
    before = db_state()

    response = manager_client.post(f"/products/{product.pk}/stock-adjustments", payload)

    assert set(field_errors(response)) == fields
    assert db_state() == before


def test_stock_adjustment_on_unknown_product_is_404(manager_client):
    response = manager_client.post("/products/424242/stock-adjustments", {"delta": 5, "reason": "x"})

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert not StockMovement.objects.exists()


# --- GET /products/{id}/stock-movements


def test_stock_movements_list_the_ledger_newest_first(client_for, admin_user, manager_client, product, customer):
    manager_client.post(f"/products/{product.pk}/stock-adjustments", {"delta": -3, "reason": "first"})
    reservation = hold(product, 2, actor=customer)
    manager_client.post(f"/products/{product.pk}/stock-adjustments", {"delta": 7, "reason": "second"})

    for client in (manager_client, client_for(admin_user)):
        response = client.get(f"/products/{product.pk}/stock-movements")

        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"count", "next", "previous", "results"}
        assert body["count"] == 4
        rows = body["results"]
        assert all(set(row) == MOVEMENT_FIELDS for row in rows)
        # issue 10: reserving is kind RESERVE on the reserved column only; on-hand does not move
        assert [row["kind"] for row in rows] == ["ADJUSTMENT", "RESERVE", "ADJUSTMENT", "RECEIPT"]
        assert [row["reason"] for row in rows] == ["second", "", "first", "initial stock"]
        balances = [(row["available_after"], row["reserved_after"]) for row in rows]
        assert balances == [(102, 2), (95, 2), (97, 0), (100, 0)]
        assert [row["available_delta"] for row in rows] == [7, -2, -3, 100]
        assert [(row["on_hand_delta"], row["on_hand_after"]) for row in rows] == [
            (7, 104),
            (0, 97),
            (-3, 97),
            (100, 100),
        ]
        assert rows[1]["order_id"] == str(reservation.order_id)
        assert (rows[1]["reservation_id"], rows[1]["reference"]) == (reservation.pk, "test order")
        assert rows[1]["actor_email"] == customer.email
        assert rows[3]["actor_email"] is None
        assert [row["id"] for row in rows] == sorted((row["id"] for row in rows), reverse=True)


def test_stock_movements_show_a_shipped_order_as_commit(manager_client, admin_user, product, customer, place_order):
    order = place_order(customer, [(product, 2)])
    order_pay(order_id=order.pk, actor=customer)
    order_ship(order_id=order.pk, actor=admin_user)

    rows = manager_client.get(f"/products/{product.pk}/stock-movements").json()["results"]

    # issue 10: seed 001's SHIP is now COMMIT: the held units leave on-hand and reserved together
    assert [row["kind"] for row in rows] == ["COMMIT", "RESERVE", "RECEIPT"]
    commit = rows[0]
    assert (commit["on_hand_delta"], commit["reserved_delta"], commit["available_delta"]) == (-2, -2, 0)
    assert (commit["on_hand_after"], commit["reserved_after"], commit["available_after"]) == (98, 0, 98)
    assert commit["order_id"] == str(order.pk)
    assert commit["reservation_id"] == rows[1]["reservation_id"] is not None
    assert stock_of(product) == (98, 0)
    assert_stock_consistent()


def test_stock_movements_are_paginated_and_only_the_products_own(manager_client, product, product_factory):
    other = product_factory()
    for delta in range(1, 5):
        manager_client.post(f"/products/{product.pk}/stock-adjustments", {"delta": delta, "reason": f"add {delta}"})
        manager_client.post(f"/products/{other.pk}/stock-adjustments", {"delta": delta, "reason": "other"})

    first = manager_client.get(f"/products/{product.pk}/stock-movements", {"page_size": 2}).json()
    second = manager_client.get(f"/products/{product.pk}/stock-movements", {"page_size": 2, "page": 2}).json()

    assert first["count"] == 5
    assert [row["reason"] for row in first["results"] + second["results"]] == ["add 4", "add 3", "add 2", "add 1"]
    assert "page=2" in first["next"]
    assert {row["product_id"] for row in first["results"] + second["results"]} == {product.pk}


def test_stock_movements_of_unknown_product_is_404(manager_client):
    response = manager_client.get("/products/424242/stock-movements")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


# --- DELETE /products/{id}


def test_delete_product_without_orders_deletes_it(admin_client, product, product_factory):
    other = product_factory()
    variant = only_variant(product)
    admin_client.post(f"/products/{product.pk}/stock-adjustments", {"delta": -5, "reason": "count"})

    response = admin_client.delete(f"/products/{product.pk}")

    assert response.status_code == 204
    assert response.content == b""
    assert admin_client.get(f"/products/{product.pk}").status_code == 404
    assert not Product.objects.filter(pk=product.pk).exists()
    assert not Variant.objects.filter(pk=variant.pk).exists()
    assert not Stock.objects.filter(variant_id=variant.pk).exists()
    assert not StockMovement.objects.filter(stock__variant_id=variant.pk).exists()
    assert Product.objects.filter(pk=other.pk).exists()
    assert len(movements_of(other)) == 1
    assert_stock_consistent()


def test_delete_product_an_order_references_archives_it(
    admin_client, manager_client, customer_client, product, customer
):
    hold(product, 1, actor=customer)
    ledger = [movement.pk for movement in movements_of(product)]

    response = admin_client.delete(f"/products/{product.pk}")

    assert response.status_code == 204
    kept = Product.objects.get(pk=product.pk)
    # issue 10: a product an order uses is ARCHIVED (not only deactivated); the version moves once, for the
    # archive (the reservation no longer bumps it): 2, not 3
    assert (kept.status, kept.archived_at is not None, kept.version) == (ProductStatus.ARCHIVED, True, 2)
    assert stock_of(product) == (99, 1)
    assert [movement.pk for movement in movements_of(product)] == ledger
    assert customer_client.get("/products").json()["count"] == 0
    assert customer_client.get(f"/products/{product.pk}").status_code == 404
    body = manager_client.get(f"/products/{product.pk}").json()
    assert (body["is_active"], body["status"], body["stock_quantity"], body["reserved_quantity"]) == (
        False,
        "ARCHIVED",
        99,
        1,
    )
    assert_stock_consistent()


def test_delete_product_an_order_references_again_changes_nothing(admin_client, product, customer):
    hold(product, 1, actor=customer)
    admin_client.delete(f"/products/{product.pk}")
    before = db_state()

    response = admin_client.delete(f"/products/{product.pk}")

    assert response.status_code == 204
    assert db_state() == before


def test_delete_product_placed_in_a_real_order_archives_it(admin_client, product, customer, place_order):
    place_order(customer, [(product, 2)])

    response = admin_client.delete(f"/products/{product.pk}")

    assert response.status_code == 204
    kept = Product.objects.get(pk=product.pk)
    assert kept.status == ProductStatus.ARCHIVED
    assert stock_of(kept) == (98, 2)
    assert_stock_consistent()


def test_delete_product_whose_order_was_cancelled_still_archives_it(admin_client, product, customer, place_order):
    order = place_order(customer, [(product, 2)])
    order_cancel(order_id=order.pk, actor=customer)
    assert stock_of(product) == (100, 0)

    response = admin_client.delete(f"/products/{product.pk}")

    assert response.status_code == 204
    assert Product.objects.get(pk=product.pk).status == ProductStatus.ARCHIVED  # its history stays
    assert [m.kind for m in movements_of(product)] == [MovementKind.RECEIPT, MovementKind.RESERVE, MovementKind.RELEASE]
    assert_stock_consistent()


def test_delete_unknown_product_is_404(admin_client):
    response = admin_client.delete("/products/424242")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


# --- the ledger after a mix of operations


@pytest.mark.stock_books_unchecked
def test_ledger_check_notices_a_quantity_changed_behind_its_back(product):
    row = Stock.objects.get(variant__product=product)
    Stock.objects.filter(pk=row.pk).update(on_hand=99)

    assert [r.pk for r in ledger_mismatches()] == [row.pk]
    with pytest.raises(CommandError, match="1 stock row"):
        call_command("check_stock", stdout=StringIO())


def test_ledger_stays_consistent_after_api_operations(admin_client, manager_client, customer):
    product_id = admin_client.post("/products", NEW_PRODUCT).json()["id"]
    other_id = manager_client.post("/products", {**NEW_PRODUCT, "sku": "OTHER-1", "stock_quantity": 10}).json()["id"]
    doomed_id = manager_client.post("/products", {**NEW_PRODUCT, "sku": "DOOMED-1"}).json()["id"]
    assert manager_client.post("/products", {**NEW_PRODUCT, "sku": "widget-a-001"}).status_code == 409
    manager_client.post(f"/products/{product_id}/stock-adjustments", {"delta": -20, "reason": "count"})
    refused = manager_client.post(f"/products/{product_id}/stock-adjustments", {"delta": -1000, "reason": "refused"})
    assert refused.status_code == 409
    manager_client.post(f"/products/{other_id}/stock-adjustments", {"delta": 5, "reason": "found"})
    product, other = Product.objects.get(pk=product_id), Product.objects.get(pk=other_id)
    with transaction.atomic():
        stock_allocate(
            requests=[
                HoldRequest(
                    reference="order",
                    lines=[HoldLine(only_variant(product), 30), HoldLine(only_variant(other), 15)],
                    order_id=uuid.uuid4(),
                )
            ],
            actor=customer,
        )
    assert (
        manager_client.post(f"/products/{other_id}/stock-adjustments", {"delta": -1, "reason": "x"}).status_code == 409
    )
    manager_client.patch(f"/products/{product_id}", {"price": 10})
    assert manager_client.patch(f"/products/{product_id}", {"stock_quantity": 1}).status_code == 400
    admin_client.delete(f"/products/{other_id}")  # referenced: archived
    admin_client.delete(f"/products/{doomed_id}")  # unreferenced: deleted

    assert_stock_consistent()
    product.refresh_from_db()
    other.refresh_from_db()
    assert (stock_of(product), only_variant(product).price) == ((450, 30), Decimal("10.00"))
    assert (stock_of(other), other.status) == ((0, 15), ProductStatus.ARCHIVED)
    assert not Product.objects.filter(pk=doomed_id).exists()
    assert Product.objects.count() == 2
