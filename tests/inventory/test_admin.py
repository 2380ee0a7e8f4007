"""The admin console: pages load for staff, and every write goes through the inventory services."""

from decimal import Decimal

import pytest

from inventory.models import MovementKind, Product, StockMovement
from inventory.services import product_update

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["admin", "inventory_manager"])
def staff_browser(request, client, admin_user, inventory_manager):
    client.force_login(admin_user if request.param == "admin" else inventory_manager)
    return client


def change_form(product, **changes) -> dict:
    movements = StockMovement.objects.filter(product=product).count()
    return {
        "name": product.name,
        "description": product.description,
        "price": str(product.price),
        "is_active": "on" if product.is_active else "",
        "edited_version": str(product.version),
        "movements-TOTAL_FORMS": str(movements),
        "movements-INITIAL_FORMS": str(movements),
        "movements-MIN_NUM_FORMS": "0",
        "movements-MAX_NUM_FORMS": "1000",
        **changes,
    }


def test_product_changelist_lists_and_searches(staff_browser, product_factory):
    product_factory(sku="FIND-ME")
    product_factory(sku="OTHER-1")

    page = staff_browser.get("/admin/inventory/product/")
    found = staff_browser.get("/admin/inventory/product/", {"q": "find"})

    assert page.status_code == 200
    assert b"FIND-ME" in page.content
    assert b"OTHER-1" in page.content
    assert b"FIND-ME" in found.content
    assert b"OTHER-1" not in found.content


def test_admin_add_creates_the_product_through_the_service(staff_browser):
    response = staff_browser.post(
        "/admin/inventory/product/add/",
        {
            "sku": "new-sku",
            "name": "New",
            "description": "",
            "price": "12.50",
            "stock_quantity": "40",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    product = Product.objects.get(sku="NEW-SKU")
    assert (product.stock_quantity, product.price) == (40, Decimal("12.50"))
    assert StockMovement.objects.get(product=product).kind == MovementKind.RECEIPT


def test_admin_add_refuses_a_duplicate_sku(staff_browser, product_factory):
    product_factory(sku="TAKEN-1")

    response = staff_browser.post(
        "/admin/inventory/product/add/",
        {"sku": "taken-1", "name": "Dup", "price": "1.00", "stock_quantity": "1", "is_active": "on"},
    )

    assert response.status_code == 200
    assert b"already exists" in response.content
    assert Product.objects.filter(sku="TAKEN-1").count() == 1


def test_admin_change_updates_through_the_service(staff_browser, product):
    response = staff_browser.post(f"/admin/inventory/product/{product.pk}/change/", change_form(product, price="19.99"))

    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.price, product.version, product.stock_quantity) == (Decimal("19.99"), 2, 100)


def test_admin_change_refuses_a_stale_edit(staff_browser, product, admin_user):
    stale = change_form(product, price="1.00")
    product_update(product_id=product.pk, actor=admin_user, changes={"name": "Edited meanwhile"})

    response = staff_browser.post(f"/admin/inventory/product/{product.pk}/change/", stale)

    assert response.status_code == 200
    assert b"Someone else changed this product" in response.content
    product.refresh_from_db()
    assert (product.name, product.price, product.version) == ("Edited meanwhile", Decimal("10.00"), 2)


def test_admin_adjust_stock_writes_the_ledger(staff_browser, product):
    url = f"/admin/inventory/product/{product.pk}/adjust-stock/"

    page = staff_browser.get(url)
    response = staff_browser.post(url, {"delta": "-7", "reason": "damaged pallet"})

    assert page.status_code == 200
    assert response.status_code == 302
    assert Product.objects.get(pk=product.pk).stock_quantity == 93
    movement = StockMovement.objects.filter(product=product).order_by("-id").first()
    assert (movement.kind, movement.available_delta, movement.reason) == (MovementKind.ADJUSTMENT, -7, "damaged pallet")


def test_admin_adjust_stock_below_zero_shows_the_error(staff_browser, product):
    response = staff_browser.post(
        f"/admin/inventory/product/{product.pk}/adjust-stock/", {"delta": "-500", "reason": "count"}
    )

    assert response.status_code == 200
    assert b"below zero" in response.content
    assert Product.objects.get(pk=product.pk).stock_quantity == 100
    assert StockMovement.objects.filter(product=product).count() == 1


def test_admin_deactivate_action(staff_browser, product_factory):
    a, b = product_factory(), product_factory()

    response = staff_browser.post("/admin/inventory/product/", {"action": "deactivate", "_selected_action": [a.pk]})

    assert response.status_code == 302
    assert Product.objects.get(pk=a.pk).is_active is False
    assert Product.objects.get(pk=b.pk).is_active is True


def test_ledger_admin_is_read_only(staff_browser, product):
    movement = StockMovement.objects.get(product=product)

    assert staff_browser.get("/admin/inventory/stockmovement/").status_code == 200
    assert staff_browser.get("/admin/inventory/stockmovement/add/").status_code == 403
    assert (
        staff_browser.post(f"/admin/inventory/stockmovement/{movement.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert StockMovement.objects.filter(pk=movement.pk).exists()


def test_product_delete_is_not_offered_in_the_admin(staff_browser, product):
    response = staff_browser.post(f"/admin/inventory/product/{product.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert Product.objects.filter(pk=product.pk).exists()


def test_customers_cannot_enter_the_admin(client, customer):
    client.force_login(customer)

    response = client.get("/admin/inventory/product/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
