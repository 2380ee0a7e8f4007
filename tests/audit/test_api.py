"""Staff changes through the API are in the audit trail: the caller (the JWT's user), when, old and new values.

A change the API refuses (400, 403, 409) records nothing; stock changes stay in the ledger only.
"""

from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Role, User
from catalog.models import Brand, Category, Product, ProductStatus, Variant
from inventory.models import DEFAULT_LOCATION_CODE, Location, StockMovement, Warehouse
from tests.assertions import error_of
from tests.audit.helpers import entries, history_rows, last_entry, trail

pytestmark = pytest.mark.django_db

STRONG = "Str0ng-Passphrase-42"


def test_variant_price_change_records_the_caller_the_time_and_both_prices(
    manager_client, inventory_manager, variant_factory
):
    variant = variant_factory(price=Decimal("10.00"))
    start = timezone.now()

    response = manager_client.patch(f"/variants/{variant.pk}", {"price": "12.50"}, format="json")

    end = timezone.now()
    assert response.status_code == 200, response.content
    record = trail(variant)[-1]
    assert start <= record.history_date <= end
    assert last_entry(variant) == ("~", inventory_manager.pk, {"price": (Decimal("10.00"), Decimal("12.50"))})


def test_product_change_records_the_product_and_its_only_variant(manager_client, inventory_manager, product_factory):
    product = product_factory(name="Widget", price=Decimal("10.00"))

    response = manager_client.patch(
        f"/products/{product.pk}", {"name": "Gadget", "price": "11.00", "is_active": False}, format="json"
    )

    assert response.status_code == 200, response.content
    assert last_entry(product) == ("~", inventory_manager.pk, {"name": ("Widget", "Gadget")})
    assert last_entry(product.variants.get()) == (
        "~",
        inventory_manager.pk,
        {"price": (Decimal("10.00"), Decimal("11.00")), "is_active": (True, False)},
    )


def test_publish_archive_and_new_variants_record_the_caller(
    admin_client, admin_user, draft_product_factory, variant_factory
):
    product = draft_product_factory()
    variant_factory(product=product)

    added = admin_client.post(f"/products/{product.pk}/variants", {"sku": "new-1", "price": "7.00"}, format="json")
    published = admin_client.post(f"/products/{product.pk}/publish")
    archived = admin_client.post(f"/products/{product.pk}/archive")

    assert [added.status_code, published.status_code, archived.status_code] == [201, 200, 200]
    kind, user, values = last_entry(Variant.objects.get(sku="NEW-1"))
    assert (kind, user, values["price"]) == ("+", admin_user.pk, (None, Decimal("7.00")))
    statuses = [(user, values.get("status")) for _, user, values in entries(product)[1:]]
    assert statuses == [
        (admin_user.pk, (ProductStatus.DRAFT, ProductStatus.PUBLISHED)),
        (admin_user.pk, (ProductStatus.PUBLISHED, ProductStatus.ARCHIVED)),
    ]


def test_brand_and_category_changes_record_the_caller(manager_client, inventory_manager):
    brand = manager_client.post("/brands", {"name": "Acme"}, format="json")
    category = manager_client.post("/categories", {"name": "Lamps"}, format="json")
    changed = manager_client.patch(
        f"/categories/{category.json()['id']}", {"name": "Lights", "is_active": False}, format="json"
    )

    assert [brand.status_code, category.status_code, changed.status_code] == [201, 201, 200]
    assert last_entry(Brand.objects.get())[:2] == ("+", inventory_manager.pk)
    lights = Category.objects.get()
    assert [entry[:2] for entry in entries(lights)] == [("+", inventory_manager.pk), ("~", inventory_manager.pk)]
    assert last_entry(lights)[2] == {"name": ("Lamps", "Lights"), "is_active": (True, False)}


def test_warehouse_and_location_changes_record_the_caller(manager_client, inventory_manager):
    created = manager_client.post("/warehouses", {"code": "west", "name": "West", "priority": 20}, format="json")
    west = Warehouse.objects.get(code="WEST")
    shelf = manager_client.post("/locations", {"warehouse_id": west.pk, "code": "a-01"}, format="json")
    reprioritised = manager_client.patch(f"/warehouses/{west.pk}", {"priority": 5, "is_active": False}, format="json")
    closed = manager_client.patch(f"/locations/{shelf.json()['id']}", {"is_active": False}, format="json")

    assert [r.status_code for r in (created, shelf, reprioritised, closed)] == [201, 201, 200, 200]
    assert [entry[:2] for entry in entries(west)] == [("+", inventory_manager.pk), ("~", inventory_manager.pk)]
    assert last_entry(west)[2] == {"priority": (20, 5), "is_active": (True, False)}
    assert last_entry(Location.objects.get(warehouse=west, code=DEFAULT_LOCATION_CODE))[:2] == (
        "+",
        inventory_manager.pk,
    )
    assert last_entry(Location.objects.get(code="A-01")) == ("~", inventory_manager.pk, {"is_active": (True, False)})


def test_seed_001_product_create_and_delete_record_the_caller(admin_client, admin_user):
    """``product_create_with_stock`` and ``product_remove`` pass no actor on: the trail takes the request's user."""
    created = admin_client.post(
        "/products", {"name": "Lamp", "sku": "lamp-1", "price": "9.99", "stock_quantity": 0}, format="json"
    )
    product = Product.objects.get(pk=created.json()["id"])
    variant = product.variants.get()

    deleted = admin_client.delete(f"/products/{product.pk}")

    assert [created.status_code, deleted.status_code] == [201, 204]
    assert [entry[:2] for entry in entries(product)] == [("+", admin_user.pk), ("-", admin_user.pk)]
    assert [entry[:2] for entry in entries(variant)] == [("+", admin_user.pk), ("-", admin_user.pk)]


def test_accounts_registered_by_an_admin_name_the_admin_and_self_registrations_nobody(
    client_for, admin_user, api_client
):
    by_admin = client_for(admin_user).post(
        "/auth/register", {"email": "ops@example.com", "password": STRONG, "role": "inventory_manager"}, format="json"
    )
    by_themselves = api_client.post("/auth/register", {"email": "buyer@example.com", "password": STRONG}, format="json")

    assert [by_admin.status_code, by_themselves.status_code] == [201, 201]
    kind, user, values = last_entry(User.objects.get(email="ops@example.com"))
    assert (kind, user, values["role"]) == ("+", admin_user.pk, (None, Role.INVENTORY_MANAGER))
    assert "password" not in values
    assert last_entry(User.objects.get(email="buyer@example.com"))[:2] == ("+", None)


def test_a_stock_adjustment_is_in_the_ledger_and_not_repeated_in_the_trail(
    manager_client, inventory_manager, product_factory
):
    product = product_factory(sku="PEN-1", stock_quantity=10)
    variant = product.variants.get()
    location = Location.objects.get(warehouse__code="MAIN", code=DEFAULT_LOCATION_CODE)
    before = history_rows()

    response = manager_client.post(
        "/stock/adjustments",
        {"sku": "pen-1", "location_id": location.pk, "delta": -4, "reason": "breakage"},
        format="json",
    )

    assert response.status_code == 201, response.content
    movement = StockMovement.objects.get(stock__variant=variant, kind="ADJUSTMENT")
    assert (movement.actor_id, movement.on_hand_delta, movement.reason) == (inventory_manager.pk, -4, "breakage")
    assert history_rows() == before


# --- refused changes record nothing


def test_a_stale_product_version_is_409_and_records_nothing(manager_client, product_factory):
    product = product_factory()
    before = history_rows()

    response = manager_client.patch(f"/products/{product.pk}", {"name": "Lost", "version": 9}, format="json")

    assert response.status_code == 409
    assert error_of(response)["code"] == "version_conflict"
    assert error_of(response)["details"] == {"product_id": product.pk, "expected_version": 9, "current_version": 1}
    assert history_rows() == before


def test_a_bad_price_is_400_and_records_nothing(manager_client, variant_factory):
    variant = variant_factory(price=Decimal("10.00"))
    before = history_rows()

    response = manager_client.patch(f"/variants/{variant.pk}", {"price": "-1"}, format="json")

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "validation_error"
    assert set(error["details"]["fields"]) == {"price"}
    assert history_rows() == before
    assert Variant.objects.get(pk=variant.pk).price == Decimal("10.00")


def test_refused_transitions_moves_and_codes_record_nothing(
    admin_client, draft_product_factory, category_factory, warehouse_factory
):
    empty = draft_product_factory()
    parent = category_factory(name="Parent")
    child = category_factory(name="Child", parent=parent)
    default = Location.objects.get(warehouse=warehouse_factory(), code=DEFAULT_LOCATION_CODE)
    before = history_rows()

    publish = admin_client.post(f"/products/{empty.pk}/publish")
    cycle = admin_client.patch(f"/categories/{parent.pk}", {"parent_id": child.pk}, format="json")
    renamed = admin_client.patch(f"/locations/{default.pk}", {"code": "INBOUND"}, format="json")

    assert (publish.status_code, error_of(publish)["code"]) == (409, "invalid_transition")
    assert (cycle.status_code, error_of(cycle)["code"]) == (400, "category_cycle")
    assert (renamed.status_code, error_of(renamed)["code"]) == (409, "default_location_fixed")
    assert error_of(renamed)["details"] == {"location_id": default.pk}
    assert history_rows() == before


def test_customers_change_nothing_and_record_nothing(customer_client, variant_factory, warehouse_factory):
    variant = variant_factory()
    warehouse = warehouse_factory()
    before = history_rows()

    price = customer_client.patch(f"/variants/{variant.pk}", {"price": "0.01"}, format="json")
    closed = customer_client.patch(f"/warehouses/{warehouse.pk}", {"is_active": False}, format="json")

    assert [price.status_code, closed.status_code] == [403, 403]
    assert error_of(price)["code"] == error_of(closed)["code"] == "staff_required"
    assert history_rows() == before
