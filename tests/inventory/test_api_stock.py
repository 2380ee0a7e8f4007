"""The stock API: warehouses, locations, receipts, adjustments, transfers, a SKU's stock, the ledger and
reservations. Staff only; every refusal in the one error shape, with nothing written."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from inventory.models import (
    MAX_UNITS,
    Location,
    Reservation,
    ReservationStatus,
    Warehouse,
)
from inventory.services.allocation import HoldLine, HoldRequest, stock_allocate
from inventory.services.warehouses import location_update, warehouse_update
from tests.assertions import error_of, field_errors
from tests.inventory.helpers import default_of, receive, stock_snapshot
from tests.stock import assert_stock_consistent, rows_of

pytestmark = pytest.mark.django_db

WAREHOUSE_FIELDS = {"id", "code", "name", "address", "priority", "is_active"}
LOCATION_FIELDS = {"id", "warehouse_id", "code", "is_active"}
MOVEMENT_FIELDS = {
    "id",
    "kind",
    "sku",
    "warehouse_id",
    "location_id",
    "on_hand_delta",
    "reserved_delta",
    "on_hand_after",
    "reserved_after",
    "reference",
    "actor_id",
    "reason",
    "created_at",
}
RESERVATION_FIELDS = {"id", "status", "reference", "expires_at", "created_at", "released_at", "committed_at", "lines"}


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.fixture
def warehouse(warehouse_factory):
    return warehouse_factory(code="ONE", name="One")


@pytest.fixture
def variant(variant_factory):
    return variant_factory(sku="PEN-1")


@pytest.fixture
def shelf(warehouse, location_factory):
    return location_factory(warehouse=warehouse, code="A-01")


# --- who may call


ENDPOINTS = [
    ("get", "/warehouses"),
    ("post", "/warehouses"),
    ("get", "/warehouses/{warehouse}"),
    ("patch", "/warehouses/{warehouse}"),
    ("get", "/locations"),
    ("post", "/locations"),
    ("get", "/locations/{location}"),
    ("patch", "/locations/{location}"),
    ("post", "/stock/receipts"),
    ("post", "/stock/adjustments"),
    ("post", "/stock/transfers"),
    ("get", "/stock/movements"),
    ("get", "/stock/PEN-1"),
    ("get", "/stock/reservations"),
    ("post", "/stock/reservations"),
    ("post", "/stock/reservations/allocate"),
    ("get", "/stock/reservations/{reservation}"),
    ("post", "/stock/reservations/{reservation}/release"),
    ("post", "/stock/reservations/{reservation}/commit"),
]


@pytest.fixture
def ids(warehouse, variant, inventory_manager):
    receive(variant, default_of(warehouse), 5)
    (held,) = stock_allocate(requests=[HoldRequest(reference="x", lines=[HoldLine(variant, 1)])], actor=None)
    return {"warehouse": warehouse.pk, "location": default_of(warehouse).pk, "reservation": held.pk}


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_customers_are_refused(customer_client, ids, method, path):
    before = stock_snapshot()

    response = getattr(customer_client, method)(path.format(**ids), {}, format="json")

    assert response.status_code == 403
    error = error_of(response)
    assert (error["code"], error["message"]) == (
        "staff_required",
        "Only staff (admins or inventory managers) may do this.",
    )
    assert stock_snapshot() == before


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_anonymous_callers_are_refused(api_client, ids, method, path):
    before = stock_snapshot()

    response = getattr(api_client, method)(path.format(**ids), {}, format="json")

    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"
    assert stock_snapshot() == before


# --- warehouses


@pytest.mark.parametrize("client_name", ["admin_client", "manager_client"])
def test_warehouse_create_normalises_and_makes_its_default_location(request, client_name):
    client = request.getfixturevalue(client_name)

    response = client.post(
        "/warehouses", {"code": "  east-1 ", "name": "  East ", "address": "1 Dock Road", "priority": 7}, format="json"
    )

    assert response.status_code == 201
    body = response.json()
    assert body == {
        "id": body["id"],
        "code": "EAST-1",
        "name": "East",
        "address": "1 Dock Road",
        "priority": 7,
        "is_active": True,
    }
    assert list(Location.objects.filter(warehouse_id=body["id"]).values_list("code", flat=True)) == ["DEFAULT"]


def test_warehouse_create_defaults(admin_client):
    response = admin_client.post("/warehouses", {"code": "w", "name": "W"}, format="json")

    assert response.status_code == 201
    assert (response.json()["address"], response.json()["priority"], response.json()["is_active"]) == ("", 100, True)


def test_warehouse_create_refuses_a_taken_code_in_any_case(admin_client, warehouse):
    before = stock_snapshot()

    response = admin_client.post("/warehouses", {"code": " one", "name": "Again"}, format="json")

    assert response.status_code == 409
    error = error_of(response)
    assert (error["code"], error["details"]) == ("code_taken", {"code": "ONE"})
    assert stock_snapshot() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "No code"}, "code"),
        ({"code": "X"}, "name"),
        ({"code": "a b", "name": "Space"}, "code"),
        ({"code": "", "name": "Empty"}, "code"),
        ({"code": "X" * 33, "name": "Long"}, "code"),
        ({"code": "X", "name": "Neg", "priority": -1}, "priority"),
        ({"code": "X", "name": "Huge", "priority": 2**31}, "priority"),
    ],
)
def test_warehouse_create_validates_its_fields(admin_client, body, field):
    before = stock_snapshot()

    response = admin_client.post("/warehouses", body, format="json")

    assert list(field_errors(response)) == [field]
    assert stock_snapshot() == before


def test_warehouse_list_is_ordered_by_code(admin_client, warehouse_factory):
    for code in ("ZED", "ALPHA", "MIDDLE"):
        warehouse_factory(code=code)

    response = admin_client.get("/warehouses")

    assert response.status_code == 200
    body = response.json()
    assert [w["code"] for w in body["results"]] == sorted(Warehouse.objects.values_list("code", flat=True))
    assert body["count"] == Warehouse.objects.count()
    assert set(body["results"][0]) == WAREHOUSE_FIELDS


def test_warehouse_get_and_unknown_id(admin_client, warehouse):
    assert admin_client.get(f"/warehouses/{warehouse.pk}").json()["code"] == "ONE"

    response = admin_client.get("/warehouses/424242")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_warehouse_patch_renames_reprioritises_and_deactivates(manager_client, warehouse):
    response = manager_client.patch(
        f"/warehouses/{warehouse.pk}",
        {"name": " Renamed ", "address": "2 Quay", "priority": 3, "is_active": False},
        format="json",
    )
    empty = manager_client.patch(f"/warehouses/{warehouse.pk}", {}, format="json")

    assert response.status_code == 200
    assert response.json() == {
        "id": warehouse.pk,
        "code": "ONE",
        "name": "Renamed",
        "address": "2 Quay",
        "priority": 3,
        "is_active": False,
    }
    assert empty.status_code == 200
    assert empty.json() == response.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [({"code": "TWO"}, "code"), ({"priority": -5}, "priority"), ({"is_active": "maybe"}, "is_active")],
)
def test_warehouse_patch_refuses_bad_fields(admin_client, warehouse, body, field):
    before = stock_snapshot()

    response = admin_client.patch(f"/warehouses/{warehouse.pk}", body, format="json")

    assert response.status_code == 400
    assert list(error_of(response)["details"]["fields"]) == [field]
    assert stock_snapshot() == before


def test_warehouse_patch_unknown_id(admin_client):
    response = admin_client.patch("/warehouses/424242", {"name": "X"}, format="json")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


# --- locations


def test_location_create_normalises_the_code(manager_client, warehouse):
    response = manager_client.post("/locations", {"warehouse_id": warehouse.pk, "code": " a-01-03 "}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body == {"id": body["id"], "warehouse_id": warehouse.pk, "code": "A-01-03", "is_active": True}


def test_location_codes_are_unique_within_a_warehouse_in_any_case(admin_client, warehouse, warehouse_factory, shelf):
    other = warehouse_factory(code="TWO")
    elsewhere = admin_client.post("/locations", {"warehouse_id": other.pk, "code": "a-01"}, format="json")
    before = stock_snapshot()

    taken = admin_client.post("/locations", {"warehouse_id": warehouse.pk, "code": "a-01"}, format="json")
    default = admin_client.post("/locations", {"warehouse_id": warehouse.pk, "code": "Default"}, format="json")

    assert elsewhere.status_code == 201
    assert taken.status_code == default.status_code == 409
    assert (error_of(taken)["code"], error_of(taken)["details"]) == ("code_taken", {"code": "A-01"})
    assert error_of(default)["details"] == {"code": "DEFAULT"}
    assert stock_snapshot() == before


def test_location_create_in_an_unknown_warehouse(admin_client):
    before = stock_snapshot()

    response = admin_client.post("/locations", {"warehouse_id": 424242, "code": "A-01"}, format="json")

    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["details"]) == ("unknown_warehouse", {"warehouse_ids": [424242]})
    assert stock_snapshot() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [({"code": "A-01"}, "warehouse_id"), ({"warehouse_id": 1}, "code"), ({"warehouse_id": 1, "code": "a/b"}, "code")],
)
def test_location_create_validates_its_fields(admin_client, body, field):
    response = admin_client.post("/locations", body, format="json")

    assert response.status_code == 400
    assert list(error_of(response)["details"]["fields"]) == [field]


def test_location_list_by_code_and_by_warehouse(admin_client, warehouse, warehouse_factory, location_factory):
    other = warehouse_factory(code="TWO")
    for code in ("C-01", "A-01", "B-01"):
        location_factory(warehouse=warehouse, code=code)
    location_factory(warehouse=other, code="A-00")

    mine = admin_client.get("/locations", {"warehouse_id": warehouse.pk})
    every = admin_client.get("/locations", {"page_size": 100})
    unknown = admin_client.get("/locations", {"warehouse_id": "abc"})

    assert [row["code"] for row in mine.json()["results"]] == ["A-01", "B-01", "C-01", "DEFAULT"]
    assert {row["warehouse_id"] for row in mine.json()["results"]} == {warehouse.pk}
    assert set(mine.json()["results"][0]) == LOCATION_FIELDS
    codes = [row["code"] for row in every.json()["results"]]
    assert codes[:4] == ["A-00", "A-01", "B-01", "C-01"]
    assert codes == sorted(codes)
    assert every.json()["count"] == Location.objects.count()
    assert unknown.status_code == 400
    assert list(error_of(unknown)["details"]["fields"]) == ["warehouse_id"]


def test_location_patch_renames_and_deactivates(admin_client, shelf):
    response = admin_client.patch(f"/locations/{shelf.pk}", {"code": "b-02", "is_active": False}, format="json")

    assert response.status_code == 200
    assert response.json() == {"id": shelf.pk, "warehouse_id": shelf.warehouse_id, "code": "B-02", "is_active": False}


def test_location_patch_refuses_a_taken_code_and_the_default_s_code(admin_client, warehouse, shelf):
    default = default_of(warehouse)
    before = stock_snapshot()

    taken = admin_client.patch(f"/locations/{shelf.pk}", {"code": "default"}, format="json")
    fixed = admin_client.patch(f"/locations/{default.pk}", {"code": "INBOUND"}, format="json")
    moved = admin_client.patch(f"/locations/{shelf.pk}", {"warehouse_id": 1}, format="json")

    assert (taken.status_code, error_of(taken)["code"], error_of(taken)["details"]) == (
        409,
        "code_taken",
        {"code": "DEFAULT"},
    )
    assert (fixed.status_code, error_of(fixed)["code"], error_of(fixed)["details"]) == (
        409,
        "default_location_fixed",
        {"location_id": default.pk},
    )
    assert (moved.status_code, list(error_of(moved)["details"]["fields"])) == (400, ["warehouse_id"])
    assert stock_snapshot() == before
    same = admin_client.patch(f"/locations/{default.pk}", {"code": "Default"}, format="json")
    assert (same.status_code, same.json()["code"]) == (200, "DEFAULT")


def test_location_unknown_id(admin_client):
    assert admin_client.get("/locations/424242").status_code == 404
    response = admin_client.patch("/locations/424242", {"is_active": False}, format="json")
    assert (response.status_code, error_of(response)["code"]) == (404, "not_found")


# --- receipts


def test_receipt_books_every_line(manager_client, inventory_manager, warehouse, shelf, variant, variant_factory):
    other = variant_factory(sku="INK-1")

    response = manager_client.post(
        "/stock/receipts",
        {
            "warehouse_id": warehouse.pk,
            "reference": "PO-17",
            "lines": [
                {"sku": "pen-1", "quantity": 3},
                {"sku": "ink-1", "quantity": 4, "location_id": shelf.pk},
                {"sku": "Pen-1", "quantity": 2, "location_id": None},
            ],
        },
        format="json",
    )

    assert response.status_code == 201
    movements = response.json()["movements"]
    assert list(response.json()) == ["movements"]
    assert set(movements[0]) >= MOVEMENT_FIELDS
    keys = ["kind", "sku", "warehouse_id", "location_id", "on_hand_delta", "reserved_delta", "on_hand_after"]
    keys += ["reserved_after", "reference", "actor_id", "reason"]
    actor, dock = str(inventory_manager.pk), default_of(warehouse).pk
    assert [tuple(m[key] for key in keys) for m in movements] == [
        ("RECEIPT", "PEN-1", warehouse.pk, dock, 3, 0, 3, 0, "PO-17", actor, ""),
        ("RECEIPT", "INK-1", warehouse.pk, shelf.pk, 4, 0, 4, 0, "PO-17", actor, ""),
        ("RECEIPT", "PEN-1", warehouse.pk, dock, 2, 0, 5, 0, "PO-17", actor, ""),
    ]
    assert rows_of(variant) == {"ONE/DEFAULT": (5, 0)}
    assert rows_of(other) == {"ONE/A-01": (4, 0)}
    assert_stock_consistent()


@pytest.mark.parametrize(
    ("lines", "fields"),
    [
        (
            [{"sku": "PEN-1", "quantity": 0}],
            {"lines": {"0": {"quantity": ["Ensure this value is greater than or equal to 1."]}}},
        ),
        (
            [{"sku": "PEN-1", "quantity": -3}],
            {"lines": {"0": {"quantity": ["Ensure this value is greater than or equal to 1."]}}},
        ),
        ([{"sku": "PEN-1", "quantity": "many"}], {"lines": {"0": {"quantity": ["A valid integer is required."]}}}),
        ([{"quantity": 1}], {"lines": {"0": {"sku": ["This field is required."]}}}),
        ([{"sku": "bad sku", "quantity": 1}], None),
        ([], {"lines": {"non_field_errors": ["This list may not be empty."]}}),
    ],
)
def test_receipt_validates_its_lines(admin_client, warehouse, variant, lines, fields):
    before = stock_snapshot()

    response = admin_client.post(
        "/stock/receipts", {"warehouse_id": warehouse.pk, "reference": "PO", "lines": lines}, format="json"
    )

    errors = field_errors(response)
    if fields is not None:
        assert errors == fields
    else:
        assert list(errors) == ["lines"]
    assert stock_snapshot() == before


def test_receipt_needs_a_reference_and_a_warehouse(admin_client, variant):
    response = admin_client.post("/stock/receipts", {"lines": [{"sku": "PEN-1", "quantity": 1}]}, format="json")

    assert response.status_code == 400
    assert set(error_of(response)["details"]["fields"]) == {"warehouse_id", "reference"}


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("unknown_sku", 400, "unknown_sku"),
        ("unknown_location", 400, "unknown_location"),
        ("unknown_warehouse", 400, "unknown_warehouse"),
        ("mismatch", 400, "location_warehouse_mismatch"),
        ("inactive_location", 409, "location_inactive"),
        ("inactive_warehouse", 409, "location_inactive"),
    ],
)
def test_receipt_refusals(admin_client, warehouse, warehouse_factory, shelf, variant, case, status, code):
    other = warehouse_factory(code="TWO")
    warehouse_id = warehouse.pk
    lines = [{"sku": "PEN-1", "quantity": 1}]
    expected = {}
    if case == "unknown_sku":
        lines += [{"sku": "nope-2", "quantity": 1}, {"sku": "nope-1", "quantity": 1}]
        expected = {"skus": ["NOPE-1", "NOPE-2"]}
    elif case == "unknown_location":
        lines += [
            {"sku": "PEN-1", "quantity": 1, "location_id": 999999},
            {"sku": "PEN-1", "quantity": 1, "location_id": 999998},
        ]
        expected = {"location_ids": [999998, 999999]}
    elif case == "unknown_warehouse":
        warehouse_id = 424242
        expected = {"warehouse_ids": [424242]}
    elif case == "mismatch":
        lines += [{"sku": "PEN-1", "quantity": 1, "location_id": default_of(other).pk}]
        expected = {"warehouse_id": warehouse.pk, "location_ids": [default_of(other).pk]}
    elif case == "inactive_location":
        location_update(location_id=shelf.pk, changes={"is_active": False}, actor=None)
        lines += [{"sku": "PEN-1", "quantity": 1, "location_id": shelf.pk}]
        expected = {"location_ids": [shelf.pk]}
    else:
        warehouse_update(warehouse_id=warehouse.pk, changes={"is_active": False}, actor=None)
        expected = {"location_ids": [default_of(warehouse).pk]}
    before = stock_snapshot()

    response = admin_client.post(
        "/stock/receipts", {"warehouse_id": warehouse_id, "reference": "PO", "lines": lines}, format="json"
    )

    assert response.status_code == status
    error = error_of(response)
    assert (error["code"], error["details"]) == (code, expected)
    assert stock_snapshot() == before


def test_receipt_refuses_more_than_a_row_can_count(admin_client, warehouse, variant):
    receive(variant, default_of(warehouse), MAX_UNITS - 1)
    before = stock_snapshot()

    response = admin_client.post(
        "/stock/receipts",
        {"warehouse_id": warehouse.pk, "reference": "PO", "lines": [{"sku": "PEN-1", "quantity": 2}]},
        format="json",
    )

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "stock_limit_exceeded"
    assert error["details"] == {
        "lines": [{"sku": "PEN-1", "location_id": default_of(warehouse).pk, "on_hand": MAX_UNITS - 1, "delta": 2}]
    }
    assert stock_snapshot() == before


# --- adjustments


def test_adjustment_books_a_signed_delta(manager_client, inventory_manager, warehouse, variant):
    receive(variant, default_of(warehouse), 10)

    response = manager_client.post(
        "/stock/adjustments",
        {"sku": "pen-1", "location_id": default_of(warehouse).pk, "delta": -4, "reason": "breakage"},
        format="json",
    )

    assert response.status_code == 201
    (movement,) = response.json()["movements"]
    assert (movement["kind"], movement["on_hand_delta"], movement["on_hand_after"], movement["reason"]) == (
        "ADJUSTMENT",
        -4,
        6,
        "breakage",
    )
    assert movement["actor_id"] == str(inventory_manager.pk)
    assert rows_of(variant) == {"ONE/DEFAULT": (6, 0)}
    assert_stock_consistent()


def test_adjustment_refuses_going_below_zero_or_below_the_reserved_units(admin_client, warehouse, variant):
    location = default_of(warehouse)
    receive(variant, location, 10)
    stock_allocate(requests=[HoldRequest(reference="h", lines=[HoldLine(variant, 6)])], actor=None)
    before = stock_snapshot()

    below_reserved = admin_client.post(
        "/stock/adjustments",
        {"sku": "PEN-1", "location_id": location.pk, "delta": -5, "reason": "count"},
        format="json",
    )
    below_zero = admin_client.post(
        "/stock/adjustments",
        {"sku": "PEN-1", "location_id": location.pk, "delta": -11, "reason": "count"},
        format="json",
    )

    assert below_reserved.status_code == below_zero.status_code == 409
    error = error_of(below_reserved)
    assert (error["code"], error["details"]) == (
        "stock_would_go_negative",
        {
            "product_id": variant.product_id,
            "sku": "PEN-1",
            "location_id": location.pk,
            "delta": -5,
            "on_hand": 10,
            "available": 4,
        },
    )
    assert error_of(below_zero)["code"] == "stock_would_go_negative"
    assert stock_snapshot() == before


def test_adjustment_refuses_more_than_a_row_can_count(admin_client, warehouse, variant):
    location = default_of(warehouse)
    receive(variant, location, MAX_UNITS - 10)
    before = stock_snapshot()

    response = admin_client.post(
        "/stock/adjustments",
        {"sku": "PEN-1", "location_id": location.pk, "delta": 11, "reason": "count"},
        format="json",
    )

    assert response.status_code == 409
    assert error_of(response)["code"] == "stock_limit_exceeded"
    assert stock_snapshot() == before


@pytest.mark.parametrize(
    ("body", "status", "code", "details"),
    [
        ({"sku": "NOPE", "delta": 1, "reason": "x"}, 400, "unknown_sku", {"skus": ["NOPE"]}),
        (
            {"sku": "PEN-1", "location_id": 424242, "delta": 1, "reason": "x"},
            400,
            "unknown_location",
            {"location_ids": [424242]},
        ),
        (
            {"sku": "PEN-1", "delta": 0, "reason": "x"},
            400,
            "validation_error",
            {"fields": {"delta": ["A zero adjustment changes nothing."]}},
        ),
        ({"sku": "PEN-1", "delta": 1}, 400, "validation_error", {"fields": {"reason": ["This field is required."]}}),
    ],
)
def test_adjustment_refusals(admin_client, warehouse, variant, body, status, code, details):
    body = {"location_id": default_of(warehouse).pk, **body}
    before = stock_snapshot()

    response = admin_client.post("/stock/adjustments", body, format="json")

    assert response.status_code == status
    error = error_of(response)
    assert (error["code"], error["details"]) == (code, details)
    assert stock_snapshot() == before


# --- transfers


def test_transfer_within_and_across_warehouses(manager_client, warehouse, warehouse_factory, shelf, variant):
    far = default_of(warehouse_factory(code="TWO"))
    receive(variant, default_of(warehouse), 10)

    inside = manager_client.post(
        "/stock/transfers",
        {"sku": "pen-1", "from_location_id": default_of(warehouse).pk, "to_location_id": shelf.pk, "quantity": 4},
        format="json",
    )
    across = manager_client.post(
        "/stock/transfers",
        {"sku": "PEN-1", "from_location_id": shelf.pk, "to_location_id": far.pk, "quantity": 3, "reference": "T-2"},
        format="json",
    )

    assert inside.status_code == across.status_code == 201
    assert [
        (m["kind"], m["location_id"], m["on_hand_delta"], m["on_hand_after"]) for m in inside.json()["movements"]
    ] == [
        ("TRANSFER_OUT", default_of(warehouse).pk, -4, 6),
        ("TRANSFER_IN", shelf.pk, 4, 4),
    ]
    assert [(m["kind"], m["warehouse_id"], m["reference"]) for m in across.json()["movements"]] == [
        ("TRANSFER_OUT", warehouse.pk, "T-2"),
        ("TRANSFER_IN", far.warehouse_id, "T-2"),
    ]
    assert rows_of(variant) == {"ONE/DEFAULT": (6, 0), "ONE/A-01": (1, 0), "TWO/DEFAULT": (3, 0)}
    assert_stock_consistent()


def test_transfer_refusals(admin_client, warehouse, shelf, location_factory, variant):
    source = default_of(warehouse)
    closed = location_factory(warehouse=warehouse, code="CLOSED")
    location_update(location_id=closed.pk, changes={"is_active": False}, actor=None)
    receive(variant, source, 10)
    stock_allocate(requests=[HoldRequest(reference="h", lines=[HoldLine(variant, 8)])], actor=None)
    before = stock_snapshot()

    def transfer(to_location_id, quantity=1):
        body = {"sku": "PEN-1", "from_location_id": source.pk, "to_location_id": to_location_id, "quantity": quantity}
        return admin_client.post("/stock/transfers", body, format="json")

    short, inactive, same, zero = transfer(shelf.pk, 3), transfer(closed.pk), transfer(source.pk), transfer(shelf.pk, 0)

    assert short.status_code == 400
    assert error_of(short) == {
        **error_of(short),
        "code": "insufficient_stock",
        "details": {
            "lines": [
                {
                    "variant_id": variant.pk,
                    "product_id": variant.product_id,
                    "sku": "PEN-1",
                    "requested": 3,
                    "available": 2,
                }
            ]
        },
    }
    assert (inactive.status_code, error_of(inactive)["code"], error_of(inactive)["details"]) == (
        409,
        "location_inactive",
        {"location_ids": [closed.pk]},
    )
    assert (same.status_code, error_of(same)["code"], error_of(same)["details"]) == (
        400,
        "same_location",
        {"location_id": source.pk},
    )
    assert (zero.status_code, list(error_of(zero)["details"]["fields"])) == (400, ["quantity"])
    assert stock_snapshot() == before


# --- a SKU's stock


def test_stock_of_a_sku_over_every_location(
    admin_client, warehouse, warehouse_factory, location_factory, shelf, variant
):
    closed = warehouse_factory(code="CLOSED")
    old = location_factory(warehouse=warehouse, code="B-OLD")
    receive(variant, default_of(warehouse), 10)
    receive(variant, shelf, 4)
    receive(variant, default_of(closed), 7)
    receive(variant, old, 2)
    warehouse_update(warehouse_id=closed.pk, changes={"is_active": False}, actor=None)
    location_update(location_id=old.pk, changes={"is_active": False}, actor=None)
    stock_allocate(requests=[HoldRequest(reference="h", lines=[HoldLine(variant, 3)])], actor=None)

    response = admin_client.get("/stock/pen-1")

    assert response.status_code == 200
    body = response.json()
    assert (body["sku"], body["on_hand"], body["reserved"], body["available"]) == ("PEN-1", 23, 3, 11)
    assert [
        (
            r["warehouse_id"],
            r["warehouse_code"],
            r["location_id"],
            r["location_code"],
            r["on_hand"],
            r["reserved"],
            r["available"],
        )
        for r in body["locations"]
    ] == [
        (closed.pk, "CLOSED", default_of(closed).pk, "DEFAULT", 7, 0, 0),
        (warehouse.pk, "ONE", shelf.pk, "A-01", 4, 0, 4),
        (warehouse.pk, "ONE", old.pk, "B-OLD", 2, 0, 0),
        (warehouse.pk, "ONE", default_of(warehouse).pk, "DEFAULT", 10, 3, 7),
    ]


def test_stock_of_a_sku_without_stock_and_of_an_unknown_sku(admin_client, variant):
    empty = admin_client.get("/stock/PEN-1/")
    unknown = admin_client.get("/stock/NOPE-1")

    assert empty.status_code == 200
    assert (empty.json()["on_hand"], empty.json()["available"], empty.json()["locations"]) == (0, 0, [])
    assert unknown.status_code == 404
    assert error_of(unknown)["code"] == "not_found"


def test_stock_of_a_sku_holding_a_slash(admin_client, warehouse, variant_factory):
    boxed, trailing = variant_factory(sku="BOX/1"), variant_factory(sku="TRAY/")
    receive(boxed, default_of(warehouse), 2)
    receive(trailing, default_of(warehouse), 3)

    answers = {path: admin_client.get(path) for path in ("/stock/box/1", "/stock/BOX/1/", "/stock/tray/")}

    assert {path: (r.status_code, r.json()["sku"], r.json()["on_hand"]) for path, r in answers.items()} == {
        "/stock/box/1": (200, "BOX/1", 2),
        "/stock/BOX/1/": (200, "BOX/1", 2),
        "/stock/tray/": (200, "TRAY/", 3),  # a SKU ending in "/" wins over the optional trailing slash
    }


# --- the ledger


def test_movements_newest_first_filtered_by_sku_warehouse_and_kind(
    admin_client, warehouse, warehouse_factory, variant, variant_factory
):
    other = variant_factory(sku="INK-1")
    two = warehouse_factory(code="TWO")
    receive(variant, default_of(warehouse), 5)
    receive(other, default_of(warehouse), 5)
    receive(variant, default_of(two), 5)
    stock_allocate(requests=[HoldRequest(reference="h", lines=[HoldLine(variant, 1)])], actor=None)

    every = admin_client.get("/stock/movements").json()
    by_sku = admin_client.get("/stock/movements", {"sku": "pen-1"}).json()
    by_warehouse = admin_client.get("/stock/movements", {"warehouse_id": two.pk}).json()
    by_kind = admin_client.get("/stock/movements", {"kind": "RESERVE"}).json()
    combined = admin_client.get("/stock/movements", {"sku": "PEN-1", "warehouse_id": warehouse.pk, "kind": "RECEIPT"})
    paged = admin_client.get("/stock/movements", {"page_size": 2}).json()

    ids = [m["id"] for m in every["results"]]
    assert ids == sorted(ids, reverse=True)
    assert every["count"] == 4
    assert set(every["results"][0]) >= MOVEMENT_FIELDS
    assert [(m["sku"], m["kind"]) for m in by_sku["results"]] == [
        ("PEN-1", "RESERVE"),
        ("PEN-1", "RECEIPT"),
        ("PEN-1", "RECEIPT"),
    ]
    assert [(m["warehouse_id"], m["sku"]) for m in by_warehouse["results"]] == [(two.pk, "PEN-1")]
    assert [(m["kind"], m["reserved_delta"], m["reserved_after"]) for m in by_kind["results"]] == [("RESERVE", 1, 1)]
    assert [(m["sku"], m["warehouse_id"], m["kind"]) for m in combined.json()["results"]] == [
        ("PEN-1", warehouse.pk, "RECEIPT")
    ]
    assert (paged["count"], len(paged["results"]), paged["next"] is not None) == (4, 2, True)


@pytest.mark.parametrize(
    ("query", "field"),
    [({"kind": "SHIP"}, "kind"), ({"warehouse_id": "x"}, "warehouse_id"), ({"location_id": "1.5"}, "location_id")],
)
def test_movements_refuse_bad_filters(admin_client, query, field):
    response = admin_client.get("/stock/movements", query)

    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], list(error["details"]["fields"])) == ("validation_error", [field])


# --- reservations


def test_hold_at_a_location(manager_client, warehouse, shelf, variant):
    receive(variant, shelf, 5)
    receive(variant, default_of(warehouse), 50)

    forever = manager_client.post(
        "/stock/reservations",
        {"sku": "pen-1", "quantity": 2, "location_id": shelf.pk, "reference": "quote 7"},
        format="json",
    )
    start = timezone.now()
    brief = manager_client.post(
        "/stock/reservations",
        {"sku": "PEN-1", "quantity": 3, "location_id": shelf.pk, "reference": "quote 8", "ttl_seconds": 900},
        format="json",
    )

    assert forever.status_code == brief.status_code == 201
    body = forever.json()
    assert set(body) >= RESERVATION_FIELDS
    assert body == {
        **body,
        "status": "ALLOCATED",
        "reference": "quote 7",
        "expires_at": None,
        "released_at": None,
        "committed_at": None,
        "lines": [
            {
                **body["lines"][0],
                "sku": "PEN-1",
                "quantity": 2,
                "allocations": [{"warehouse_id": warehouse.pk, "location_id": shelf.pk, "quantity": 2}],
            }
        ],
    }
    assert (
        start + timedelta(seconds=899) <= parse(brief.json()["expires_at"]) <= timezone.now() + timedelta(seconds=900)
    )
    assert rows_of(variant) == {"ONE/A-01": (5, 5), "ONE/DEFAULT": (50, 0)}
    assert_stock_consistent()


def test_hold_refusals(admin_client, warehouse, shelf, location_factory, variant):
    closed = location_factory(warehouse=warehouse, code="CLOSED")
    receive(variant, shelf, 2)
    receive(variant, closed, 9)
    receive(variant, default_of(warehouse), 50)
    location_update(location_id=closed.pk, changes={"is_active": False}, actor=None)
    before = stock_snapshot()

    def hold(**body):
        body = {"sku": "PEN-1", "quantity": 1, "location_id": shelf.pk, "reference": "r", **body}
        return admin_client.post("/stock/reservations", body, format="json")

    short = hold(quantity=3)
    inactive = hold(location_id=closed.pk)
    unknown_location = hold(location_id=424242)
    unknown_sku = hold(sku="nope")
    bad_ttl = hold(ttl_seconds=0)

    assert (short.status_code, error_of(short)["code"]) == (400, "insufficient_stock")
    assert error_of(short)["details"]["lines"] == [
        {"variant_id": variant.pk, "product_id": variant.product_id, "sku": "PEN-1", "requested": 3, "available": 2}
    ]
    assert (inactive.status_code, error_of(inactive)["code"], error_of(inactive)["details"]) == (
        409,
        "location_inactive",
        {"location_ids": [closed.pk]},
    )
    assert (unknown_location.status_code, error_of(unknown_location)["code"]) == (400, "unknown_location")
    assert (unknown_sku.status_code, error_of(unknown_sku)["details"]) == (400, {"skus": ["NOPE"]})
    assert (bad_ttl.status_code, list(error_of(bad_ttl)["details"]["fields"])) == (400, ["ttl_seconds"])
    assert stock_snapshot() == before


def test_allocate_lets_inventory_choose(admin_client, warehouse_factory, variant, variant_factory):
    other = variant_factory(sku="INK-1")
    near, far = warehouse_factory(code="NEAR", priority=1), warehouse_factory(code="FAR", priority=2)
    receive(variant, default_of(near), 3)
    receive(variant, default_of(far), 10)
    receive(other, default_of(near), 5)

    response = admin_client.post(
        "/stock/reservations/allocate",
        {
            "lines": [
                {"sku": "pen-1", "quantity": 2},
                {"sku": "INK-1", "quantity": 5},
                {"sku": "Pen-1", "quantity": 6},
            ],
            "reference": "cart 9",
            "ttl_seconds": 60,
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["reference"]) == ("ALLOCATED", "cart 9")
    assert body["expires_at"] is not None
    assert [(line["sku"], line["quantity"], line["allocations"]) for line in body["lines"]] == [
        ("INK-1", 5, [{"warehouse_id": near.pk, "location_id": default_of(near).pk, "quantity": 5}]),
        ("PEN-1", 8, [{"warehouse_id": far.pk, "location_id": default_of(far).pk, "quantity": 8}]),
    ]
    assert_stock_consistent()


def test_allocate_lists_every_short_line_and_changes_nothing(admin_client, warehouse, variant, variant_factory):
    other, third = variant_factory(sku="INK-1"), variant_factory(sku="CAP-1")
    receive(variant, default_of(warehouse), 3)
    receive(third, default_of(warehouse), 10)
    before = stock_snapshot()

    response = admin_client.post(
        "/stock/reservations/allocate",
        {
            "lines": [
                {"sku": "PEN-1", "quantity": 4},
                {"sku": "CAP-1", "quantity": 1},
                {"sku": "INK-1", "quantity": 1},
            ],
            "reference": "cart",
        },
        format="json",
    )

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "insufficient_stock"
    assert error["details"] == {
        "lines": [
            {"variant_id": other.pk, "product_id": other.product_id, "sku": "INK-1", "requested": 1, "available": 0},
            {
                "variant_id": variant.pk,
                "product_id": variant.product_id,
                "sku": "PEN-1",
                "requested": 4,
                "available": 3,
            },
        ]
    }
    assert stock_snapshot() == before


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"lines": [{"sku": "NOPE", "quantity": 1}], "reference": "r"}, 400, "unknown_sku"),
        ({"lines": [], "reference": "r"}, 400, "validation_error"),
        ({"lines": [{"sku": "PEN-1", "quantity": 0}], "reference": "r"}, 400, "validation_error"),
        ({"lines": [{"sku": "PEN-1", "quantity": 1}]}, 400, "validation_error"),
    ],
)
def test_allocate_refuses_bad_bodies(admin_client, warehouse, variant, body, status, code):
    receive(variant, default_of(warehouse), 3)
    before = stock_snapshot()

    response = admin_client.post("/stock/reservations/allocate", body, format="json")

    assert (response.status_code, error_of(response)["code"]) == (status, code)
    assert stock_snapshot() == before


@pytest.fixture
def held(admin_client, warehouse, variant):
    receive(variant, default_of(warehouse), 10)
    response = admin_client.post(
        "/stock/reservations",
        {"sku": "PEN-1", "quantity": 4, "location_id": default_of(warehouse).pk, "reference": "quote 1"},
        format="json",
    )
    assert response.status_code == 201
    return response.json()


def test_reservation_get_and_list(admin_client, held, warehouse, variant):
    other = admin_client.post(
        "/stock/reservations/allocate",
        {"lines": [{"sku": "PEN-1", "quantity": 1}], "reference": "quote 2"},
        format="json",
    ).json()
    admin_client.post(f"/stock/reservations/{other['id']}/release")

    one = admin_client.get(f"/stock/reservations/{held['id']}")
    every = admin_client.get("/stock/reservations").json()
    by_reference = admin_client.get("/stock/reservations", {"reference": "quote 1"}).json()
    by_status = admin_client.get("/stock/reservations", {"status": "RELEASED"}).json()
    bad_status = admin_client.get("/stock/reservations", {"status": "GONE"})
    unknown = admin_client.get("/stock/reservations/424242")

    assert one.status_code == 200
    assert one.json() == held
    assert [r["id"] for r in every["results"]] == [other["id"], held["id"]]
    assert [r["id"] for r in by_reference["results"]] == [held["id"]]
    assert [(r["id"], r["status"]) for r in by_status["results"]] == [(other["id"], "RELEASED")]
    assert (bad_status.status_code, list(error_of(bad_status)["details"]["fields"])) == (400, ["status"])
    assert (unknown.status_code, error_of(unknown)["code"]) == (404, "not_found")


def test_release_returns_the_units(manager_client, held, variant):
    response = manager_client.post(f"/stock/reservations/{held['id']}/release")

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"], body["committed_at"], body["lines"]) == (
        held["id"],
        "RELEASED",
        None,
        held["lines"],
    )
    assert parse(body["released_at"]) >= parse(body["created_at"])
    assert rows_of(variant) == {"ONE/DEFAULT": (10, 0)}
    assert_stock_consistent()


def test_commit_takes_the_units_off_on_hand(manager_client, held, variant):
    response = manager_client.post(f"/stock/reservations/{held['id']}/commit")

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["released_at"]) == ("COMMITTED", None)
    assert body["committed_at"] is not None
    assert rows_of(variant) == {"ONE/DEFAULT": (6, 0)}
    assert_stock_consistent()


@pytest.mark.parametrize(
    ("first", "then", "status"),
    [
        ("release", "release", "RELEASED"),
        ("release", "commit", "RELEASED"),
        ("commit", "commit", "COMMITTED"),
        ("commit", "release", "COMMITTED"),
    ],
)
def test_a_reservation_ends_once(admin_client, held, first, then, status):
    assert admin_client.post(f"/stock/reservations/{held['id']}/{first}").status_code == 200
    before = stock_snapshot()

    response = admin_client.post(f"/stock/reservations/{held['id']}/{then}")

    assert response.status_code == 409
    error = error_of(response)
    assert (error["code"], error["details"]) == (
        "invalid_transition",
        {"reservation_id": held["id"], "status": status, "action": then},
    )
    assert stock_snapshot() == before


def test_an_expired_hold_cannot_be_committed(admin_client, held):
    admin_client.post(f"/stock/reservations/{held['id']}/release")  # nothing to see here: make a fresh, due hold
    due = admin_client.post(
        "/stock/reservations/allocate",
        {"lines": [{"sku": "PEN-1", "quantity": 1}], "reference": "due", "ttl_seconds": 60},
        format="json",
    ).json()
    Reservation.objects.filter(pk=due["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    before = stock_snapshot()

    response = admin_client.post(f"/stock/reservations/{due['id']}/commit")

    assert (response.status_code, error_of(response)["code"]) == (409, "invalid_transition")
    assert stock_snapshot() == before


def test_an_order_s_reservation_is_ended_by_its_order_only(admin_client, customer, place_order, product_factory):
    order = place_order(customer, [(product_factory(stock_quantity=5), 2)])
    reservation = Reservation.objects.get(order_id=order.pk)
    before = stock_snapshot()

    release = admin_client.post(f"/stock/reservations/{reservation.pk}/release")
    commit = admin_client.post(f"/stock/reservations/{reservation.pk}/commit")

    for response in (release, commit):
        assert response.status_code == 409
        error = error_of(response)
        assert (error["code"], error["details"]) == (
            "reservation_held_by_order",
            {"reservation_id": reservation.pk, "order_id": str(order.pk)},
        )
    assert stock_snapshot() == before
    assert Reservation.objects.get(pk=reservation.pk).status == ReservationStatus.ALLOCATED


def test_release_and_commit_of_an_unknown_reservation(admin_client):
    for action in ("release", "commit"):
        response = admin_client.post(f"/stock/reservations/424242/{action}")
        assert (response.status_code, error_of(response)["code"]) == (404, "not_found")
