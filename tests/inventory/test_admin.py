"""Inventory in the admin console: numbers are read-only, and stock moves only through the inventory services."""

import csv
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

import inventory.resources
from inventory.models import (
    DEFAULT_LOCATION_CODE,
    Location,
    MovementKind,
    Reservation,
    ReservationStatus,
    Stock,
    StockMovement,
    Warehouse,
)
from inventory.services.locations import default_location
from inventory.services.receipts import ReceiptLine, stock_receipt_create
from inventory.services.reservations import reservation_hold, reservation_release
from inventory.services.warehouses import location_update, warehouse_update
from tests.admin_helpers import (
    CSV_FORMAT,
    XLSX_FORMAT,
    ImportExport,
    csv_file,
    listed,
    messages_of,
    row_errors,
    xlsx_file,
)
from tests.locking import BUSY, held_in_another_transaction
from tests.stock import assert_stock_consistent, only_variant, rows_of

pytestmark = pytest.mark.django_db

WAREHOUSES = "/admin/inventory/warehouse/"
LOCATIONS = "/admin/inventory/location/"
STOCK = "/admin/inventory/stock/"
RESERVATIONS = "/admin/inventory/reservation/"
MOVEMENTS = "/admin/inventory/stockmovement/"
COUNT_COLUMNS = ["sku", "warehouse", "location", "on_hand"]
COUNT_FILES = ImportExport(STOCK, resource="stockcountresource", columns=COUNT_COLUMNS)


def inventory_state() -> tuple[list, list, list, list, list]:
    return (
        list(Warehouse.objects.order_by("pk").values()),
        list(Location.objects.order_by("pk").values()),
        list(Stock.objects.order_by("pk").values("pk", "variant_id", "location_id", "on_hand", "reserved")),
        list(StockMovement.objects.order_by("pk").values()),
        list(Reservation.objects.order_by("pk").values()),
    )


def receive(actor, warehouse, sku: str, quantity: int, location: Location | None = None) -> None:
    stock_receipt_create(
        warehouse_id=warehouse.pk,
        lines=[ReceiptLine(sku=sku, quantity=quantity, location_id=location.pk if location else None)],
        actor=actor,
        reference="setup",
    )


@pytest.fixture
def main() -> Warehouse:
    return default_location().warehouse


@pytest.fixture
def spread(product_factory, warehouse_factory, location_factory, admin_user):
    """LAMP-1: 100 at MAIN/DEFAULT, 30 at EAST/DEFAULT, 5 at EAST/A-01; CHAIR-1: 100 at MAIN/DEFAULT."""
    lamp = product_factory(sku="LAMP-1", name="Lamp")
    chair = product_factory(sku="CHAIR-1", name="Chair")
    east = warehouse_factory(code="EAST", priority=50)
    shelf = location_factory(warehouse=east, code="A-01")
    receive(admin_user, east, "LAMP-1", 30)
    receive(admin_user, east, "LAMP-1", 5, shelf)
    return {"lamp": only_variant(lamp), "chair": only_variant(chair), "east": east, "shelf": shelf}


# --- who gets in


@pytest.mark.parametrize(
    "url",
    [WAREHOUSES, STOCK, RESERVATIONS, MOVEMENTS, f"{STOCK}receive/", f"{STOCK}adjust/", f"{STOCK}import/"],
)
def test_customers_cannot_reach_the_inventory_admin(client, customer, url):
    client.force_login(customer)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_customers_cannot_post_stock_operations(client, customer, spread):
    client.force_login(customer)
    before = inventory_state()

    response = client.post(
        f"{STOCK}adjust/", {"sku": "LAMP-1", "location": str(spread["shelf"].pk), "delta": "5", "reason": "x"}
    )

    assert response.status_code == 302
    assert inventory_state() == before


# --- warehouses and locations


def location_rows(warehouse: Warehouse | None, *new: tuple[str, bool]) -> dict:
    existing = list(warehouse.locations.order_by("pk")) if warehouse else []
    data = {
        "locations-TOTAL_FORMS": str(len(existing) + len(new)),
        "locations-INITIAL_FORMS": str(len(existing)),
        "locations-MIN_NUM_FORMS": "0",
        "locations-MAX_NUM_FORMS": "1000",
    }
    for index, location in enumerate(existing):
        data.update(
            {
                f"locations-{index}-id": str(location.pk),
                f"locations-{index}-warehouse": str(warehouse.pk),
                f"locations-{index}-code": location.code,
                f"locations-{index}-is_active": "on" if location.is_active else "",
            }
        )
    for offset, (code, active) in enumerate(new, len(existing)):
        data.update({f"locations-{offset}-code": code, f"locations-{offset}-is_active": "on" if active else ""})
    return data


def test_warehouse_add_creates_it_with_its_default_location(staff_browser):
    data = {"code": " west ", "name": " West ", "address": "1 Dock Rd", "priority": "20"}
    data.update(location_rows(None, ("a-01", True), ("b-01", False)))

    response = staff_browser.post(f"{WAREHOUSES}add/", data)

    assert response.status_code == 302
    west = Warehouse.objects.get(code="WEST")
    assert (west.name, west.address, west.priority, west.is_active) == ("West", "1 Dock Rd", 20, True)
    assert list(west.locations.order_by("code").values_list("code", "is_active")) == [
        ("A-01", True),
        ("B-01", False),
        (DEFAULT_LOCATION_CODE, True),
    ]


def test_warehouse_add_refuses_a_taken_code_and_a_second_default(staff_browser, main):
    before = inventory_state()
    taken = {"code": "main", "name": "Again", "address": "", "priority": "100", **location_rows(None)}
    default = {"code": "NEW", "name": "New", "address": "", "priority": "100"}
    default.update(location_rows(None, ("default", True)))

    taken_response = staff_browser.post(f"{WAREHOUSES}add/", taken)
    default_response = staff_browser.post(f"{WAREHOUSES}add/", default)

    assert taken_response.status_code == default_response.status_code == 200
    assert taken_response.context["adminform"].form.errors == {"code": ["Warehouse with this Code already exists."]}
    assert default_response.context["inline_admin_formsets"][0].formset.errors == [
        {"code": ["The DEFAULT location is created with the warehouse."]}
    ]
    assert inventory_state() == before


def test_warehouse_change_goes_through_the_services(staff_browser, warehouse_factory):
    east = warehouse_factory(code="EAST")
    data = {"name": "East side", "address": "Pier 9", "priority": "5", "is_active": ""}
    data.update(location_rows(east, ("c-02", True)))

    response = staff_browser.post(f"{WAREHOUSES}{east.pk}/change/", data)

    assert response.status_code == 302
    east.refresh_from_db()
    assert (east.code, east.name, east.address, east.priority, east.is_active) == (
        "EAST",
        "East side",
        "Pier 9",
        5,
        False,
    )
    assert sorted(east.locations.values_list("code", flat=True)) == ["C-02", DEFAULT_LOCATION_CODE]


def test_location_codes_are_unique_per_warehouse_and_default_keeps_its_code(staff_browser, warehouse_factory):
    east = warehouse_factory(code="EAST")
    before = inventory_state()
    data = {"name": east.name, "address": "", "priority": "100", "is_active": "on"}
    data.update(location_rows(east, ("default", True)))
    renamed = {**data, **location_rows(east)}
    renamed["locations-0-code"] = "RECEIVING"

    duplicate = staff_browser.post(f"{WAREHOUSES}{east.pk}/change/", data)
    default_renamed = staff_browser.post(f"{WAREHOUSES}{east.pk}/change/", renamed)

    duplicates = duplicate.context["inline_admin_formsets"][0].formset
    assert duplicates.errors == [{}, {"__all__": ["Please correct the duplicate values below."]}]
    assert duplicates.non_form_errors() == ["Please correct the duplicate data for code."]
    assert default_renamed.context["inline_admin_formsets"][0].formset.errors == [
        {"code": ["The DEFAULT location receives goods and keeps its code."]}
    ]
    assert inventory_state() == before


def test_location_change_deactivates_and_renames_through_the_service(
    staff_browser, warehouse_factory, location_factory
):
    east = warehouse_factory(code="EAST")
    shelf = location_factory(warehouse=east, code="A-01")
    data = {"name": east.name, "address": "", "priority": "100", "is_active": "on", **location_rows(east)}
    index = list(east.locations.order_by("pk")).index(shelf)
    data[f"locations-{index}-code"] = "a-09"
    data[f"locations-{index}-is_active"] = ""

    response = staff_browser.post(f"{WAREHOUSES}{east.pk}/change/", data)

    assert response.status_code == 302
    shelf.refresh_from_db()
    assert (shelf.code, shelf.is_active) == ("A-09", False)


def test_locations_are_read_only_on_their_own_admin_pages(staff_browser, warehouse_factory, location_factory):
    shelf = location_factory(warehouse=warehouse_factory(code="EAST"), code="A-01")
    before = inventory_state()

    add = staff_browser.get(f"{LOCATIONS}add/")
    change = staff_browser.post(f"{LOCATIONS}{shelf.pk}/change/", {"code": "A-02", "is_active": ""})
    delete = staff_browser.post(f"{LOCATIONS}{shelf.pk}/delete/", {"post": "yes"})
    view = staff_browser.get(f"{LOCATIONS}{shelf.pk}/change/")

    assert (add.status_code, change.status_code, delete.status_code, view.status_code) == (403, 403, 403, 200)
    assert inventory_state() == before


# --- stock per location


def test_stock_of_a_sku_across_warehouses_in_one_screen(staff_browser, spread):
    location_update(location_id=spread["shelf"].pk, changes={"is_active": False}, actor=None)

    response = staff_browser.get(STOCK, {"q": "lamp-1"})

    assert response.status_code == 200
    rows = listed(response)
    assert [(r.location.warehouse.code, r.location.code, r.on_hand, r.reserved, r.available_units) for r in rows] == [
        ("EAST", "A-01", 5, 0, 0),  # an inactive location sells nothing
        ("EAST", "DEFAULT", 30, 0, 30),
        ("MAIN", "DEFAULT", 100, 0, 100),
    ]
    assert response.context["stock_totals"] == {"on_hand": 135, "reserved": 0, "available": 130}
    assert response.context["warehouse_totals"] == [
        {"warehouse": "EAST", "on_hand": 35, "reserved": 0, "available": 30},
        {"warehouse": "MAIN", "on_hand": 100, "reserved": 0, "available": 100},
    ]
    page = response.content.decode()
    assert "CHAIR-1" not in page
    assert "A-01 (inactive)" in page
    assert "All warehouses" in page


def test_stock_changelist_links_each_row_to_its_operations(staff_browser, spread):
    shelf = spread["shelf"]

    page = staff_browser.get(STOCK, {"q": "LAMP-1"}).content.decode()

    assert f'href="{STOCK}receive/"' in page
    assert f"href='{STOCK}import/'" in page  # the import-export template's own quoting
    assert f'href="{STOCK}export/?q=LAMP-1"' in page  # the export follows the search
    assert f"{STOCK}adjust/?sku=LAMP-1&amp;location={shelf.pk}" in page
    assert f"{STOCK}transfer/?sku=LAMP-1&amp;from_location={shelf.pk}" in page
    assert f"{MOVEMENTS}?q=LAMP-1&amp;warehouse={spread['east'].pk}" in page


def test_stock_changelist_queries_do_not_grow_with_the_rows(staff_browser, product_factory, spread):
    def queries_for_page() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert staff_browser.get(STOCK).status_code == 200
        return len(captured)

    few = queries_for_page()
    for n in range(10):
        product_factory(sku=f"MORE-{n}")

    assert queries_for_page() == few


def test_admin_index_shows_catalog_and_inventory_to_staff(staff_browser):
    response = staff_browser.get("/admin/")

    assert response.status_code == 200
    apps = {app["app_label"]: {model["object_name"] for model in app["models"]} for app in response.context["app_list"]}
    assert apps["catalog"] == {"Brand", "Category", "Product"}
    assert apps["inventory"] == {"Warehouse", "Stock", "Reservation", "StockMovement"}


@pytest.mark.parametrize(("page", "parameter"), [(STOCK, "warehouse"), (STOCK, "location"), (MOVEMENTS, "warehouse")])
def test_admin_id_filters_refuse_a_value_that_is_not_an_id(staff_browser, spread, page, parameter):
    response = staff_browser.get(page, {parameter: "abc"})

    assert response.status_code == 302  # Django's answer to an invalid lookup: back to the list, flagged
    assert response["Location"].endswith("?e=1")


def test_stock_changelist_filters_by_warehouse_and_shows_reservations(staff_browser, spread, staff_user):
    reservation_hold(sku="LAMP-1", quantity=4, location_id=spread["shelf"].pk, reference="hold", actor=staff_user)

    response = staff_browser.get(STOCK, {"warehouse": str(spread["east"].pk)})

    assert [(r.variant.sku, r.location.code, r.on_hand, r.reserved, r.available_units) for r in listed(response)] == [
        ("LAMP-1", "A-01", 5, 4, 1),
        ("LAMP-1", "DEFAULT", 30, 0, 30),
    ]
    assert response.context["stock_totals"] == {"on_hand": 35, "reserved": 4, "available": 31}


def test_stock_numbers_cannot_be_edited_in_the_admin(staff_browser, spread):
    row = Stock.objects.get(variant=spread["lamp"], location=spread["shelf"])
    before = inventory_state()

    add = staff_browser.get(f"{STOCK}add/")
    change = staff_browser.post(f"{STOCK}{row.pk}/change/", {"on_hand": "999", "reserved": "0"})
    delete = staff_browser.post(f"{STOCK}{row.pk}/delete/", {"post": "yes"})

    assert (add.status_code, change.status_code, delete.status_code) == (403, 403, 403)
    assert inventory_state() == before


# --- receive


def receipt_form(warehouse, reference: str = "PO-7", *lines: tuple[str, str, str]) -> dict:
    data = {
        "warehouse": str(warehouse.pk),
        "reference": reference,
        "reason": "",
        "lines-TOTAL_FORMS": "5",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
    }
    for index, (sku, quantity, location) in enumerate(lines):
        data.update(
            {f"lines-{index}-sku": sku, f"lines-{index}-quantity": quantity, f"lines-{index}-location": location}
        )
    return data


@pytest.mark.parametrize(
    ("page", "fields"),
    [
        ("receive", {"warehouse", "reference", "reason"}),
        ("adjust", {"sku", "location", "delta", "reason"}),
        ("transfer", {"sku", "from_location", "to_location", "quantity", "reference", "reason"}),
    ],
)
def test_operation_pages_load_for_staff(staff_browser, spread, page, fields):
    response = staff_browser.get(f"{STOCK}{page}/")

    assert response.status_code == 200
    assert set(response.context["form"].fields) == fields
    assert "Every change is written to the stock ledger." in response.content.decode()


def test_receive_form_books_a_receipt_through_the_service(staff_browser, staff_user, spread):
    response = staff_browser.post(
        f"{STOCK}receive/",
        receipt_form(spread["east"], "PO-7", ("lamp-1", "10", ""), ("CHAIR-1", "4", "a-01")),
        follow=True,
    )

    assert response.redirect_chain == [(f"{MOVEMENTS}?q=PO-7", 302)]
    assert messages_of(response) == [("success", "Received 14 units in 2 line(s) into EAST (reference PO-7).")]
    assert rows_of(spread["lamp"])["EAST/DEFAULT"] == (40, 0)
    assert rows_of(spread["chair"])["EAST/A-01"] == (4, 0)
    receipts = StockMovement.objects.filter(reference="PO-7").order_by("pk")
    assert [(m.kind, m.stock.variant.sku, m.on_hand_delta, m.actor) for m in receipts] == [
        (MovementKind.RECEIPT, "LAMP-1", 10, staff_user),
        (MovementKind.RECEIPT, "CHAIR-1", 4, staff_user),
    ]
    assert [m.pk for m in listed(response)] == [m.pk for m in receipts.order_by("-pk")]
    assert_stock_consistent()


def test_receive_form_refuses_unknown_skus_and_locations_and_writes_nothing(staff_browser, spread):
    before = inventory_state()

    unknown_sku = staff_browser.post(
        f"{STOCK}receive/", receipt_form(spread["east"], "PO-8", ("LAMP-1", "1", ""), ("NOPE-9", "2", ""))
    )
    unknown_location = staff_browser.post(
        f"{STOCK}receive/", receipt_form(spread["east"], "PO-8", ("LAMP-1", "1", "Z-99"))
    )
    no_lines = staff_browser.post(f"{STOCK}receive/", receipt_form(spread["east"], "PO-8"))
    bad_quantity = staff_browser.post(f"{STOCK}receive/", receipt_form(spread["east"], "PO-8", ("LAMP-1", "0", "")))

    assert unknown_sku.status_code == 200
    assert unknown_sku.context["formset"].errors[:2] == [{}, {"sku": ["Unknown SKU NOPE-9."]}]
    assert unknown_location.context["formset"].errors[0] == {"location": ["Warehouse EAST has no location Z-99."]}
    assert no_lines.context["formset"].non_form_errors() == ["A receipt needs at least one line."]
    assert bad_quantity.context["formset"].errors[0] == {
        "quantity": ["Ensure this value is greater than or equal to 1."]
    }
    assert inventory_state() == before


def test_receive_form_refuses_an_inactive_warehouse_and_writes_nothing(staff_browser, spread):
    warehouse_update(warehouse_id=spread["east"].pk, changes={"is_active": False}, actor=None)
    before = inventory_state()

    default_line = staff_browser.post(f"{STOCK}receive/", receipt_form(spread["east"], "PO-9", ("LAMP-1", "1", "")))
    shelf_line = staff_browser.post(f"{STOCK}receive/", receipt_form(spread["east"], "PO-9", ("LAMP-1", "1", "A-01")))

    default_id = spread["east"].locations.get(code=DEFAULT_LOCATION_CODE).pk
    assert default_line.context["form"].non_field_errors() == [
        f"Inactive locations (or warehouses) receive nothing. (location_ids: {default_id})"
    ]
    assert shelf_line.context["formset"].errors[0] == {
        "location": ["Inactive locations (or warehouses) receive nothing."]
    }
    assert inventory_state() == before


# --- adjust


def test_adjust_form_writes_an_adjustment_through_the_service(staff_browser, staff_user, spread):
    response = staff_browser.post(
        f"{STOCK}adjust/",
        {"sku": "lamp-1", "location": str(spread["shelf"].pk), "delta": "-3", "reason": "broken"},
        follow=True,
    )

    assert response.redirect_chain == [(f"{STOCK}?q=LAMP-1", 302)]
    assert messages_of(response) == [("success", "LAMP-1 at EAST/A-01: 2 on hand (-3).")]
    assert rows_of(spread["lamp"])["EAST/A-01"] == (2, 0)
    movement = StockMovement.objects.latest("pk")
    assert (movement.kind, movement.on_hand_delta, movement.on_hand_after, movement.reason, movement.actor) == (
        MovementKind.ADJUSTMENT,
        -3,
        2,
        "broken",
        staff_user,
    )
    assert_stock_consistent()


def test_adjust_form_prefills_from_the_stock_row_link(staff_browser, spread):
    response = staff_browser.get(f"{STOCK}adjust/", {"sku": "LAMP-1", "location": str(spread["shelf"].pk)})

    assert response.status_code == 200
    assert response.context["form"].initial == {"sku": "LAMP-1", "location": str(spread["shelf"].pk)}


def test_adjust_form_refuses_going_below_the_available_units_and_writes_nothing(staff_browser, staff_user, spread):
    reservation_hold(sku="LAMP-1", quantity=4, location_id=spread["shelf"].pk, reference="hold", actor=staff_user)
    before = inventory_state()

    response = staff_browser.post(
        f"{STOCK}adjust/", {"sku": "LAMP-1", "location": str(spread["shelf"].pk), "delta": "-2", "reason": "count"}
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "delta": [
            "The adjustment would take the stock below zero (reserved units cannot be adjusted away). "
            f"(product_id: {spread['lamp'].product_id}; sku: LAMP-1; location_id: {spread['shelf'].pk}; delta: -2; "
            "on_hand: 5; available: 1)"
        ]
    }
    assert inventory_state() == before


@pytest.mark.django_db(transaction=True)
def test_adjust_form_on_a_locked_stock_row_says_busy_and_writes_nothing(settings, client, admin_user, spread):
    settings.STOCK_LOCK_TIMEOUT_MS = 200
    client.force_login(admin_user)
    row = Stock.objects.get(variant=spread["lamp"], location=spread["shelf"])
    before = inventory_state()

    with held_in_another_transaction(lambda: Stock.objects.select_for_update().get(pk=row.pk)):
        response = client.post(
            f"{STOCK}adjust/", {"sku": "LAMP-1", "location": str(spread["shelf"].pk), "delta": "1", "reason": "count"}
        )

    assert response.status_code == 200
    assert response.context["form"].errors == {"__all__": [BUSY]}
    assert inventory_state() == before


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"sku": "NOPE-1"}, {"sku": ["Some SKUs do not exist. (skus: NOPE-1)"]}),
        ({"delta": "0"}, {"delta": ["A zero adjustment changes nothing."]}),
        ({"reason": ""}, {"reason": ["This field is required."]}),
        (
            {"location": "999999"},
            {"location": ["Select a valid choice. That choice is not one of the available choices."]},
        ),
    ],
)
def test_adjust_form_refuses_bad_input_and_writes_nothing(staff_browser, spread, changes, errors):
    before = inventory_state()
    data = {"sku": "LAMP-1", "location": str(spread["shelf"].pk), "delta": "1", "reason": "count", **changes}

    response = staff_browser.post(f"{STOCK}adjust/", data)

    assert response.status_code == 200
    assert response.context["form"].errors == errors
    assert inventory_state() == before


# --- transfer


def test_transfer_form_moves_units_through_the_service(staff_browser, staff_user, spread, main):
    main_default = main.locations.get(code=DEFAULT_LOCATION_CODE)
    response = staff_browser.post(
        f"{STOCK}transfer/",
        {
            "sku": "LAMP-1",
            "from_location": str(main_default.pk),
            "to_location": str(spread["shelf"].pk),
            "quantity": "25",
            "reference": "T-1",
            "reason": "rebalance",
        },
        follow=True,
    )

    assert response.redirect_chain == [(f"{STOCK}?q=LAMP-1", 302)]
    assert messages_of(response) == [("success", "Moved 25 units of LAMP-1 from MAIN/DEFAULT to EAST/A-01.")]
    assert rows_of(spread["lamp"]) == {"MAIN/DEFAULT": (75, 0), "EAST/DEFAULT": (30, 0), "EAST/A-01": (30, 0)}
    moves = StockMovement.objects.filter(reference="T-1").order_by("pk")
    assert [(m.kind, m.on_hand_delta, m.reason, m.actor) for m in moves] == [
        (MovementKind.TRANSFER_OUT, -25, "rebalance", staff_user),
        (MovementKind.TRANSFER_IN, 25, "rebalance", staff_user),
    ]
    assert_stock_consistent()


def test_transfer_form_refuses_more_than_is_available_and_writes_nothing(staff_browser, spread):
    before = inventory_state()

    response = staff_browser.post(
        f"{STOCK}transfer/",
        {
            "sku": "LAMP-1",
            "from_location": str(spread["shelf"].pk),
            "to_location": str(spread["east"].locations.get(code="DEFAULT").pk),
            "quantity": "6",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "quantity": ["Not enough available stock at the source location. Requested 6, available 5."]
    }
    assert inventory_state() == before


def test_transfer_form_refuses_one_location_and_an_inactive_destination(staff_browser, spread):
    east_default = spread["east"].locations.get(code=DEFAULT_LOCATION_CODE)
    location_update(location_id=east_default.pk, changes={"is_active": False}, actor=None)
    before = inventory_state()
    data = {"sku": "LAMP-1", "from_location": str(spread["shelf"].pk), "quantity": "1"}

    same = staff_browser.post(f"{STOCK}transfer/", {**data, "to_location": str(spread["shelf"].pk)})
    inactive = staff_browser.post(f"{STOCK}transfer/", {**data, "to_location": str(east_default.pk)})

    assert same.context["form"].errors == {"to_location": ["A transfer needs two different locations."]}
    assert inactive.context["form"].errors == {
        "to_location": [f"Inactive locations (or warehouses) receive nothing. (location_ids: {east_default.pk})"]
    }
    assert inventory_state() == before


# --- reservations


def run_release(browser, *reservations):
    return browser.post(
        RESERVATIONS,
        {"action": "release_reservations", "_selected_action": [str(r.pk) for r in reservations]},
        follow=True,
    )


def test_reservation_changelist_lists_and_searches(staff_browser, staff_user, spread):
    hold = reservation_hold(
        sku="LAMP-1", quantity=2, location_id=spread["shelf"].pk, reference="fair", actor=staff_user
    )
    other = reservation_hold(
        sku="CHAIR-1", quantity=1, location_id=default_location().pk, reference="showroom", actor=staff_user
    )

    page = staff_browser.get(RESERVATIONS)
    by_sku = staff_browser.get(RESERVATIONS, {"q": "chair-1"})
    by_reference = staff_browser.get(RESERVATIONS, {"q": "fair"})
    detail = staff_browser.get(f"{RESERVATIONS}{hold.pk}/change/")

    assert [r.pk for r in listed(page)] == [other.pk, hold.pk]
    assert "2 x LAMP-1 at EAST/A-01" in page.content.decode()
    assert [r.pk for r in listed(by_sku)] == [other.pk]
    assert [r.pk for r in listed(by_reference)] == [hold.pk]
    assert detail.status_code == 200
    assert "EAST/A-01" in detail.content.decode()


def test_release_action_releases_holds_and_refuses_the_others(staff_browser, staff_user, spread, place_order, customer):
    hold = reservation_hold(
        sku="LAMP-1", quantity=2, location_id=spread["shelf"].pk, reference="fair", actor=staff_user
    )
    done = reservation_hold(sku="LAMP-1", quantity=1, location_id=spread["shelf"].pk, reference="old", actor=staff_user)
    reservation_release(reservation_id=done.pk, actor=staff_user)
    order = place_order(customer, [(spread["chair"], 3)])
    held_by_order = Reservation.objects.get(order_id=order.pk)

    response = run_release(staff_browser, hold, done, held_by_order)

    assert response.status_code == 200
    assert messages_of(response) == [
        (
            "error",
            f"Reservation {done.pk}: Cannot release a reservation that is RELEASED. "
            f"(reservation_id: {done.pk}; status: RELEASED; action: release)",
        ),
        (
            "error",
            f"Reservation {held_by_order.pk}: This reservation belongs to an order: cancel or ship the order instead. "
            f"(reservation_id: {held_by_order.pk}; order_id: {order.pk})",
        ),
        ("success", "1 reservation(s) released."),
    ]
    assert Reservation.objects.get(pk=hold.pk).status == ReservationStatus.RELEASED
    assert Reservation.objects.get(pk=held_by_order.pk).status == ReservationStatus.ALLOCATED
    assert rows_of(spread["lamp"])["EAST/A-01"] == (5, 0)
    assert rows_of(spread["chair"])["MAIN/DEFAULT"] == (100, 3)
    release = StockMovement.objects.get(reservation=hold, kind=MovementKind.RELEASE)
    assert (release.reserved_delta, release.actor) == (-2, staff_user)
    assert_stock_consistent()


def test_reservations_cannot_be_edited_in_the_admin(staff_browser, staff_user, spread):
    hold = reservation_hold(
        sku="LAMP-1", quantity=2, location_id=spread["shelf"].pk, reference="fair", actor=staff_user
    )
    before = inventory_state()

    response = staff_browser.post(f"{RESERVATIONS}{hold.pk}/change/", {"status": "COMMITTED", "reference": "x"})

    assert response.status_code == 403
    assert inventory_state() == before


# --- the ledger


def test_ledger_filters_by_kind_and_warehouse_and_searches_by_sku_and_reference(staff_browser, spread, main):
    receipts_east = list(StockMovement.objects.filter(stock__location__warehouse=spread["east"]).order_by("-pk"))
    everything = list(StockMovement.objects.order_by("-pk"))

    page = staff_browser.get(MOVEMENTS)
    east = staff_browser.get(MOVEMENTS, {"warehouse": str(spread["east"].pk)})
    adjustments = staff_browser.get(MOVEMENTS, {"kind__exact": MovementKind.ADJUSTMENT})
    chair = staff_browser.get(MOVEMENTS, {"q": "chair"})
    setup = staff_browser.get(MOVEMENTS, {"q": "setup", "kind__exact": MovementKind.RECEIPT})

    assert [m.pk for m in listed(page)] == [m.pk for m in everything]
    assert [m.pk for m in listed(east)] == [m.pk for m in receipts_east]
    assert listed(adjustments) == []
    assert [m.stock.variant.sku for m in listed(chair)] == ["CHAIR-1"]
    assert [m.pk for m in listed(setup)] == [m.pk for m in receipts_east]
    assert "EAST/A-01" in page.content.decode()


def test_ledger_rows_cannot_be_added_changed_or_deleted(staff_browser, spread):
    movement = StockMovement.objects.latest("pk")
    before = inventory_state()

    add = staff_browser.get(f"{MOVEMENTS}add/")
    change = staff_browser.post(f"{MOVEMENTS}{movement.pk}/change/", {"on_hand_delta": "1000"})
    delete = staff_browser.post(f"{MOVEMENTS}{movement.pk}/delete/", {"post": "yes"})
    view = staff_browser.get(f"{MOVEMENTS}{movement.pk}/change/")

    assert (add.status_code, change.status_code, delete.status_code, view.status_code) == (403, 403, 403, 200)
    assert inventory_state() == before


# --- stock counts: import and export


def test_count_import_and_export_pages_load(staff_browser, spread):
    import_page = staff_browser.get(f"{STOCK}import/")
    export_page = staff_browser.get(f"{STOCK}export/")

    assert import_page.status_code == export_page.status_code == 200
    assert "Each counted row becomes one ledger" in import_page.content.decode()
    assert import_page.context["fields_list"] == [("Stock counts per location", COUNT_COLUMNS)]
    assert [label for _, label in import_page.context["form"].fields["format"].choices] == ["---", "csv", "xlsx"]


def test_count_import_preview_lists_every_bad_row_and_writes_nothing(staff_browser, staff_user, spread):
    reservation_hold(sku="LAMP-1", quantity=4, location_id=spread["shelf"].pk, reference="hold", actor=staff_user)
    rows = [
        COUNT_COLUMNS,
        ["NOPE-1", "MAIN", "DEFAULT", "3"],
        ["LAMP-1", "NOWHERE", "DEFAULT", "3"],
        ["LAMP-1", "EAST", "Z-99", "3"],
        ["LAMP-1", "MAIN", "DEFAULT", "-1"],
        ["CHAIR-1", "EAST", "DEFAULT", "lots"],
        ["LAMP-1", "EAST", "A-01", "3"],
        ["chair-1", "main", "default", "90"],
        ["CHAIR-1", "MAIN", "DEFAULT", "91"],
        ["", "MAIN", "DEFAULT", ""],
    ]
    before = inventory_state()

    response = COUNT_FILES.preview(staff_browser, csv_file(rows))

    assert response.status_code == 200
    assert "confirm_form" not in response.context
    assert row_errors(response) == {
        1: {"sku": ["Unknown SKU NOPE-1."]},
        2: {"warehouse": ["Unknown warehouse NOWHERE."]},
        3: {"location": ["Warehouse EAST has no location Z-99."]},
        4: {"on_hand": ["A count cannot be negative (-1)."]},
        5: {"on_hand": ["Not a whole number of units: 'lots'."]},
        6: {
            "on_hand": [
                "4 units of LAMP-1 are reserved at EAST/A-01: release them first, a count cannot go below them."
            ]
        },
        8: {"__all__": ["MAIN/DEFAULT is counted for CHAIR-1 on row 7 too."]},
        9: {"sku": ["A sku is required."], "on_hand": ["A count is required."]},
    }
    assert "Some rows failed to validate" in response.content.decode()
    assert inventory_state() == before


def test_count_import_preview_shows_the_counts_and_writes_nothing(staff_browser, spread):
    rows = [COUNT_COLUMNS, ["LAMP-1", "EAST", "A-01", "8"], ["LAMP-1", "MAIN", "DEFAULT", "100"]]
    before = inventory_state()

    response = COUNT_FILES.preview(staff_browser, csv_file(rows))

    assert "confirm_form" in response.context
    result = response.context["result"]
    assert [row.import_type for row in result.rows] == ["update", "skip"]
    assert inventory_state() == before


def test_confirmed_count_import_books_adjustments_through_the_service(staff_browser, staff_user, spread):
    rows = [
        COUNT_COLUMNS,
        ["lamp-1", "east", "a-01", "8"],  # 5 -> 8
        ["LAMP-1", "EAST", "DEFAULT", "0"],  # 30 -> 0
        ["LAMP-1", "MAIN", "DEFAULT", "100"],  # unchanged: skipped
        ["CHAIR-1", "EAST", "A-01", "6"],  # no row yet: 0 -> 6
    ]
    previewed = COUNT_FILES.preview(staff_browser, csv_file(rows, "march.csv"))
    movements_before = StockMovement.objects.count()

    response = COUNT_FILES.confirm(staff_browser, previewed)

    assert response.status_code == 200
    assert messages_of(response) == [("success", "Import finished: 1 new, 2 updated, 1 unchanged row(s).")]
    assert rows_of(spread["lamp"]) == {"MAIN/DEFAULT": (100, 0), "EAST/DEFAULT": (0, 0), "EAST/A-01": (8, 0)}
    assert rows_of(spread["chair"]) == {"MAIN/DEFAULT": (100, 0), "EAST/A-01": (6, 0)}
    counted = StockMovement.objects.order_by("pk")[movements_before:]
    assert [
        (m.kind, m.stock.variant.sku, str(m.stock.location), m.on_hand_delta, m.on_hand_after, m.reason, m.actor)
        for m in counted
    ] == [
        (MovementKind.ADJUSTMENT, "LAMP-1", "EAST/A-01", 3, 8, "stock count: march.csv", staff_user),
        (MovementKind.ADJUSTMENT, "LAMP-1", "EAST/DEFAULT", -30, 0, "stock count: march.csv", staff_user),
        (MovementKind.ADJUSTMENT, "CHAIR-1", "EAST/A-01", 6, 6, "stock count: march.csv", staff_user),
    ]
    assert_stock_consistent()


def test_confirmed_count_import_counts_from_the_stock_of_now(staff_browser, staff_user, spread):
    previewed = COUNT_FILES.preview(staff_browser, csv_file([COUNT_COLUMNS, ["LAMP-1", "EAST", "A-01", "8"]]))
    receive(staff_user, spread["east"], "LAMP-1", 2, spread["shelf"])  # 5 -> 7 after the preview

    COUNT_FILES.confirm(staff_browser, previewed)

    assert rows_of(spread["lamp"])["EAST/A-01"] == (8, 0)
    assert StockMovement.objects.latest("pk").on_hand_delta == 1
    assert_stock_consistent()


def test_confirmed_count_import_rechecks_the_file_and_writes_nothing_if_it_went_stale(
    staff_browser, staff_user, spread
):
    rows = [COUNT_COLUMNS, ["LAMP-1", "MAIN", "DEFAULT", "90"], ["LAMP-1", "EAST", "A-01", "2"]]
    previewed = COUNT_FILES.preview(staff_browser, csv_file(rows))
    reservation_hold(sku="LAMP-1", quantity=4, location_id=spread["shelf"].pk, reference="hold", actor=staff_user)
    before = inventory_state()

    response = COUNT_FILES.confirm(staff_browser, previewed)

    assert messages_of(response) == [
        (
            "error",
            "Row 2: on_hand: 4 units of LAMP-1 are reserved at EAST/A-01: release them first, "
            "a count cannot go below them.",
        ),
        ("error", "Nothing was imported: the data changed since the preview. Import the file again."),
    ]
    assert inventory_state() == before


def test_count_row_refused_while_writing_is_reported_and_the_others_stay(
    staff_browser, staff_user, spread, monkeypatch
):
    east_default = spread["east"].locations.get(code=DEFAULT_LOCATION_CODE)
    rows = [COUNT_COLUMNS, ["LAMP-1", "EAST", "A-01", "8"], ["LAMP-1", "EAST", "DEFAULT", "1"]]
    previewed = COUNT_FILES.preview(staff_browser, csv_file(rows))
    real_count = inventory.resources.stock_count

    def count_after_a_rival_hold(**kwargs):
        if kwargs["location_id"] == east_default.pk:  # someone holds units there between the check and this row
            reservation_hold(sku="LAMP-1", quantity=4, location_id=east_default.pk, reference="rival", actor=staff_user)
        return real_count(**kwargs)

    monkeypatch.setattr(inventory.resources, "stock_count", count_after_a_rival_hold)

    response = COUNT_FILES.confirm(staff_browser, previewed)

    assert messages_of(response) == [
        (
            "error",
            "Row 2: on_hand: The adjustment would take the stock below zero (reserved units cannot be adjusted "
            f"away). (product_id: {spread['lamp'].product_id}; sku: LAMP-1; location_id: {east_default.pk}; "
            "delta: -29; on_hand: 30; available: 26)",
        ),
        (
            "error",
            "The rows listed were not applied; the 1 other changed row(s) were (each count is its own adjustment). "
            "Check the stock and import the rows listed again.",
        ),
    ]
    assert rows_of(spread["lamp"])["EAST/A-01"] == (8, 0)
    assert rows_of(spread["lamp"])["EAST/DEFAULT"] == (30, 4)
    assert_stock_consistent()


def test_count_import_reads_xlsx(staff_browser, staff_user, spread):
    rows = [COUNT_COLUMNS, ["LAMP-1", "EAST", "A-01", 7], ["CHAIR-1", "MAIN", "DEFAULT", 99.0]]

    previewed = COUNT_FILES.preview(staff_browser, xlsx_file(rows, "count.xlsx"), XLSX_FORMAT)
    response = COUNT_FILES.confirm(staff_browser, previewed)

    assert messages_of(response) == [("success", "Import finished: 0 new, 2 updated, 0 unchanged row(s).")]
    assert rows_of(spread["lamp"])["EAST/A-01"] == (7, 0)
    assert rows_of(spread["chair"])["MAIN/DEFAULT"] == (99, 0)
    assert set(StockMovement.objects.filter(reason="stock count: count.xlsx").values_list("kind", flat=True)) == {
        MovementKind.ADJUSTMENT
    }
    assert_stock_consistent()


def test_count_import_refuses_a_file_without_the_columns(staff_browser, spread):
    before = inventory_state()

    response = COUNT_FILES.preview(staff_browser, csv_file([["sku", "qty"], ["LAMP-1", "3"]]))

    assert row_errors(response) == {1: {"__all__": ["The file has no 'warehouse', 'location', 'on_hand' column."]}}
    assert inventory_state() == before


def test_count_export_csv_has_one_row_per_stock_row(staff_browser, spread):
    response = COUNT_FILES.export(staff_browser, CSV_FORMAT)

    assert response.status_code == 200
    assert list(csv.reader(io.StringIO(response.content.decode()))) == [
        COUNT_COLUMNS,
        ["LAMP-1", "EAST", "A-01", "5"],
        ["LAMP-1", "EAST", "DEFAULT", "30"],
        ["CHAIR-1", "MAIN", "DEFAULT", "100"],
        ["LAMP-1", "MAIN", "DEFAULT", "100"],
    ]


def test_count_export_xlsx_follows_the_changelist_search(staff_browser, spread):
    response = COUNT_FILES.export(staff_browser, XLSX_FORMAT, "?q=lamp-1")

    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == [
        COUNT_COLUMNS,
        ["LAMP-1", "EAST", "A-01", 5],
        ["LAMP-1", "EAST", "DEFAULT", 30],
        ["LAMP-1", "MAIN", "DEFAULT", 100],
    ]


def test_a_count_export_imports_back_unchanged(staff_browser, spread):
    exported = COUNT_FILES.export(staff_browser, CSV_FORMAT).content
    before = inventory_state()

    previewed = COUNT_FILES.preview(staff_browser, SimpleUploadedFile("export.csv", exported))
    response = COUNT_FILES.confirm(staff_browser, previewed)

    assert [row.import_type for row in previewed.context["result"].rows] == ["skip"] * 4
    assert messages_of(response) == [("success", "Import finished: 0 new, 0 updated, 4 unchanged row(s).")]
    assert inventory_state() == before
