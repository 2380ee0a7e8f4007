"""What issue 10 adds to /products and /variants: DRAFT products, variants, the lifecycle, several variants,
stock per warehouse and location, visibility, roles and the query budget."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from PIL import Image

from catalog.models import Product, ProductImage, ProductStatus, Variant
from catalog.services.images import product_image_add
from catalog.services.products import product_archive, product_publish
from inventory.models import Allocation, Reservation, Stock, StockMovement
from inventory.services.allocation import HoldLine, HoldRequest, stock_allocate
from inventory.services.locations import default_location
from inventory.services.warehouses import location_update, warehouse_update
from tests.assertions import error_of, field_errors
from tests.inventory.helpers import VARIANT_FIELDS, default_of, receive
from tests.stock import assert_stock_consistent, only_variant, rows_of, stock_of

pytestmark = pytest.mark.django_db


def db_state() -> tuple[list, ...]:
    """Every catalog, stock, ledger and reservation row: equal before and after means nothing was written."""
    models = (Product, Variant, ProductImage, Stock, StockMovement, Reservation, Allocation)
    return tuple(list(model.objects.order_by("pk").values()) for model in models)


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {product["id"] for product in response.json()["results"]}


@pytest.fixture
def multi(draft_product_factory, variant_factory, warehouse_factory):
    """A PUBLISHED product with three variants: S (5.00, 4 units at MAIN), M (20.00, 6 at WH2), L (50.00, none)."""
    product = draft_product_factory(name="Work shirt")
    small = variant_factory(product=product, sku="SHIRT-S", price=Decimal("5.00"), options={"size": "S"})
    medium = variant_factory(product=product, sku="SHIRT-M", price=Decimal("20.00"), name="Medium")
    large = variant_factory(product=product, sku="SHIRT-L", price=Decimal("50.00"))
    product_publish(product_id=product.pk, actor=None)
    second = warehouse_factory(code="WH2")
    receive(small, default_location(), 4)
    receive(medium, default_of(second), 6)
    product.refresh_from_db()
    return {"product": product, "S": small, "M": medium, "L": large, "WH2": second}


# --- POST /products without a sku: a DRAFT product with no variants


def test_create_product_without_sku_is_a_draft_without_variants(manager_client, brand_factory, category_factory):
    brand, category = brand_factory(), category_factory()

    response = manager_client.post(
        "/products",
        {"name": "  Rain jacket ", "description": "Keeps you dry", "brand_id": brand.pk, "category_id": category.pk},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    product = Product.objects.get(pk=body["id"])
    assert (product.status, product.name, product.brand_id, product.category_id) == (
        ProductStatus.DRAFT,
        "Rain jacket",
        brand.pk,
        category.pk,
    )
    assert body == {
        "id": product.pk,
        "name": "Rain jacket",
        "slug": "rain-jacket",
        "description": "Keeps you dry",
        "status": "DRAFT",
        "brand_id": brand.pk,
        "category_id": category.pk,
        "version": 1,
        "currency": "USD",
        "sku": None,
        "price": None,
        "stock_quantity": 0,
        "reserved_quantity": 0,
        "is_active": False,
        "variants": [],
        "images": [],
        "published_at": None,
        "archived_at": None,
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    assert response["ETag"] == '"1"'
    assert not Variant.objects.exists()
    assert not StockMovement.objects.exists()


def test_create_product_takes_an_explicit_slug_and_refuses_a_taken_one(manager_client):
    first = manager_client.post("/products", {"name": "Jacket", "slug": "Jacket-Blue"})
    assert (first.status_code, first.json()["slug"]) == (201, "jacket-blue")
    before = db_state()

    response = manager_client.post("/products", {"name": "Other", "slug": "jacket-blue"})

    assert response.status_code == 409
    error = error_of(response)
    assert (error["code"], error["details"]) == ("slug_taken", {"slug": "jacket-blue"})
    assert db_state() == before


def test_create_product_generates_a_free_slug_from_the_name(manager_client):
    slugs = [manager_client.post("/products", {"name": "Rain Jacket"}).json()["slug"] for _ in range(3)]

    assert slugs == ["rain-jacket", "rain-jacket-2", "rain-jacket-3"]


@pytest.mark.parametrize("field", ["brand_id", "category_id"])
@pytest.mark.parametrize("with_sku", [False, True])
def test_create_product_with_an_unknown_brand_or_category_is_400(manager_client, field, with_sku):
    body = {"name": "Jacket", field: 999_999}
    if with_sku:
        body |= {"sku": "JACKET-1", "price": "10.00", "stock_quantity": 5}
    before = db_state()

    response = manager_client.post("/products", body)

    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["details"]) == ("unknown_reference", {"field": field, "id": 999_999})
    assert db_state() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "status": "PUBLISHED"}, "status"),
        ({"name": "x", "status": "ARCHIVED"}, "status"),
        ({"name": "x", "sku": "X-1", "price": "1", "status": "ARCHIVED"}, "status"),
        ({"name": "x", "price": "1"}, "sku"),
        ({"name": "x", "is_active": False}, "sku"),
        ({"name": "x", "brand_id": 0}, "brand_id"),
        ({"name": "x", "category_id": "abc"}, "category_id"),
        ({"name": "x", "slug": "not a slug"}, "slug"),
    ],
)
def test_create_product_refuses_what_a_draft_cannot_have(manager_client, body, field):
    response = manager_client.post("/products", body)

    assert set(field_errors(response)) == {field}
    assert not Product.objects.exists()


def test_create_product_with_sku_as_draft_keeps_it_from_customers_until_published(manager_client, customer_client):
    response = manager_client.post(
        "/products", {"name": "Boot", "sku": "boot-42", "price": "80.00", "stock_quantity": 7, "status": "DRAFT"}
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["published_at"], body["sku"], body["price"], body["stock_quantity"]) == (
        "DRAFT",
        None,
        "BOOT-42",
        "80.00",
        7,
    )
    assert body["is_active"] is False
    (variant,) = body["variants"]
    assert (variant["sku"], variant["price"], variant["is_active"], variant["available"]) == (
        "BOOT-42",
        "80.00",
        True,
        7,
    )
    assert rows_of(Variant.objects.get(pk=variant["id"])) == {"MAIN/DEFAULT": (7, 0)}
    assert customer_client.get(f"/products/{body['id']}").status_code == 404
    assert customer_client.get("/products").json()["count"] == 0

    published = manager_client.post(f"/products/{body['id']}/publish")

    assert (published.status_code, published.json()["status"], published.json()["is_active"]) == (
        200,
        "PUBLISHED",
        True,
    )
    assert customer_client.get(f"/products/{body['id']}").json()["stock_quantity"] == 7
    assert_stock_consistent()


def test_create_product_with_sku_defaults_to_published(manager_client):
    body = manager_client.post("/products", {"name": "Boot", "sku": "BOOT-43", "price": "80.00"}).json()

    assert (body["status"], body["published_at"] is not None, body["is_active"]) == ("PUBLISHED", True, True)


# --- POST /products/{id}/variants


def test_add_variant_answers_the_variant_and_bumps_the_product_version(manager_client, draft_product_factory):
    product = draft_product_factory()

    response = manager_client.post(
        f"/products/{product.pk}/variants",
        {"sku": " tee-red-m ", "price": "12.50", "name": " Red M ", "options": {"colour": "red", "size": "M"}},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    variant = Variant.objects.get(product=product)
    assert body == {
        "id": variant.pk,
        "product_id": product.pk,
        "sku": "TEE-RED-M",
        "name": "Red M",
        "options": {"colour": "red", "size": "M"},
        "price": "12.50",
        "is_active": True,
        "available": 0,
    }
    rendered = manager_client.get(f"/products/{product.pk}")
    assert (rendered.json()["version"], rendered["ETag"]) == (2, '"2"')
    assert (rendered.json()["sku"], rendered.json()["price"], rendered.json()["status"]) == (
        "TEE-RED-M",
        "12.50",
        "DRAFT",
    )
    assert not Stock.objects.exists()


def test_add_variant_needs_only_sku_and_price(admin_client, product):
    response = admin_client.post(f"/products/{product.pk}/variants", {"sku": "SECOND-1", "price": "0"})

    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["options"], body["price"], body["is_active"]) == ("", {}, "0.00", True)
    assert Variant.objects.filter(product=product).count() == 2


@pytest.mark.parametrize("sku", ["TAKEN-1", "taken-1", "Taken-1", "  taken-1 "])
def test_add_variant_with_a_taken_sku_in_any_case_is_409(manager_client, product_factory, draft_product_factory, sku):
    product_factory(sku="TAKEN-1")
    product = draft_product_factory()
    before = db_state()

    response = manager_client.post(f"/products/{product.pk}/variants", {"sku": sku, "price": "1.00"})

    assert response.status_code == 409
    error = error_of(response)
    assert (error["code"], error["details"]) == ("sku_taken", {"sku": "TAKEN-1"})
    assert db_state() == before


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"sku": "V-1", "price": "1", "options": {"size": 1}}, {"options"}),
        ({"sku": "V-1", "price": "1", "options": {"size": None}}, {"options"}),
        ({"sku": "V-1", "price": "1", "options": {"size": ["M"]}}, {"options"}),
        ({"sku": "V-1", "price": "1", "options": {"": "M"}}, {"options"}),
        ({"sku": "V-1", "price": "1", "options": {"n" * 51: "M"}}, {"options"}),
        ({"sku": "V-1", "price": "1", "options": {"size": "m" * 101}}, {"options"}),
        ({"sku": "V-1", "price": "1", "options": {f"o{i}": "x" for i in range(21)}}, {"options"}),
        ({"sku": "V-1", "price": "1", "options": {"size": "M\u0000"}}, {"options"}),
        ({"sku": "V-1", "price": "1", "options": ["size", "M"]}, {"options"}),
        ({"sku": "V-1", "price": "1", "options": "size=M"}, {"options"}),
        ({"sku": "V-1", "price": "-1"}, {"price"}),
        ({"sku": "V-1", "price": "1.234"}, {"price"}),
        ({"sku": "V 1", "price": "1"}, {"sku"}),
        ({"sku": "V-1", "price": "1", "name": "n" * 201}, {"name"}),
        ({"price": "1"}, {"sku"}),
        ({"sku": "V-1"}, {"price"}),
        ({}, {"sku", "price"}),
    ],
)
def test_add_variant_refuses_bad_input(manager_client, draft_product_factory, body, fields):
    product = draft_product_factory()
    before = db_state()

    response = manager_client.post(f"/products/{product.pk}/variants", body)

    assert set(field_errors(response)) == fields
    assert db_state() == before


def test_add_variant_refuses_a_lone_surrogate_in_options(manager_client, draft_product_factory):
    """Valid JSON, but PostgreSQL's jsonb cannot store it: a 400, never a 500."""
    product = draft_product_factory()
    before = db_state()
    body = '{"sku": "V-1", "price": "1", "options": {"si\\ud800ze": "M"}}'

    response = manager_client.post(f"/products/{product.pk}/variants", body, content_type="application/json")

    assert set(field_errors(response)) == {"options"}
    assert db_state() == before


def test_add_variant_to_an_archived_product_is_409(manager_client, product):
    product_archive(product_id=product.pk)
    before = db_state()

    response = manager_client.post(f"/products/{product.pk}/variants", {"sku": "LATE-1", "price": "1"})

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "invalid_transition"
    assert error["details"] == {"product_id": product.pk, "status": "ARCHIVED", "action": "add_variant"}
    assert db_state() == before


def test_add_variant_to_an_unknown_product_is_404(manager_client):
    response = manager_client.post("/products/424242/variants", {"sku": "V-1", "price": "1"})

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert not Variant.objects.exists()


# --- PATCH /variants/{id}


@pytest.mark.parametrize("slash", ["", "/"])
def test_patch_variant_answers_the_variant_and_bumps_the_product_version(manager_client, multi, slash):
    variant = multi["M"]
    version = multi["product"].version

    response = manager_client.patch(
        f"/variants/{variant.pk}{slash}", {"price": "22.00", "name": " Medium fit ", "options": {"size": "M"}}
    )

    assert response.status_code == 200, response.content
    assert response.json() == {
        "id": variant.pk,
        "product_id": multi["product"].pk,
        "sku": "SHIRT-M",
        "name": "Medium fit",
        "options": {"size": "M"},
        "price": "22.00",
        "is_active": True,
        "available": 6,
    }
    variant.refresh_from_db()
    assert (variant.price, variant.name, variant.options) == (Decimal("22.00"), "Medium fit", {"size": "M"})
    product = manager_client.get(f"/products/{multi['product'].pk}")
    assert (product.json()["version"], product["ETag"]) == (version + 1, f'"{version + 1}"')


def test_patch_variant_deactivating_the_only_variant_hides_the_product_from_customers(
    manager_client, customer_client, product
):
    variant = only_variant(product)

    response = manager_client.patch(f"/variants/{variant.pk}", {"is_active": False})

    assert (response.status_code, response.json()["is_active"]) == (200, False)
    assert customer_client.get(f"/products/{product.pk}").status_code == 404
    assert manager_client.get(f"/products/{product.pk}").json()["is_active"] is False
    assert manager_client.patch(f"/variants/{variant.pk}", {"is_active": True}).status_code == 200
    assert customer_client.get(f"/products/{product.pk}").json()["is_active"] is True


def test_patch_variant_with_an_empty_body_changes_nothing(manager_client, product):
    variant = only_variant(product)
    before = db_state()

    response = manager_client.patch(f"/variants/{variant.pk}", {})

    assert (response.status_code, response.json()["price"]) == (200, "10.00")
    assert db_state() == before


@pytest.mark.parametrize(
    ("body", "field", "hint"),
    [
        ({"sku": "NEW-1"}, "sku", "cannot change"),
        ({"available": 5}, "available", "ledger"),
        ({"product_id": 1}, "product_id", "Unknown or read-only"),
        ({"price": "-1"}, "price", ""),
        ({"price": "abc"}, "price", ""),
        ({"options": {"size": 3}}, "options", ""),
        ({"is_active": "maybe"}, "is_active", ""),
        ({"name": "n" * 201}, "name", ""),
    ],
)
def test_patch_variant_refuses_bad_input(manager_client, product, body, field, hint):
    variant = only_variant(product)
    before = db_state()

    response = manager_client.patch(f"/variants/{variant.pk}", body)

    errors = field_errors(response)
    assert set(errors) == {field}
    assert hint in errors[field][0]
    assert db_state() == before


@pytest.mark.parametrize("path", ["/variants/424242", "/variants/abc"])
def test_patch_unknown_variant_is_404(manager_client, path):
    response = manager_client.patch(path, {"price": "1"})

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


# --- publish and archive: the lifecycle table


def _draft_with_active_variant(draft_product_factory, variant_factory):
    product = draft_product_factory()
    variant_factory(product=product)
    return product


def _draft_with_inactive_variant(draft_product_factory, variant_factory):
    product = draft_product_factory()
    variant_factory(product=product, is_active=False)
    return product


def _published(draft_product_factory, variant_factory):
    product = _draft_with_active_variant(draft_product_factory, variant_factory)
    return product_publish(product_id=product.pk, actor=None)


def _archived_draft(draft_product_factory, variant_factory):
    return product_archive(product_id=draft_product_factory().pk)


def _archived_published(draft_product_factory, variant_factory):
    return product_archive(product_id=_published(draft_product_factory, variant_factory).pk)


STARTS = {
    "draft without variants": lambda d, v: d(),
    "draft with an active variant": _draft_with_active_variant,
    "draft with an inactive variant only": _draft_with_inactive_variant,
    "published": _published,
    "archived draft": _archived_draft,
    "archived published": _archived_published,
}
# (start, action) -> the status it leads to, or the status named by the 409 (and why)
LIFECYCLE = [
    ("draft without variants", "publish", None, "DRAFT"),
    ("draft without variants", "archive", "ARCHIVED", None),
    ("draft with an active variant", "publish", "PUBLISHED", None),
    ("draft with an active variant", "archive", "ARCHIVED", None),
    ("draft with an inactive variant only", "publish", None, "DRAFT"),
    ("draft with an inactive variant only", "archive", "ARCHIVED", None),
    ("published", "publish", None, "PUBLISHED"),
    ("published", "archive", "ARCHIVED", None),
    ("archived draft", "publish", None, "ARCHIVED"),
    ("archived draft", "archive", None, "ARCHIVED"),
    ("archived published", "publish", None, "ARCHIVED"),
    ("archived published", "archive", None, "ARCHIVED"),
]


@pytest.mark.parametrize(("start", "action", "target", "refused_status"), LIFECYCLE)
def test_lifecycle_through_the_api(
    manager_client, draft_product_factory, variant_factory, start, action, target, refused_status
):
    product = STARTS[start](draft_product_factory, variant_factory)
    product.refresh_from_db()
    before = db_state()

    response = manager_client.post(f"/products/{product.pk}/{action}")

    if target is not None:
        assert response.status_code == 200, response.content
        body = response.json()
        assert (body["id"], body["status"], body["version"]) == (product.pk, target, product.version + 1)
        assert response["ETag"] == f'"{product.version + 1}"'
        stamp = "published_at" if target == "PUBLISHED" else "archived_at"
        assert body[stamp] is not None
        product.refresh_from_db()
        assert product.status == target
        if target == "ARCHIVED":
            assert body["is_active"] is False
            assert (body["published_at"] is None) == start.startswith("draft")  # a draft was never published
    else:
        assert response.status_code == 409
        error = error_of(response)
        assert error["code"] == "invalid_transition"
        assert error["details"] == {"product_id": product.pk, "status": refused_status, "action": action}
        if start.startswith("draft"):
            assert "active variant" in error["message"]
        else:
            assert refused_status in error["message"]
        assert db_state() == before


@pytest.mark.parametrize("action", ["publish", "archive"])
def test_lifecycle_of_an_unknown_product_is_404(manager_client, action):
    response = manager_client.post(f"/products/424242/{action}")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_patch_product_refuses_status_and_variants_with_a_hint(manager_client, product):
    before = db_state()

    response = manager_client.patch(f"/products/{product.pk}", {"status": "ARCHIVED", "variants": []})

    assert response.status_code == 400
    fields = error_of(response)["details"]["fields"]
    assert set(fields) == {"status", "variants"}
    assert "publish" in fields["status"][0]
    assert "/variants" in fields["variants"][0]
    assert db_state() == before


def test_patch_product_with_an_unknown_brand_is_400(manager_client, product):
    before = db_state()

    response = manager_client.patch(f"/products/{product.pk}", {"brand_id": 999_999, "name": "Renamed"})

    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["details"]) == ("unknown_reference", {"field": "brand_id", "id": 999_999})
    assert db_state() == before


def test_patch_product_sets_and_clears_brand_and_category(manager_client, product, brand_factory, category_factory):
    brand, category = brand_factory(), category_factory()

    set_ = manager_client.patch(f"/products/{product.pk}", {"brand_id": brand.pk, "category_id": category.pk})
    cleared = manager_client.patch(f"/products/{product.pk}", {"brand_id": None})

    assert (set_.json()["brand_id"], set_.json()["category_id"], set_.json()["version"]) == (brand.pk, category.pk, 2)
    assert (cleared.json()["brand_id"], cleared.json()["category_id"], cleared.json()["version"]) == (
        None,
        category.pk,
        3,
    )


# --- what customers see


def test_customers_see_published_products_with_an_active_variant_only(
    client_as, product_factory, draft_product_factory, variant_factory
):
    on_sale = product_factory()
    draft = _draft_with_active_variant(draft_product_factory, variant_factory)
    archived = product_archive(product_id=product_factory().pk)
    no_active_variant = product_factory(is_active=False)
    empty_draft = draft_product_factory()
    everything = {on_sale.pk, draft.pk, archived.pk, no_active_variant.pk, empty_draft.pk}

    customer = client_as("customer")
    assert ids(customer.get("/products")) == {on_sale.pk}
    for hidden in (draft, archived, no_active_variant, empty_draft):
        response = customer.get(f"/products/{hidden.pk}")
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"
    for role in ("admin", "inventory_manager"):
        staff = client_as(role)
        assert ids(staff.get("/products")) == everything
        assert all(staff.get(f"/products/{pk}").status_code == 200 for pk in everything)


@pytest.mark.parametrize(
    ("status", "expected"),
    [("DRAFT", {"draft"}), ("PUBLISHED", {"on_sale", "no_active_variant"}), ("ARCHIVED", {"archived"})],
)
def test_list_products_filters_by_status(manager_client, product_factory, draft_product_factory, status, expected):
    products = {
        "on_sale": product_factory(),
        "draft": draft_product_factory(),
        "archived": product_archive(product_id=product_factory().pk),
        "no_active_variant": product_factory(is_active=False),
    }

    assert ids(manager_client.get("/products", {"status": status})) == {products[name].pk for name in expected}


def test_list_products_status_filter_hides_nothing_extra_from_customers(customer_client, product_factory):
    on_sale = product_factory()
    product_archive(product_id=product_factory().pk)

    assert ids(customer_client.get("/products", {"status": "PUBLISHED"})) == {on_sale.pk}
    assert ids(customer_client.get("/products", {"status": "ARCHIVED"})) == set()


@pytest.mark.parametrize("status", ["draft", "bogus", "SOLD"])
def test_list_products_refuses_an_unknown_status(manager_client, status):
    response = manager_client.get("/products", {"status": status})

    assert set(field_errors(response)) == {"status"}


def test_list_products_filters_by_brand_and_category(manager_client, brand_factory, category_factory):
    brand, category = brand_factory(), category_factory()
    branded = manager_client.post("/products", {"name": "A", "brand_id": brand.pk}).json()["id"]
    filed = manager_client.post("/products", {"name": "B", "category_id": category.pk}).json()["id"]
    manager_client.post("/products", {"name": "C"})

    assert ids(manager_client.get("/products", {"brand_id": brand.pk})) == {branded}
    assert ids(manager_client.get("/products", {"category_id": category.pk})) == {filed}


# --- a product with several variants


def test_multi_variant_product_renders_every_variant_with_its_stock(client_as, multi):
    for role in ("customer", "admin"):
        response = client_as(role).get(f"/products/{multi['product'].pk}")

        assert response.status_code == 200
        body = response.json()
        assert (body["sku"], body["price"], body["stock_quantity"], body["reserved_quantity"]) == (None, None, 10, 0)
        assert (body["status"], body["is_active"]) == ("PUBLISHED", True)
        assert all(set(variant) == VARIANT_FIELDS for variant in body["variants"])
        assert [(v["sku"], v["name"], v["options"], v["price"], v["available"]) for v in body["variants"]] == [
            ("SHIRT-S", "", {"size": "S"}, "5.00", 4),
            ("SHIRT-M", "Medium", {}, "20.00", 6),
            ("SHIRT-L", "", {}, "50.00", 0),
        ]


def test_multi_variant_product_shows_customers_its_active_variants_only(client_as, manager_client, multi):
    manager_client.patch(f"/variants/{multi['L'].pk}", {"is_active": False})

    customer_body = client_as("customer").get(f"/products/{multi['product'].pk}").json()
    staff_body = manager_client.get(f"/products/{multi['product'].pk}").json()

    assert [v["sku"] for v in customer_body["variants"]] == ["SHIRT-S", "SHIRT-M"]
    assert [v["sku"] for v in staff_body["variants"]] == ["SHIRT-S", "SHIRT-M", "SHIRT-L"]


def test_customers_stock_quantity_counts_only_the_variants_they_see(customer_client, manager_client, multi):
    manager_client.patch(f"/variants/{multi['S'].pk}", {"is_active": False})

    body = customer_client.get(f"/products/{multi['product'].pk}").json()

    assert [(v["sku"], v["available"]) for v in body["variants"]] == [("SHIRT-M", 6), ("SHIRT-L", 0)]
    assert body["stock_quantity"] == 6
    assert manager_client.get(f"/products/{multi['product'].pk}").json()["stock_quantity"] == 10


@pytest.mark.parametrize("change", [{"price": "9.00"}, {"is_active": False}, {"price": "9.00", "name": "Renamed"}])
def test_patch_price_or_activity_of_a_multi_variant_product_is_variant_required(manager_client, multi, change):
    before = db_state()

    response = manager_client.patch(f"/products/{multi['product'].pk}", change)

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "variant_required"
    assert error["details"] == {"product_ids": [multi["product"].pk]}
    assert db_state() == before


def test_patch_price_of_a_product_without_variants_is_variant_required(manager_client, draft_product_factory):
    product = draft_product_factory()
    before = db_state()

    response = manager_client.patch(f"/products/{product.pk}", {"price": "9.00"})

    assert response.status_code == 400
    assert error_of(response)["code"] == "variant_required"
    assert db_state() == before


def test_patch_name_of_a_multi_variant_product_works(manager_client, multi):
    response = manager_client.patch(f"/products/{multi['product'].pk}", {"name": "Shirt"})

    assert (response.status_code, response.json()["name"], response.json()["version"]) == (
        200,
        "Shirt",
        multi["product"].version + 1,
    )


@pytest.mark.parametrize("has_variants", [True, False])
def test_stock_adjustment_on_a_product_without_exactly_one_variant_is_variant_required(
    manager_client, multi, draft_product_factory, has_variants
):
    product = multi["product"] if has_variants else draft_product_factory()
    before = db_state()

    response = manager_client.post(f"/products/{product.pk}/stock-adjustments", {"delta": 5, "reason": "count"})

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "variant_required"
    assert error["details"] == {"product_ids": [product.pk]}
    assert db_state() == before


def test_stock_movements_of_a_multi_variant_product_list_every_variant(manager_client, multi):
    response = manager_client.get(f"/products/{multi['product'].pk}/stock-movements")

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(row["sku"], row["kind"], row["warehouse_id"]) for row in rows] == [
        ("SHIRT-M", "RECEIPT", multi["WH2"].pk),
        ("SHIRT-S", "RECEIPT", default_location().warehouse_id),
    ]


# --- stock_quantity: units available in active locations of active warehouses


def test_stock_quantity_counts_only_active_locations_of_active_warehouses(
    manager_client, customer_client, product, warehouse_factory, location_factory
):
    variant = only_variant(product)
    north = warehouse_factory(code="NORTH")
    shelf = location_factory(warehouse=north, code="A-01")
    receive(variant, shelf, 30)
    receive(variant, default_of(north), 5)

    def seen() -> tuple[int, int, bool]:
        body = manager_client.get(f"/products/{product.pk}").json()
        in_stock = product.pk in ids(customer_client.get("/products", {"in_stock": "true"}))
        assert body["variants"][0]["available"] == body["stock_quantity"]
        return body["stock_quantity"], body["reserved_quantity"], in_stock

    assert seen() == (135, 0, True)
    location_update(location_id=shelf.pk, changes={"is_active": False}, actor=None)
    assert seen() == (105, 0, True)
    warehouse_update(warehouse_id=north.pk, changes={"is_active": False}, actor=None)
    assert seen() == (100, 0, True)
    location_update(location_id=shelf.pk, changes={"is_active": True}, actor=None)
    assert seen() == (100, 0, True)  # the warehouse is still inactive
    manager_client.post(f"/products/{product.pk}/stock-adjustments", {"delta": -100, "reason": "count"})
    assert seen() == (0, 0, False)  # 35 units sit in an inactive warehouse: not in stock
    assert product.pk in ids(customer_client.get("/products", {"in_stock": "false"}))
    warehouse_update(warehouse_id=north.pk, changes={"is_active": True}, actor=None)
    assert seen() == (35, 0, True)
    assert rows_of(variant) == {"MAIN/DEFAULT": (0, 0), "NORTH/A-01": (30, 0), "NORTH/DEFAULT": (5, 0)}
    assert_stock_consistent()


def test_stock_quantity_is_available_units_and_reserved_quantity_the_held_ones(manager_client, product, customer):
    with transaction.atomic():
        stock_allocate(
            requests=[HoldRequest(reference="hold", lines=[HoldLine(only_variant(product), 25)])], actor=customer
        )

    body = manager_client.get(f"/products/{product.pk}").json()

    assert (body["stock_quantity"], body["reserved_quantity"], body["variants"][0]["available"]) == (75, 25, 75)
    assert stock_of(product) == (75, 25)
    assert rows_of(only_variant(product)) == {"MAIN/DEFAULT": (100, 25)}  # on hand does not move on reserving


# --- filters and ordering over variants


@pytest.fixture
def shelf(product_factory, multi):
    """The multi-variant shirt (5.00 / 20.00 / 50.00, 10 units) next to seed-001 products."""
    return {
        "shirt": multi["product"].pk,
        "bolt": product_factory(sku="BOLT-10", name="Steel bolt", price=Decimal("1.50"), stock_quantity=0).pk,
        "gear": product_factory(sku="GEAR-XL", name="Large gear", price=Decimal("99.00"), stock_quantity=3).pk,
        "cap": product_factory(sku="CAP-1", name="Shirt cap", price=Decimal("30.00"), stock_quantity=20).pk,
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"search": "shirt"}, {"shirt", "cap"}),
        ({"search": "IRT-M"}, {"shirt"}),
        ({"search": "shirt-l"}, {"shirt"}),
        ({"sku": "shirt-m"}, {"shirt"}),
        ({"sku": "SHIRT-L"}, {"shirt"}),
        ({"sku": "SHIRT"}, set()),
        ({"min_price": "10", "max_price": "40"}, {"shirt", "cap"}),
        ({"min_price": "21", "max_price": "49"}, {"cap"}),
        ({"min_price": "50"}, {"shirt", "gear"}),
        ({"max_price": "5"}, {"shirt", "bolt"}),
        ({"min_price": "60"}, {"gear"}),
        ({"in_stock": "true"}, {"shirt", "gear", "cap"}),
        ({"in_stock": "false"}, {"bolt"}),
        ({"is_active": "true"}, {"shirt", "bolt", "gear", "cap"}),
        ({"is_active": "false"}, set()),
        ({"in_stock": "true", "max_price": "10"}, {"shirt"}),
    ],
)
def test_list_products_filters_match_any_variant(client_as, shelf, params, expected):
    for role in ("customer", "inventory_manager"):
        response = client_as(role).get("/products", params)

        assert ids(response) == {shelf[name] for name in expected}
        assert response.json()["count"] == len(expected)


def test_list_products_price_filter_sees_only_variants_a_customer_may_buy(client_as, manager_client, shelf, multi):
    manager_client.patch(f"/variants/{multi['S'].pk}", {"is_active": False})

    assert ids(client_as("customer").get("/products", {"max_price": "5"})) == {shelf["bolt"]}
    assert ids(client_as("customer").get("/products", {"sku": "shirt-s"})) == set()
    assert ids(manager_client.get("/products", {"max_price": "5"})) == {shelf["bolt"], shelf["shirt"]}


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("price", ["bolt", "shirt", "cap", "gear"]),
        ("-price", ["gear", "cap", "shirt", "bolt"]),
        ("stock_quantity", ["bolt", "gear", "shirt", "cap"]),
        ("-stock_quantity", ["cap", "shirt", "gear", "bolt"]),
    ],
)
def test_list_products_ordering_over_variants(client_as, shelf, ordering, expected):
    for role in ("customer", "admin"):
        response = client_as(role).get("/products", {"ordering": ordering})

        assert response.status_code == 200
        assert [p["id"] for p in response.json()["results"]] == [shelf[name] for name in expected]


# --- roles for every new endpoint


def _targets(draft_product_factory, variant_factory, product_factory):
    return {
        "draft": _draft_with_active_variant(draft_product_factory, variant_factory),
        "published": product_factory(),
    }


# name: (method, path, body, status on success, target)
NEW_ENDPOINTS = {
    "create_draft": ("post", "/products", {"name": "Draft"}, 201, "draft"),
    "create_with_status": (
        "post",
        "/products",
        {"name": "D", "sku": "D-1", "price": "1", "status": "DRAFT"},
        201,
        "draft",
    ),
    "add_variant": ("post", "/products/{id}/variants", {"sku": "NEW-VAR-1", "price": "2"}, 201, "published"),
    "patch_variant": ("patch", "/variants/{variant_id}", {"price": "3"}, 200, "published"),
    "publish": ("post", "/products/{id}/publish", None, 200, "draft"),
    "archive": ("post", "/products/{id}/archive", None, 200, "published"),
}
NEW_REFUSALS = {
    "admin": None,
    "inventory_manager": None,
    "customer": (403, "staff_required"),
    "anonymous": (401, "not_authenticated"),
}


def _call(client, endpoint: str, targets: dict, slash: str = ""):
    method, path, body, _, target = NEW_ENDPOINTS[endpoint]
    product = targets[target]
    url = path.format(id=product.pk, variant_id=Variant.objects.filter(product=product).first().pk) + slash
    return getattr(client, method)(url, body) if body is not None else getattr(client, method)(url)


@pytest.mark.parametrize("endpoint", list(NEW_ENDPOINTS))
@pytest.mark.parametrize("role", list(NEW_REFUSALS))
def test_new_endpoints_by_role(client_as, draft_product_factory, variant_factory, product_factory, role, endpoint):
    targets = _targets(draft_product_factory, variant_factory, product_factory)
    client = client_as(role)
    before = db_state()

    response = _call(client, endpoint, targets)

    refusal = NEW_REFUSALS[role]
    if refusal is None:
        assert response.status_code == NEW_ENDPOINTS[endpoint][3], response.content
        assert db_state() != before
    else:
        assert response.status_code == refusal[0]
        assert error_of(response)["code"] == refusal[1]
        assert db_state() == before


@pytest.mark.parametrize("endpoint", list(NEW_ENDPOINTS))
def test_new_endpoints_answer_with_a_trailing_slash(
    admin_client, draft_product_factory, variant_factory, product_factory, endpoint
):
    targets = _targets(draft_product_factory, variant_factory, product_factory)

    response = _call(admin_client, endpoint, targets, slash="/")

    assert response.status_code == NEW_ENDPOINTS[endpoint][3], response.content
    assert "Location" not in response


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/variants/{id}"),
        ("put", "/variants/{id}"),
        ("delete", "/variants/{id}"),
        ("get", "/products/{pid}/publish"),
    ],
)
def test_other_methods_on_the_new_endpoints_are_405(admin_client, product, method, path):
    variant = only_variant(product)
    before = db_state()

    response = getattr(admin_client, method)(path.format(id=variant.pk, pid=product.pk))

    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"
    assert db_state() == before


# --- images in the product body


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def _picture(tmp_path, name: str) -> SimpleUploadedFile:
    path = tmp_path / name
    Image.new("RGB", (4, 3), "red").save(path, format="PNG")
    return SimpleUploadedFile(name, path.read_bytes(), content_type="image/png")


def test_product_renders_its_images_by_position(manager_client, product, media):
    second = product_image_add(product_id=product.pk, upload=_picture(media, "b.png"), alt="back", position=2)
    first = product_image_add(product_id=product.pk, upload=_picture(media, "a.png"), alt="front", position=1)

    images = manager_client.get(f"/products/{product.pk}").json()["images"]

    assert [(image["id"], image["alt"], image["position"]) for image in images] == [
        (first.pk, "front", 1),
        (second.pk, "back", 2),
    ]
    assert all(image["url"].startswith("http://testserver/media/") for image in images)


# --- the query budget


def _catalogue_of(count: int, product_factory, variant_factory, media) -> None:
    for index in range(count):
        product = product_factory()
        variant_factory(product=product)  # two variants each
        if index % 2 == 0:
            product_image_add(product_id=product.pk, upload=_picture(media, f"p{index}.png"))


@pytest.mark.parametrize("role", ["customer", "admin"])
def test_product_list_costs_the_same_queries_for_5_and_50_products(
    client_as, product_factory, variant_factory, media, django_assert_num_queries, role
):
    client = client_as(role)
    counts = []
    for batch in (5, 45):
        _catalogue_of(batch, product_factory, variant_factory, media)
        # auth 1, throttle cache 6, count, page, variants, images
        with django_assert_num_queries(11) as captured:
            response = client.get("/products", {"page_size": 100})
        assert response.status_code == 200
        assert all(len(product["variants"]) == 2 for product in response.json()["results"])
        counts.append(len(captured))

    assert response.json()["count"] == 50
    assert counts[0] == counts[1] == 11


def test_product_detail_has_a_fixed_query_budget(manager_client, multi, django_assert_max_num_queries):
    with django_assert_max_num_queries(11):
        response = manager_client.get(f"/products/{multi['product'].pk}")

    assert len(response.json()["variants"]) == 3
