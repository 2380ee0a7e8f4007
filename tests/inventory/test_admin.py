"""The admin console: pages load for staff, and every write goes through the inventory services."""

from decimal import Decimal

import pytest

from inventory.models import MovementKind, Product, StockMovement
from inventory.selectors import ledger_mismatches
from inventory.services import product_update

pytestmark = pytest.mark.django_db

PRODUCTS = "/admin/inventory/product/"
MOVEMENTS = "/admin/inventory/stockmovement/"


@pytest.fixture(params=["admin", "inventory_manager"])
def staff_user(request, admin_user, inventory_manager):
    return admin_user if request.param == "admin" else inventory_manager


@pytest.fixture
def staff_browser(client, staff_user):
    client.force_login(staff_user)
    return client


def db_state() -> tuple[list, list]:
    return (
        list(Product.objects.order_by("pk").values()),
        list(StockMovement.objects.order_by("pk").values()),
    )


def add_form(**changes) -> dict:
    return {
        "sku": "new-sku",
        "name": "New",
        "description": "Fresh stock",
        "price": "12.50",
        "stock_quantity": "40",
        "is_active": "on",
        **changes,
    }


def change_form(product, **changes) -> dict:
    """What the change page posts: the editable fields, the version loaded, the ledger inline's management form."""
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


# --- product changelist


def test_product_changelist_lists_and_searches(staff_browser, product_factory):
    product_factory(sku="FIND-ME", name="Blue lamp")
    product_factory(sku="OTHER-1", name="Red chair")

    page = staff_browser.get(PRODUCTS)
    by_sku = staff_browser.get(PRODUCTS, {"q": "find"})
    by_name = staff_browser.get(PRODUCTS, {"q": "chair"})

    assert page.status_code == 200
    assert b"FIND-ME" in page.content
    assert b"OTHER-1" in page.content
    assert b"Adjust stock" in page.content
    assert by_sku.status_code == 200
    assert b"FIND-ME" in by_sku.content
    assert b"OTHER-1" not in by_sku.content
    assert b"OTHER-1" in by_name.content
    assert b"FIND-ME" not in by_name.content


# --- add form


def test_admin_add_creates_the_product_through_the_service(staff_browser, staff_user):
    response = staff_browser.post(f"{PRODUCTS}add/", add_form())

    assert response.status_code == 302
    product = Product.objects.get(sku="NEW-SKU")
    assert (product.name, product.description, product.price, product.stock_quantity) == (
        "New",
        "Fresh stock",
        Decimal("12.50"),
        40,
    )
    assert (product.reserved_quantity, product.version, product.is_active) == (0, 1, True)
    movement = StockMovement.objects.get(product=product)
    assert (movement.kind, movement.available_delta, movement.available_after) == (MovementKind.RECEIPT, 40, 40)
    assert (movement.reason, movement.actor) == ("initial stock", staff_user)
    assert list(ledger_mismatches()) == []


def test_admin_add_without_stock_writes_no_ledger_row(staff_browser):
    response = staff_browser.post(f"{PRODUCTS}add/", add_form(stock_quantity="0", is_active=""))

    assert response.status_code == 302
    product = Product.objects.get(sku="NEW-SKU")
    assert (product.stock_quantity, product.is_active) == (0, False)
    assert not StockMovement.objects.exists()


def test_admin_add_refuses_a_duplicate_sku(staff_browser, product_factory):
    product_factory(sku="TAKEN-1")
    before = db_state()

    response = staff_browser.post(f"{PRODUCTS}add/", add_form(sku="taken-1"))

    assert response.status_code == 200
    assert b"already exists" in response.content
    assert db_state() == before


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"price": "-1"}, b"product_price_nonnegative"),
        ({"stock_quantity": "-3"}, b"product_stock_nonnegative"),
        ({"price": "abc"}, b"Enter a number"),
        ({"name": ""}, b"This field is required"),
    ],
)
def test_admin_add_refuses_invalid_values(staff_browser, changes, message):
    response = staff_browser.post(f"{PRODUCTS}add/", add_form(**changes))

    assert response.status_code == 200
    assert message in response.content
    assert not Product.objects.exists()
    assert not StockMovement.objects.exists()


@pytest.mark.parametrize("sku", ["a b", "abc?", "-abc"])
def test_admin_add_refuses_an_sku_the_api_refuses(client, admin_user, sku):
    client.force_login(admin_user)

    response = client.post(f"{PRODUCTS}add/", add_form(sku=sku))

    assert response.status_code == 200
    assert not Product.objects.exists()


# --- change form


def test_admin_change_page_shows_the_ledger_inline(staff_browser, product):
    response = staff_browser.get(f"{PRODUCTS}{product.pk}/change/")

    assert response.status_code == 200
    assert b'name="movements-TOTAL_FORMS"' in response.content
    assert b'name="edited_version"' in response.content
    assert b"initial stock" in response.content
    assert b'name="stock_quantity"' not in response.content  # read-only: stock moves only through the ledger


def test_admin_change_updates_through_the_service(staff_browser, product):
    response = staff_browser.post(
        f"{PRODUCTS}{product.pk}/change/", change_form(product, price="19.99", description="Now in blue")
    )

    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.price, product.description, product.version, product.stock_quantity) == (
        Decimal("19.99"),
        "Now in blue",
        2,
        100,
    )
    assert StockMovement.objects.filter(product=product).count() == 1


def test_admin_change_ignores_read_only_quantities(staff_browser, product):
    sku = product.sku

    response = staff_browser.post(
        f"{PRODUCTS}{product.pk}/change/",
        change_form(product, price="11.00", stock_quantity="999", reserved_quantity="5", sku="HIJACK", version="9"),
    )

    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.sku, product.stock_quantity, product.reserved_quantity) == (sku, 100, 0)
    assert (product.price, product.version) == (Decimal("11.00"), 2)
    assert not Product.objects.filter(sku="HIJACK").exists()
    assert list(ledger_mismatches()) == []


def test_admin_change_refuses_a_stale_edit(staff_browser, product, admin_user):
    stale = change_form(product, price="1.00")
    product_update(product_id=product.pk, actor=admin_user, changes={"name": "Edited meanwhile"})
    before = db_state()

    response = staff_browser.post(f"{PRODUCTS}{product.pk}/change/", stale)

    assert response.status_code == 200
    assert b"Someone else changed this product" in response.content
    assert db_state() == before


def test_admin_change_refuses_an_invalid_price(staff_browser, product):
    before = db_state()

    response = staff_browser.post(f"{PRODUCTS}{product.pk}/change/", change_form(product, price="-5"))

    assert response.status_code == 200
    assert b"product_price_nonnegative" in response.content
    assert db_state() == before


# --- adjust stock


def test_admin_adjust_stock_writes_the_ledger(staff_browser, staff_user, product):
    url = f"{PRODUCTS}{product.pk}/adjust-stock/"

    page = staff_browser.get(url)
    response = staff_browser.post(url, {"delta": "-7", "reason": "damaged pallet"})

    assert page.status_code == 200
    assert b'name="delta"' in page.content
    assert b"<strong>100</strong>" in page.content
    assert response.status_code == 302
    assert response["Location"] == f"{PRODUCTS}{product.pk}/change/"
    product.refresh_from_db()
    assert (product.stock_quantity, product.version) == (93, 2)
    movement = StockMovement.objects.filter(product=product).order_by("-id").first()
    assert (movement.kind, movement.available_delta, movement.available_after) == (MovementKind.ADJUSTMENT, -7, 93)
    assert (movement.reason, movement.actor) == ("damaged pallet", staff_user)
    assert list(ledger_mismatches()) == []


def test_admin_adjust_stock_below_zero_shows_the_error(staff_browser, product):
    before = db_state()

    response = staff_browser.post(f"{PRODUCTS}{product.pk}/adjust-stock/", {"delta": "-500", "reason": "count"})

    assert response.status_code == 200
    assert b"below zero" in response.content
    assert db_state() == before
    assert Product.objects.get(pk=product.pk).stock_quantity == 100
    assert StockMovement.objects.filter(product=product).count() == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"delta": "0", "reason": "x"}, b"A zero adjustment changes nothing."),
        ({"delta": "5", "reason": ""}, b"This field is required"),
        ({"delta": "five", "reason": "x"}, b"Enter a whole number"),
    ],
)
def test_admin_adjust_stock_validates_the_form(staff_browser, product, data, message):
    before = db_state()

    response = staff_browser.post(f"{PRODUCTS}{product.pk}/adjust-stock/", data)

    assert response.status_code == 200
    assert message in response.content
    assert db_state() == before


def test_admin_adjust_stock_of_unknown_product_redirects(staff_browser):
    response = staff_browser.get(f"{PRODUCTS}424242/adjust-stock/")

    assert response.status_code == 302
    assert not StockMovement.objects.exists()


# --- the ledger admin


def test_ledger_admin_lists_movements(staff_browser, product_factory):
    product_factory(sku="LEDGER-1")

    response = staff_browser.get(MOVEMENTS)

    assert response.status_code == 200
    assert b"LEDGER-1" in response.content
    assert b"initial stock" in response.content


def test_ledger_admin_is_read_only(staff_browser, product):
    movement = StockMovement.objects.get(product=product)
    before = db_state()

    assert staff_browser.get(f"{MOVEMENTS}add/").status_code == 403
    assert staff_browser.post(f"{MOVEMENTS}add/", {"product": product.pk, "kind": "RECEIPT"}).status_code == 403
    assert staff_browser.post(f"{MOVEMENTS}{movement.pk}/change/", {"reason": "rewritten"}).status_code == 403
    assert staff_browser.post(f"{MOVEMENTS}{movement.pk}/delete/", {"post": "yes"}).status_code == 403
    assert b"Add stock movement" not in staff_browser.get(MOVEMENTS).content
    assert db_state() == before


def test_product_delete_is_not_offered_in_the_admin(staff_browser, product):
    before = db_state()

    response = staff_browser.post(f"{PRODUCTS}{product.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert db_state() == before


# --- the deactivate action


def test_admin_deactivate_action(staff_browser, product_factory):
    a, b, c = product_factory(), product_factory(), product_factory()
    already = product_factory(is_active=False)

    response = staff_browser.post(
        PRODUCTS, {"action": "deactivate", "_selected_action": [a.pk, b.pk, already.pk], "index": "0"}
    )

    assert response.status_code == 302
    states = {p.pk: (p.is_active, p.version) for p in Product.objects.all()}
    assert states[a.pk] == (False, 2)
    assert states[b.pk] == (False, 2)
    assert states[c.pk] == (True, 1)
    assert states[already.pk] == (False, 1)  # already inactive: not touched again


# --- who may enter


@pytest.mark.parametrize("path", [PRODUCTS, f"{PRODUCTS}add/", MOVEMENTS, "{product}/adjust-stock/"])
def test_customers_cannot_enter_the_admin(client, customer, product, path):
    client.force_login(customer)

    response = client.get(path.replace("{product}", f"{PRODUCTS}{product.pk}"))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_customers_cannot_write_through_the_admin(client, customer, product):
    client.force_login(customer)
    before = db_state()

    responses = [
        client.post(f"{PRODUCTS}{product.pk}/adjust-stock/", {"delta": "5", "reason": "x"}),
        client.post(PRODUCTS, {"action": "deactivate", "_selected_action": [product.pk]}),
        client.post(f"{PRODUCTS}add/", add_form()),
    ]

    assert [r.status_code for r in responses] == [302, 302, 302]
    assert all("/admin/login/" in r["Location"] for r in responses)
    assert db_state() == before


def test_anonymous_visitors_are_sent_to_the_admin_login(client, product):
    response = client.get(PRODUCTS)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
