"""Warehouses, locations and the stock operations at service level: what they write, what they refuse."""

import uuid
from datetime import timedelta

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.exceptions import (
    CodeTaken,
    DefaultLocationFixed,
    InsufficientStock,
    LocationInactive,
    LocationWarehouseMismatch,
    ReservationHeldByOrder,
    ReservationInvalidTransition,
    SameLocation,
    StockLimitExceeded,
    StockWouldGoNegative,
    UnknownLocation,
    UnknownSku,
    UnknownWarehouse,
)
from inventory.models import (
    MAX_UNITS,
    Allocation,
    Location,
    MovementKind,
    Reservation,
    ReservationStatus,
    Stock,
    StockMovement,
    Warehouse,
)
from inventory.services.adjustments import stock_adjust, stock_count
from inventory.services.allocation import HoldLine, HoldRequest, stock_allocate
from inventory.services.receipts import ReceiptLine, stock_receipt_create, stock_receive
from inventory.services.reservations import (
    SkuLine,
    reservation_allocate,
    reservation_commit,
    reservation_hold,
    reservation_release,
    reservations_commit,
    reservations_expire_due,
    reservations_release,
)
from inventory.services.transfers import stock_transfer
from inventory.services.warehouses import (
    location_create,
    location_update,
    warehouse_create,
    warehouse_update,
)
from tests.inventory.helpers import default_of, receive, stock_snapshot
from tests.stock import assert_stock_consistent, rows_of

pytestmark = pytest.mark.django_db


def movements_of(result) -> list[tuple]:
    return [(m.kind, m.stock.location.code, m.on_hand_delta, m.reserved_delta, m.on_hand_after) for m in result]


@pytest.fixture
def warehouse(warehouse_factory):
    return warehouse_factory(code="ONE")


@pytest.fixture
def variant(variant_factory):
    return variant_factory(sku="PEN-1")


# --- warehouses and locations


def test_warehouse_create_normalises_and_makes_its_default_location():
    warehouse = warehouse_create(code="  east-1 ", name="  East  ", address="1 Dock Road", priority=7)

    assert (warehouse.code, warehouse.name, warehouse.address, warehouse.priority, warehouse.is_active) == (
        "EAST-1",
        "East",
        "1 Dock Road",
        7,
        True,
    )
    assert list(Location.objects.filter(warehouse=warehouse).values_list("code", "is_active")) == [("DEFAULT", True)]


def test_warehouse_create_refuses_a_taken_code_in_any_case(warehouse):
    before = stock_snapshot()

    with pytest.raises(CodeTaken) as excinfo:
        warehouse_create(code=" one ", name="Another")

    assert excinfo.value.details == {"code": "ONE"}
    assert stock_snapshot() == before


def test_warehouse_update_changes_only_the_given_fields(warehouse):
    updated = warehouse_update(warehouse_id=warehouse.pk, changes={"name": " Renamed ", "is_active": False}, actor=None)

    assert (updated.code, updated.name, updated.priority, updated.is_active) == ("ONE", "Renamed", 100, False)
    with pytest.raises(ValueError, match="code"):
        warehouse_update(warehouse_id=warehouse.pk, changes={"code": "TWO"}, actor=None)


def test_location_create_normalises_the_code_unique_within_its_warehouse(warehouse, warehouse_factory):
    other = warehouse_factory(code="TWO")
    shelf = location_create(warehouse_id=warehouse.pk, code=" a-01 ")
    same_code_elsewhere = location_create(warehouse_id=other.pk, code="A-01")
    before = stock_snapshot()

    with pytest.raises(CodeTaken) as excinfo:
        location_create(warehouse_id=warehouse.pk, code="A-01")

    assert (shelf.code, shelf.warehouse_id, same_code_elsewhere.warehouse_id) == ("A-01", warehouse.pk, other.pk)
    assert excinfo.value.details == {"code": "A-01"}
    assert stock_snapshot() == before


def test_location_create_in_an_unknown_warehouse():
    with pytest.raises(UnknownWarehouse) as excinfo:
        location_create(warehouse_id=424242, code="A-01")

    assert excinfo.value.details == {"warehouse_ids": [424242]}
    assert not Location.objects.filter(code="A-01").exists()


def test_location_update_renames_deactivates_and_keeps_default_fixed(warehouse, location_factory):
    shelf = location_factory(warehouse=warehouse, code="A-01")
    location_factory(warehouse=warehouse, code="A-02")

    renamed = location_update(location_id=shelf.pk, changes={"code": "b-01", "is_active": False}, actor=None)
    with pytest.raises(CodeTaken):
        location_update(location_id=shelf.pk, changes={"code": "a-02"}, actor=None)
    with pytest.raises(DefaultLocationFixed) as excinfo:
        location_update(location_id=default_of(warehouse).pk, changes={"code": "INBOUND"}, actor=None)
    same = location_update(
        location_id=default_of(warehouse).pk, changes={"code": " default ", "is_active": False}, actor=None
    )

    assert (renamed.code, renamed.is_active) == ("B-01", False)
    assert excinfo.value.details == {"location_id": default_of(warehouse).pk}
    assert (same.code, same.is_active) == ("DEFAULT", False)
    assert Location.objects.get(pk=shelf.pk).code == "B-01"


@pytest.mark.parametrize(
    ("model", "field", "value"),
    [(Warehouse, "code", "lower"), (Location, "code", "lower")],
)
def test_database_refuses_lower_case_codes(warehouse, model, field, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.filter(pk=default_of(warehouse).pk if model is Location else warehouse.pk).update(
            **{field: value}
        )


# --- receipts


def test_stock_receive_books_every_line_at_its_location(
    warehouse, location_factory, variant, variant_factory, admin_user
):
    shelf = location_factory(warehouse=warehouse, code="A-01")
    other = variant_factory(sku="INK-1")

    movements = stock_receipt_create(
        warehouse_id=warehouse.pk,
        lines=[
            ReceiptLine("pen-1", 3),
            ReceiptLine(" Pen-1 ", 2),
            ReceiptLine("ink-1", 4, shelf.pk),
        ],
        actor=admin_user,
        reference="PO-17",
        reason="delivery",
    )

    assert movements_of(movements) == [
        (MovementKind.RECEIPT, "DEFAULT", 3, 0, 3),
        (MovementKind.RECEIPT, "DEFAULT", 2, 0, 5),
        (MovementKind.RECEIPT, "A-01", 4, 0, 4),
    ]
    assert {(m.reference, m.reason, m.actor_id) for m in movements} == {("PO-17", "delivery", admin_user.pk)}
    assert rows_of(variant) == {"ONE/DEFAULT": (5, 0)}
    assert rows_of(other) == {"ONE/A-01": (4, 0)}
    assert_stock_consistent()


@pytest.mark.parametrize(
    ("lines", "error", "details"),
    [
        (
            lambda ids: [ReceiptLine("nope-2", 1), ReceiptLine("PEN-1", 1), ReceiptLine("nope-1", 1)],
            UnknownSku,
            lambda ids: {"skus": ["NOPE-1", "NOPE-2"]},
        ),
        (
            lambda ids: [ReceiptLine("PEN-1", 1, 999998), ReceiptLine("PEN-1", 1, 999999)],
            UnknownLocation,
            lambda ids: {"location_ids": [999998, 999999]},
        ),
        (
            lambda ids: [ReceiptLine("PEN-1", 1), ReceiptLine("PEN-1", 1, ids["foreign"])],
            LocationWarehouseMismatch,
            lambda ids: {"warehouse_id": ids["warehouse"], "location_ids": [ids["foreign"]]},
        ),
        (
            lambda ids: [ReceiptLine("PEN-1", 1), ReceiptLine("PEN-1", 1, ids["inactive"])],
            LocationInactive,
            lambda ids: {"location_ids": [ids["inactive"]]},
        ),
    ],
    ids=["unknown_sku", "unknown_location", "location_warehouse_mismatch", "location_inactive"],
)
def test_stock_receive_refuses_bad_lines_and_writes_nothing(
    warehouse, warehouse_factory, location_factory, variant, lines, error, details
):
    inactive = location_factory(warehouse=warehouse, code="OLD")
    location_update(location_id=inactive.pk, changes={"is_active": False}, actor=None)
    ids = {"warehouse": warehouse.pk, "foreign": default_of(warehouse_factory(code="TWO")).pk, "inactive": inactive.pk}
    before = stock_snapshot()

    with pytest.raises(error) as excinfo:
        stock_receipt_create(warehouse_id=warehouse.pk, lines=lines(ids), actor=None, reference="PO-1")

    assert excinfo.value.details == details(ids)
    assert stock_snapshot() == before


def test_stock_receive_into_an_unknown_or_inactive_warehouse(warehouse, variant):
    with pytest.raises(UnknownWarehouse) as unknown:
        stock_receipt_create(warehouse_id=424242, lines=[ReceiptLine("PEN-1", 1)], actor=None, reference="PO-1")
    warehouse_update(warehouse_id=warehouse.pk, changes={"is_active": False}, actor=None)
    before = stock_snapshot()
    with pytest.raises(LocationInactive) as inactive:
        stock_receipt_create(warehouse_id=warehouse.pk, lines=[ReceiptLine("PEN-1", 1)], actor=None, reference="PO-1")

    assert unknown.value.details == {"warehouse_ids": [424242]}
    assert inactive.value.details == {"location_ids": [default_of(warehouse).pk]}
    assert stock_snapshot() == before


def test_stock_receive_refuses_more_than_a_row_can_count(warehouse, variant):
    receive(variant, default_of(warehouse), MAX_UNITS - 5)
    before = stock_snapshot()

    with pytest.raises(StockLimitExceeded) as excinfo:
        stock_receipt_create(
            warehouse_id=warehouse.pk,
            lines=[ReceiptLine("PEN-1", 3), ReceiptLine("PEN-1", 3)],
            actor=None,
            reference="x",
        )

    assert excinfo.value.details == {
        "lines": [{"sku": "PEN-1", "location_id": default_of(warehouse).pk, "on_hand": MAX_UNITS - 5, "delta": 6}]
    }
    assert stock_snapshot() == before


def test_stock_receive_costs_the_same_queries_for_1_10_and_50_lines(warehouse, location_factory, variant_factory):
    shelf = location_factory(warehouse=warehouse, code="A-01")
    counts = []
    for size in (1, 10, 50):
        variants = variant_factory.create_batch(size)
        lines = [ReceiptLine(v.sku, 2, shelf.pk if i % 2 else None) for i, v in enumerate(variants)]
        with CaptureQueriesContext(connection) as captured:
            movements = stock_receipt_create(warehouse_id=warehouse.pk, lines=lines, actor=None, reference="PO")
        counts.append(len(captured))
        assert len(movements) == size

    assert counts[0] == counts[1] == counts[2], counts
    assert_stock_consistent()


# --- adjustments


def test_stock_adjust_applies_a_signed_delta_and_books_it(warehouse, location_factory, variant, inventory_manager):
    shelf = location_factory(warehouse=warehouse, code="A-01")
    receive(variant, default_of(warehouse), 10)

    down = stock_adjust(
        sku="pen-1", location_id=default_of(warehouse).pk, delta=-4, reason="breakage", actor=inventory_manager
    )
    up = stock_adjust(sku="PEN-1", location_id=shelf.pk, delta=6, reason="found", actor=inventory_manager)

    assert (down.kind, down.on_hand_delta, down.on_hand_after, down.reason, down.actor_id) == (
        MovementKind.ADJUSTMENT,
        -4,
        6,
        "breakage",
        inventory_manager.pk,
    )
    assert (up.on_hand_delta, up.on_hand_after) == (6, 6)
    assert rows_of(variant) == {"ONE/DEFAULT": (6, 0), "ONE/A-01": (6, 0)}
    assert_stock_consistent()


def test_stock_count_books_the_difference_to_the_locked_row(warehouse, variant, inventory_manager):
    location = default_of(warehouse)
    receive(variant, location, 10)

    down = stock_count(sku="pen-1", location_id=location.pk, counted=7, reason="count", actor=inventory_manager)
    unchanged = stock_count(sku="PEN-1", location_id=location.pk, counted=7, reason="count", actor=inventory_manager)
    fresh = location_create(warehouse_id=warehouse.pk, code="B-02")
    new_row = stock_count(sku="PEN-1", location_id=fresh.pk, counted=4, reason="count", actor=inventory_manager)

    assert (down.kind, down.on_hand_delta, down.on_hand_after, down.reason) == (MovementKind.ADJUSTMENT, -3, 7, "count")
    assert unchanged is None
    assert (new_row.on_hand_delta, new_row.on_hand_after) == (4, 4)
    assert rows_of(variant) == {"ONE/DEFAULT": (7, 0), "ONE/B-02": (4, 0)}
    assert_stock_consistent()


def test_stock_count_below_the_reserved_units_is_refused(warehouse, variant, inventory_manager):
    location = default_of(warehouse)
    receive(variant, location, 10)
    reservation_hold(sku="PEN-1", quantity=6, location_id=location.pk, reference="hold", actor=inventory_manager)
    before = stock_snapshot()

    with pytest.raises(StockWouldGoNegative) as excinfo:
        stock_count(sku="PEN-1", location_id=location.pk, counted=5, reason="count", actor=inventory_manager)

    assert excinfo.value.details == {
        "product_id": variant.product_id,
        "sku": "PEN-1",
        "location_id": location.pk,
        "delta": -5,
        "on_hand": 10,
        "available": 4,
    }
    assert stock_snapshot() == before


def test_stock_adjust_refuses_going_below_zero_or_below_the_reserved_units(warehouse, variant, inventory_manager):
    location = default_of(warehouse)
    receive(variant, location, 10)
    reservation_hold(sku="PEN-1", quantity=7, location_id=location.pk, reference="hold", actor=inventory_manager)
    before = stock_snapshot()

    with pytest.raises(StockWouldGoNegative) as excinfo:
        stock_adjust(sku="PEN-1", location_id=location.pk, delta=-4, reason="count", actor=inventory_manager)

    assert excinfo.value.details == {
        "product_id": variant.product_id,
        "sku": "PEN-1",
        "location_id": location.pk,
        "delta": -4,
        "on_hand": 10,
        "available": 3,
    }
    assert stock_snapshot() == before
    stock_adjust(sku="PEN-1", location_id=location.pk, delta=-3, reason="count", actor=inventory_manager)
    assert rows_of(variant) == {"ONE/DEFAULT": (7, 7)}


def test_stock_adjust_down_where_there_is_no_row_creates_none(warehouse, variant, inventory_manager):
    before = stock_snapshot()

    with pytest.raises(StockWouldGoNegative) as excinfo:
        stock_adjust(
            sku="PEN-1", location_id=default_of(warehouse).pk, delta=-1, reason="count", actor=inventory_manager
        )

    assert (excinfo.value.details["on_hand"], excinfo.value.details["available"]) == (0, 0)
    assert stock_snapshot() == before


def test_stock_adjust_refuses_more_than_a_row_can_count(warehouse, variant, inventory_manager):
    receive(variant, default_of(warehouse), MAX_UNITS)
    before = stock_snapshot()

    with pytest.raises(StockLimitExceeded):
        stock_adjust(
            sku="PEN-1", location_id=default_of(warehouse).pk, delta=1, reason="count", actor=inventory_manager
        )

    assert stock_snapshot() == before


def test_stock_adjust_unknown_sku_or_location(warehouse, variant, inventory_manager):
    with pytest.raises(UnknownSku) as sku:
        stock_adjust(sku="nope", location_id=default_of(warehouse).pk, delta=1, reason="x", actor=inventory_manager)
    with pytest.raises(UnknownLocation) as location:
        stock_adjust(sku="PEN-1", location_id=424242, delta=1, reason="x", actor=inventory_manager)

    assert sku.value.details == {"skus": ["NOPE"]}
    assert location.value.details == {"location_ids": [424242]}
    assert not Stock.objects.exists()


# --- transfers


def test_stock_transfer_moves_available_units_within_and_across_warehouses(
    warehouse, warehouse_factory, location_factory, variant, inventory_manager
):
    shelf = location_factory(warehouse=warehouse, code="A-01")
    far = default_of(warehouse_factory(code="TWO"))
    receive(variant, default_of(warehouse), 10)

    inside = stock_transfer(
        sku="pen-1",
        from_location_id=default_of(warehouse).pk,
        to_location_id=shelf.pk,
        quantity=4,
        actor=inventory_manager,
        reference="T-1",
    )
    across = stock_transfer(
        sku="PEN-1", from_location_id=shelf.pk, to_location_id=far.pk, quantity=3, actor=inventory_manager
    )

    assert movements_of(inside) == [
        (MovementKind.TRANSFER_OUT, "DEFAULT", -4, 0, 6),
        (MovementKind.TRANSFER_IN, "A-01", 4, 0, 4),
    ]
    assert {m.reference for m in inside} == {"T-1"}
    assert movements_of(across) == [
        (MovementKind.TRANSFER_OUT, "A-01", -3, 0, 1),
        (MovementKind.TRANSFER_IN, "DEFAULT", 3, 0, 3),
    ]
    assert rows_of(variant) == {"ONE/DEFAULT": (6, 0), "ONE/A-01": (1, 0), "TWO/DEFAULT": (3, 0)}
    assert_stock_consistent()


def test_stock_transfer_never_moves_more_than_is_available(warehouse, location_factory, variant, inventory_manager):
    shelf = location_factory(warehouse=warehouse, code="A-01")
    source = default_of(warehouse)
    receive(variant, source, 10)
    reservation_hold(sku="PEN-1", quantity=8, location_id=source.pk, reference="hold", actor=inventory_manager)
    before = stock_snapshot()

    with pytest.raises(InsufficientStock) as excinfo:
        stock_transfer(
            sku="PEN-1", from_location_id=source.pk, to_location_id=shelf.pk, quantity=3, actor=inventory_manager
        )

    assert excinfo.value.details == {
        "lines": [
            {"variant_id": variant.pk, "product_id": variant.product_id, "sku": "PEN-1", "requested": 3, "available": 2}
        ]
    }
    assert stock_snapshot() == before


def test_stock_transfer_refuses_an_inactive_destination_but_empties_an_inactive_source(
    warehouse, location_factory, variant, inventory_manager
):
    old, new = location_factory(warehouse=warehouse, code="OLD"), location_factory(warehouse=warehouse, code="NEW")
    receive(variant, old, 5)
    location_update(location_id=old.pk, changes={"is_active": False}, actor=None)
    location_update(location_id=new.pk, changes={"is_active": False}, actor=None)
    before = stock_snapshot()

    with pytest.raises(LocationInactive) as excinfo:
        stock_transfer(sku="PEN-1", from_location_id=old.pk, to_location_id=new.pk, quantity=1, actor=inventory_manager)
    assert excinfo.value.details == {"location_ids": [new.pk]}
    assert stock_snapshot() == before

    stock_transfer(
        sku="PEN-1",
        from_location_id=old.pk,
        to_location_id=default_of(warehouse).pk,
        quantity=5,
        actor=inventory_manager,
    )
    assert rows_of(variant) == {"ONE/OLD": (0, 0), "ONE/DEFAULT": (5, 0)}


def test_stock_transfer_refuses_the_same_location(warehouse, variant, inventory_manager):
    location = default_of(warehouse)
    receive(variant, location, 5)

    with pytest.raises(SameLocation) as excinfo:
        stock_transfer(
            sku="PEN-1", from_location_id=location.pk, to_location_id=location.pk, quantity=1, actor=inventory_manager
        )

    assert excinfo.value.details == {"location_id": location.pk}


def test_stock_transfer_refuses_a_destination_that_cannot_count_more(
    warehouse, location_factory, variant, inventory_manager
):
    full = location_factory(warehouse=warehouse, code="FULL")
    receive(variant, full, MAX_UNITS)
    receive(variant, default_of(warehouse), 1)
    before = stock_snapshot()

    with pytest.raises(StockLimitExceeded):
        stock_transfer(
            sku="PEN-1",
            from_location_id=default_of(warehouse).pk,
            to_location_id=full.pk,
            quantity=1,
            actor=inventory_manager,
        )

    assert stock_snapshot() == before


# --- reservations


def test_reservation_hold_with_and_without_a_ttl(warehouse, variant, inventory_manager):
    location = default_of(warehouse)
    receive(variant, location, 10)

    forever = reservation_hold(sku="pen-1", quantity=2, location_id=location.pk, reference="a", actor=inventory_manager)
    start = timezone.now()
    brief = reservation_hold(
        sku="PEN-1", quantity=3, location_id=location.pk, reference="b", actor=inventory_manager, ttl_seconds=600
    )

    assert forever.expires_at is None
    assert start + timedelta(seconds=599) < brief.expires_at < timezone.now() + timedelta(seconds=601)
    assert (brief.status, brief.reference, brief.actor_id, brief.order_id) == (
        ReservationStatus.ALLOCATED,
        "b",
        inventory_manager.pk,
        None,
    )
    assert rows_of(variant) == {"ONE/DEFAULT": (10, 5)}
    assert_stock_consistent()


def test_reservation_hold_refuses_unknown_inactive_and_short_locations(
    warehouse, warehouse_factory, location_factory, variant, inventory_manager
):
    shelf = location_factory(warehouse=warehouse, code="A-01")
    receive(variant, shelf, 2)
    receive(variant, default_of(warehouse), 50)
    closed = warehouse_factory(code="CLOSED")
    warehouse_update(warehouse_id=closed.pk, changes={"is_active": False}, actor=None)
    before = stock_snapshot()

    def hold(location_id, quantity=1, sku="PEN-1"):
        return reservation_hold(
            sku=sku, quantity=quantity, location_id=location_id, reference="x", actor=inventory_manager
        )

    with pytest.raises(UnknownLocation) as unknown:
        hold(424242)
    with pytest.raises(LocationInactive) as inactive:
        hold(default_of(closed).pk)
    with pytest.raises(InsufficientStock) as short:
        hold(shelf.pk, quantity=3)
    with pytest.raises(UnknownSku):
        hold(shelf.pk, sku="NOPE")

    assert unknown.value.details == {"location_ids": [424242]}
    assert inactive.value.details == {"location_ids": [default_of(closed).pk]}
    assert short.value.details["lines"][0]["available"] == 2
    assert stock_snapshot() == before


def test_reservation_allocate_merges_lines_of_one_sku(warehouse, variant, variant_factory, inventory_manager):
    other = variant_factory(sku="INK-1")
    receive(variant, default_of(warehouse), 10)
    receive(other, default_of(warehouse), 10)

    reservation = reservation_allocate(
        lines=[SkuLine("pen-1", 2), SkuLine("INK-1", 1), SkuLine("Pen-1", 3)], reference="r", actor=inventory_manager
    )

    assert sorted(
        Allocation.objects.filter(reservation=reservation).values_list("stock__variant__sku", "quantity")
    ) == [
        ("INK-1", 1),
        ("PEN-1", 5),
    ]


def test_reservation_release_returns_the_units(warehouse, variant, inventory_manager, admin_user):
    location = default_of(warehouse)
    receive(variant, location, 10)
    held = reservation_hold(sku="PEN-1", quantity=4, location_id=location.pk, reference="h", actor=inventory_manager)

    released = reservation_release(reservation_id=held.pk, actor=admin_user)

    released.refresh_from_db()
    assert (released.status, released.committed_at) == (ReservationStatus.RELEASED, None)
    assert released.released_at is not None
    movement = StockMovement.objects.get(kind=MovementKind.RELEASE)
    assert (movement.on_hand_delta, movement.reserved_delta, movement.reservation_id, movement.actor_id) == (
        0,
        -4,
        held.pk,
        admin_user.pk,
    )
    assert rows_of(variant) == {"ONE/DEFAULT": (10, 0)}
    assert_stock_consistent()


def test_reservation_commit_takes_the_units_off_on_hand(warehouse, variant, inventory_manager):
    location = default_of(warehouse)
    receive(variant, location, 10)
    held = reservation_hold(sku="PEN-1", quantity=4, location_id=location.pk, reference="h", actor=inventory_manager)

    committed = reservation_commit(reservation_id=held.pk, actor=inventory_manager)

    committed.refresh_from_db()
    assert committed.status == ReservationStatus.COMMITTED
    assert committed.committed_at is not None
    movement = StockMovement.objects.get(kind=MovementKind.COMMIT)
    assert (movement.on_hand_delta, movement.reserved_delta, movement.on_hand_after, movement.reserved_after) == (
        -4,
        -4,
        6,
        0,
    )
    assert rows_of(variant) == {"ONE/DEFAULT": (6, 0)}
    assert_stock_consistent()


@pytest.mark.parametrize(
    ("first", "then", "status"),
    [
        (reservation_release, reservation_release, ReservationStatus.RELEASED),
        (reservation_release, reservation_commit, ReservationStatus.RELEASED),
        (reservation_commit, reservation_commit, ReservationStatus.COMMITTED),
        (reservation_commit, reservation_release, ReservationStatus.COMMITTED),
    ],
)
def test_reservation_ends_only_once(warehouse, variant, inventory_manager, first, then, status):
    location = default_of(warehouse)
    receive(variant, location, 10)
    held = reservation_hold(sku="PEN-1", quantity=4, location_id=location.pk, reference="h", actor=inventory_manager)
    first(reservation_id=held.pk, actor=inventory_manager)
    before = stock_snapshot()

    with pytest.raises(ReservationInvalidTransition) as excinfo:
        then(reservation_id=held.pk, actor=inventory_manager)

    action = "release" if then is reservation_release else "commit"
    assert excinfo.value.details == {"reservation_id": held.pk, "status": status, "action": action}
    assert stock_snapshot() == before


def test_a_hold_past_its_expiry_can_be_released_but_not_committed(warehouse, variant, inventory_manager):
    location = default_of(warehouse)
    receive(variant, location, 10)
    held = reservation_hold(
        sku="PEN-1", quantity=4, location_id=location.pk, reference="h", actor=inventory_manager, ttl_seconds=60
    )
    Reservation.objects.filter(pk=held.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(ReservationInvalidTransition) as excinfo:
        reservation_commit(reservation_id=held.pk, actor=inventory_manager)
    reservation_release(reservation_id=held.pk, actor=inventory_manager)

    assert excinfo.value.details["status"] == ReservationStatus.ALLOCATED
    assert Reservation.objects.get(pk=held.pk).status == ReservationStatus.RELEASED
    assert rows_of(variant) == {"ONE/DEFAULT": (10, 0)}


def test_an_order_s_reservation_moves_only_with_its_order(warehouse, variant, inventory_manager):
    receive(variant, default_of(warehouse), 10)
    order_id, other_order = uuid.uuid4(), uuid.uuid4()
    (held,) = stock_allocate(
        requests=[HoldRequest(reference="order", lines=[HoldLine(variant, 3)], order_id=order_id)], actor=None
    )
    before = stock_snapshot()

    for end in (reservation_release, reservation_commit):
        with pytest.raises(ReservationHeldByOrder) as excinfo:
            end(reservation_id=held.pk, actor=inventory_manager)
        assert excinfo.value.details == {"reservation_id": held.pk, "order_id": str(order_id)}
    with pytest.raises(ReservationHeldByOrder), transaction.atomic():
        reservations_release(reservation_ids=[held.pk], actor=None, order_id=other_order)
    assert stock_snapshot() == before

    movements = reservations_commit(reservation_ids=[held.pk], actor=None, order_id=order_id)
    assert [(m.kind, m.order_id, m.on_hand_delta) for m in movements] == [(MovementKind.COMMIT, order_id, -3)]
    assert rows_of(variant) == {"ONE/DEFAULT": (7, 0)}


def test_reservations_of_an_order_release_together(warehouse, variant, variant_factory):
    other = variant_factory()
    receive(variant, default_of(warehouse), 10)
    receive(other, default_of(warehouse), 10)
    order_id = uuid.uuid4()
    held = stock_allocate(
        requests=[
            HoldRequest(reference="a", lines=[HoldLine(variant, 3)], order_id=order_id),
            HoldRequest(reference="b", lines=[HoldLine(other, 2)], order_id=order_id),
        ],
        actor=None,
    )

    movements = reservations_release(reservation_ids=[r.pk for r in held], actor=None, order_id=order_id)

    assert sorted((m.reservation_id, m.reserved_delta, m.order_id) for m in movements) == sorted(
        [(held[0].pk, -3, order_id), (held[1].pk, -2, order_id)]
    )
    assert set(Reservation.objects.values_list("status", flat=True)) == {ReservationStatus.RELEASED}
    assert_stock_consistent()


@pytest.mark.parametrize("action", [reservation_release, reservation_commit])
def test_ending_a_reservation_costs_the_same_queries_for_1_10_and_50_lines(
    warehouse, variant_factory, inventory_manager, action
):
    counts = []
    for size in (1, 10, 50):
        variants = variant_factory.create_batch(size)
        stock_receive(warehouse_id=warehouse.pk, lines=[ReceiptLine(v.sku, 2) for v in variants], actor=None)
        held = reservation_allocate(
            lines=[SkuLine(v.sku, 1) for v in variants], reference="many", actor=inventory_manager
        )
        with CaptureQueriesContext(connection) as captured:
            action(reservation_id=held.pk, actor=inventory_manager)
        counts.append(len(captured))

    assert counts[0] == counts[1] == counts[2], counts
    assert_stock_consistent()


def test_transfer_and_adjustment_cost_a_fixed_number_of_queries(
    warehouse, location_factory, variant, inventory_manager
):
    shelf = location_factory(warehouse=warehouse, code="A-01")
    receive(variant, default_of(warehouse), 10)

    def transfer():
        stock_transfer(
            sku="PEN-1",
            from_location_id=default_of(warehouse).pk,
            to_location_id=shelf.pk,
            quantity=1,
            actor=inventory_manager,
        )

    def adjust():
        stock_adjust(sku="PEN-1", location_id=shelf.pk, delta=1, reason="count", actor=inventory_manager)

    for operation in (transfer, adjust):
        counts = []
        for _ in range(2):  # the first call may create the destination row; the second reuses it
            with CaptureQueriesContext(connection) as captured:
                operation()
            counts.append(len(captured))
        assert counts[0] == counts[1] <= 12, counts


# --- expiry


def test_reservations_expire_due_ends_only_the_holds_past_their_expiry(warehouse, variant, variant_factory):
    other = variant_factory()
    receive(variant, default_of(warehouse), 20)
    receive(other, default_of(warehouse), 20)
    past, future = timezone.now() - timedelta(seconds=1), timezone.now() + timedelta(hours=1)

    def hold(expires_at, *lines, order_id=None):
        request = HoldRequest(reference="h", lines=list(lines), expires_at=expires_at, order_id=order_id)
        (reservation,) = stock_allocate(requests=[request], actor=None)
        return reservation

    due = [hold(future, HoldLine(variant, 1), HoldLine(other, 2)) for _ in range(5)]
    kept = [
        hold(future, HoldLine(variant, 1)),
        hold(None, HoldLine(variant, 1)),
        hold(None, HoldLine(variant, 1), order_id=uuid.uuid4()),
    ]
    released = hold(future, HoldLine(variant, 1))
    reservation_release(reservation_id=released.pk, actor=None)
    # due now (allocation would have expired them at once had they been due while the others were made)
    Reservation.objects.filter(pk__in=[r.pk for r in [*due, released]]).update(expires_at=past)

    assert reservations_expire_due(batch_size=2) == 5
    assert reservations_expire_due() == 0

    statuses = dict(Reservation.objects.values_list("pk", "status"))
    assert {statuses[r.pk] for r in due} == {ReservationStatus.EXPIRED}
    assert {statuses[r.pk] for r in kept} == {ReservationStatus.ALLOCATED}
    assert statuses[released.pk] == ReservationStatus.RELEASED
    expire = StockMovement.objects.filter(kind=MovementKind.EXPIRE)
    assert sorted(expire.values_list("reservation_id", "reserved_delta", "on_hand_delta")) == sorted(
        [(r.pk, -1, 0) for r in due] + [(r.pk, -2, 0) for r in due]
    )
    assert not Reservation.objects.filter(status=ReservationStatus.EXPIRED, expired_at__isnull=True).exists()
    assert rows_of(variant) == {"ONE/DEFAULT": (20, 3)}
    assert rows_of(other) == {"ONE/DEFAULT": (20, 0)}
    assert_stock_consistent()


def test_an_order_reservation_cannot_expire(warehouse, variant):
    receive(variant, default_of(warehouse), 5)
    (held,) = stock_allocate(
        requests=[HoldRequest(reference="order", lines=[HoldLine(variant, 1)], order_id=uuid.uuid4())], actor=None
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        Reservation.objects.filter(pk=held.pk).update(expires_at=timezone.now())


# --- the ledger and the constraints


def test_ledger_rows_cannot_be_updated(warehouse, variant):
    receive(variant, default_of(warehouse), 5)

    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        StockMovement.objects.update(reason="rewritten history")


@pytest.mark.parametrize(("on_hand", "reserved"), [(5, 6), (-1, 0), (5, -1)])
def test_database_refuses_impossible_stock_rows(warehouse, variant, on_hand, reserved):
    receive(variant, default_of(warehouse), 5)

    with pytest.raises(IntegrityError), transaction.atomic():
        Stock.objects.update(on_hand=on_hand, reserved=reserved)


def test_the_ledger_reconciles_after_a_mix_of_operations(
    warehouse, warehouse_factory, location_factory, variant, variant_factory, inventory_manager
):
    other = variant_factory()
    shelf = location_factory(warehouse=warehouse, code="A-01")
    far = default_of(warehouse_factory(code="TWO", priority=1))
    stock_receipt_create(
        warehouse_id=warehouse.pk,
        lines=[ReceiptLine(variant.sku, 30), ReceiptLine(other.sku, 10, shelf.pk)],
        actor=inventory_manager,
        reference="PO",
    )
    stock_transfer(
        sku=variant.sku,
        from_location_id=default_of(warehouse).pk,
        to_location_id=far.pk,
        quantity=12,
        actor=inventory_manager,
    )
    a = reservation_allocate(
        lines=[SkuLine(variant.sku, 15), SkuLine(other.sku, 4)], reference="a", actor=inventory_manager
    )
    b = reservation_hold(sku=other.sku, quantity=3, location_id=shelf.pk, reference="b", actor=inventory_manager)
    stock_adjust(
        sku=variant.sku, location_id=default_of(warehouse).pk, delta=-2, reason="damage", actor=inventory_manager
    )
    reservation_commit(reservation_id=a.pk, actor=inventory_manager)
    reservation_release(reservation_id=b.pk, actor=inventory_manager)

    # TWO (priority 1) held 12 of the 15 units asked: ONE, able to supply the whole line, supplied it
    assert rows_of(variant) == {"ONE/DEFAULT": (1, 0), "TWO/DEFAULT": (12, 0)}
    assert rows_of(other) == {"ONE/A-01": (6, 0)}
    assert_stock_consistent()
