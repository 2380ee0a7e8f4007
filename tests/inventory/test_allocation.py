"""Allocation policy: which warehouses and locations hold a reservation's units, chosen by inventory."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.exceptions import InsufficientStock
from inventory.models import (
    Allocation,
    MovementKind,
    Reservation,
    ReservationStatus,
    StockMovement,
)
from inventory.services.allocation import HoldLine, HoldRequest, stock_allocate
from inventory.services.receipts import ReceiptLine, stock_receive
from inventory.services.warehouses import location_update, warehouse_update
from tests.inventory.helpers import default_of, receive, stock_snapshot
from tests.stock import assert_stock_consistent, rows_of

pytestmark = pytest.mark.django_db


def allocate(*lines, reference: str = "test", actor=None, **request) -> Reservation:
    hold = HoldRequest(reference=reference, lines=[HoldLine(variant, units) for variant, units in lines], **request)
    (reservation,) = stock_allocate(requests=[hold], actor=actor)
    return reservation


def taken(reservation: Reservation) -> dict[str, int]:
    """``{"WAREHOUSE/LOCATION": units}`` the reservation holds."""
    allocations = Allocation.objects.filter(reservation=reservation).select_related("stock__location__warehouse")
    return {f"{a.stock.location.warehouse.code}/{a.stock.location.code}": a.quantity for a in allocations}


@pytest.fixture
def three_warehouses(warehouse_factory, variant_factory):
    """One variant: 2 units at CLOSE (priority 5), 3 at MIDDLE (10), 10 at FAR (20)."""
    variant = variant_factory()
    far = warehouse_factory(code="FAR", priority=20)
    middle = warehouse_factory(code="MIDDLE", priority=10)
    close = warehouse_factory(code="CLOSE", priority=5)
    for warehouse, units in ((far, 10), (middle, 3), (close, 2)):
        receive(variant, default_of(warehouse), units)
    return variant


@pytest.mark.parametrize(
    ("quantity", "expected"),
    [
        (1, {"CLOSE/DEFAULT": 1}),
        (2, {"CLOSE/DEFAULT": 2}),
        (3, {"MIDDLE/DEFAULT": 3}),  # CLOSE cannot supply the whole line; MIDDLE can
        (4, {"FAR/DEFAULT": 4}),  # only FAR can supply it whole: one warehouse beats a split
        (10, {"FAR/DEFAULT": 10}),
        (11, {"CLOSE/DEFAULT": 2, "MIDDLE/DEFAULT": 3, "FAR/DEFAULT": 6}),  # split in priority order
        (15, {"CLOSE/DEFAULT": 2, "MIDDLE/DEFAULT": 3, "FAR/DEFAULT": 10}),
    ],
)
def test_stock_allocate_prefers_one_warehouse_by_priority_and_splits_only_when_needed(
    three_warehouses, quantity, expected
):
    reservation = allocate((three_warehouses, quantity))

    assert taken(reservation) == expected
    assert reservation.status == ReservationStatus.ALLOCATED
    assert {key: reserved for key, (_, reserved) in rows_of(three_warehouses).items() if reserved} == expected
    assert_stock_consistent()


def test_stock_allocate_breaks_priority_ties_by_warehouse_code(warehouse_factory, variant_factory):
    variant = variant_factory()
    beta = warehouse_factory(code="BETA", priority=50)  # created first: a lower id than ALPHA
    alpha = warehouse_factory(code="ALPHA", priority=50)
    receive(variant, default_of(beta), 5)
    receive(variant, default_of(alpha), 5)

    whole = allocate((variant, 3))
    split = allocate((variant, 6))

    assert taken(whole) == {"ALPHA/DEFAULT": 3}
    assert taken(split) == {"ALPHA/DEFAULT": 2, "BETA/DEFAULT": 4}


def test_stock_allocate_takes_the_locations_with_most_available_first(
    warehouse_factory, location_factory, variant_factory
):
    variant = variant_factory()
    warehouse = warehouse_factory(code="ONE")
    small, large, middle = (location_factory(warehouse=warehouse, code=code) for code in ("A-01", "A-02", "A-03"))
    receive(variant, small, 2)
    receive(variant, large, 7)
    receive(variant, middle, 4)

    reservation = allocate((variant, 9))

    assert taken(reservation) == {"ONE/A-02": 7, "ONE/A-03": 2}


def test_stock_allocate_breaks_location_ties_by_code(warehouse_factory, location_factory, variant_factory):
    variant = variant_factory()
    warehouse = warehouse_factory(code="ONE")
    late, early = location_factory(warehouse=warehouse, code="B-01"), location_factory(warehouse=warehouse, code="A-01")
    receive(variant, late, 3)
    receive(variant, early, 3)

    assert taken(allocate((variant, 4))) == {"ONE/A-01": 3, "ONE/B-01": 1}


def test_stock_allocate_never_takes_from_inactive_warehouses_or_locations(
    warehouse_factory, location_factory, variant_factory
):
    variant = variant_factory()
    closed = warehouse_factory(code="CLOSED", priority=1)
    open_ = warehouse_factory(code="OPEN", priority=2)
    shelf = location_factory(warehouse=open_, code="SHELF")
    receive(variant, default_of(closed), 50)
    receive(variant, shelf, 50)
    receive(variant, default_of(open_), 1)
    warehouse_update(warehouse_id=closed.pk, changes={"is_active": False}, actor=None)
    location_update(location_id=shelf.pk, changes={"is_active": False}, actor=None)

    assert taken(allocate((variant, 1))) == {"OPEN/DEFAULT": 1}
    before = stock_snapshot()
    with pytest.raises(InsufficientStock) as excinfo, transaction.atomic():
        allocate((variant, 1))

    assert excinfo.value.details["lines"] == [
        {"variant_id": variant.pk, "product_id": variant.product_id, "sku": variant.sku, "requested": 1, "available": 0}
    ]
    assert stock_snapshot() == before


def test_stock_allocate_lists_every_short_line_and_changes_nothing(warehouse_factory, variant_factory):
    a, b, c, d = variant_factory.create_batch(4)
    east, west = warehouse_factory(code="EAST", priority=1), warehouse_factory(code="WEST", priority=2)
    receive(a, default_of(east), 2)
    receive(a, default_of(west), 1)
    receive(b, default_of(west), 9)
    receive(c, default_of(east), 4)
    allocate((c, 4))  # c: everything reserved
    before = stock_snapshot()

    with pytest.raises(InsufficientStock) as excinfo, transaction.atomic():
        allocate((a, 4), (b, 9), (c, 1), (d, 1))

    assert excinfo.value.code == "insufficient_stock"
    assert excinfo.value.details == {
        "lines": [
            {"variant_id": a.pk, "product_id": a.product_id, "sku": a.sku, "requested": 4, "available": 3},
            {"variant_id": c.pk, "product_id": c.product_id, "sku": c.sku, "requested": 1, "available": 0},
            {"variant_id": d.pk, "product_id": d.product_id, "sku": d.sku, "requested": 1, "available": 0},
        ]
    }
    assert stock_snapshot() == before


def test_stock_allocate_one_reservation_per_request_sharing_the_rows(warehouse_factory, variant_factory, customer):
    variant = variant_factory()
    east, west = warehouse_factory(code="EAST", priority=1), warehouse_factory(code="WEST", priority=2)
    receive(variant, default_of(east), 3)
    receive(variant, default_of(west), 3)

    first, second = stock_allocate(
        requests=[
            HoldRequest(reference="first", lines=[HoldLine(variant, 2)]),
            HoldRequest(reference="second", lines=[HoldLine(variant, 2)]),
        ],
        actor=customer,
    )

    assert taken(first) == {"EAST/DEFAULT": 2}
    assert taken(second) == {"WEST/DEFAULT": 2}  # EAST has 1 left: WEST supplies the whole line
    reserve = StockMovement.objects.filter(kind=MovementKind.RESERVE).order_by("pk")
    assert [(m.reservation_id, m.reference, m.reserved_delta, m.actor_id) for m in reserve] == [
        (first.pk, "first", 2, customer.pk),
        (second.pk, "second", 2, customer.pk),
    ]
    assert_stock_consistent()


def test_stock_allocate_merges_a_reservation_s_units_per_stock_row(warehouse_factory, variant_factory):
    variant = variant_factory()
    receive(variant, default_of(warehouse_factory(code="ONE")), 10)

    reservation = allocate((variant, 2), (variant, 3))

    assert taken(reservation) == {"ONE/DEFAULT": 5}
    assert StockMovement.objects.filter(reservation=reservation).count() == 1
    assert_stock_consistent()


def test_stock_allocate_at_a_named_location_takes_only_from_there(warehouse_factory, location_factory, variant_factory):
    variant = variant_factory()
    first = warehouse_factory(code="FIRST", priority=1)
    second = warehouse_factory(code="SECOND", priority=2)
    bin_ = location_factory(warehouse=second, code="BIN-1")
    receive(variant, default_of(first), 10)
    receive(variant, bin_, 3)

    held = allocate((variant, 2), location_id=bin_.pk)
    before = stock_snapshot()
    with pytest.raises(InsufficientStock) as excinfo, transaction.atomic():
        allocate((variant, 2), location_id=bin_.pk)

    assert taken(held) == {"SECOND/BIN-1": 2}
    assert excinfo.value.details["lines"][0]["available"] == 1
    assert stock_snapshot() == before


def test_stock_allocate_expires_due_holds_on_the_rows_it_needs(warehouse_factory, variant_factory, customer):
    variant, other = variant_factory(), variant_factory()
    location = default_of(warehouse_factory(code="ONE"))
    receive(variant, location, 5)
    receive(other, location, 5)
    past = timezone.now() - timedelta(seconds=1)
    due = allocate((variant, 3), (other, 1), reference="due", expires_at=past)
    later = allocate((variant, 2), reference="later", expires_at=timezone.now() + timedelta(hours=1))

    sold = allocate((variant, 3), actor=customer)

    due.refresh_from_db()
    later.refresh_from_db()
    assert taken(sold) == {"ONE/DEFAULT": 3}
    assert (due.status, later.status) == (ReservationStatus.EXPIRED, ReservationStatus.ALLOCATED)
    assert due.expired_at is not None
    expire = StockMovement.objects.filter(kind=MovementKind.EXPIRE).order_by("pk")
    assert sorted((m.stock.variant_id, m.on_hand_delta, m.reserved_delta, m.reservation_id) for m in expire) == sorted(
        [(variant.pk, 0, -3, due.pk), (other.pk, 0, -1, due.pk)]  # the whole hold ends, every line of it
    )
    assert rows_of(variant) == {"ONE/DEFAULT": (5, 5)}
    assert rows_of(other) == {"ONE/DEFAULT": (5, 0)}
    assert_stock_consistent()


def test_stock_allocate_leaves_due_holds_of_other_variants_alone(warehouse_factory, variant_factory):
    variant, other = variant_factory(), variant_factory()
    location = default_of(warehouse_factory(code="ONE"))
    receive(variant, location, 5)
    receive(other, location, 5)
    due = allocate((other, 1), expires_at=timezone.now() - timedelta(seconds=1))

    allocate((variant, 1))

    due.refresh_from_db()
    assert due.status == ReservationStatus.ALLOCATED  # the command expires it; this sale did not need its row


def test_stock_allocate_is_short_when_only_a_live_hold_could_cover_it(warehouse_factory, variant_factory):
    variant = variant_factory()
    receive(variant, default_of(warehouse_factory(code="ONE")), 4)
    allocate((variant, 4), expires_at=timezone.now() + timedelta(minutes=5))
    before = stock_snapshot()

    with pytest.raises(InsufficientStock), transaction.atomic():
        allocate((variant, 1))

    assert stock_snapshot() == before


@pytest.mark.parametrize("split", [False, True])
def test_stock_allocate_costs_the_same_queries_for_1_10_and_50_lines(warehouse_factory, variant_factory, split):
    east, west = warehouse_factory(code="EAST", priority=1), warehouse_factory(code="WEST", priority=2)
    counts = []
    for size in (1, 10, 50):
        variants = variant_factory.create_batch(size)
        stock_receive(
            warehouse_id=east.pk, lines=[ReceiptLine(v.sku, 2) for v in variants], actor=None, reference="east"
        )
        stock_receive(
            warehouse_id=west.pk, lines=[ReceiptLine(v.sku, 2) for v in variants], actor=None, reference="west"
        )
        with CaptureQueriesContext(connection) as captured:
            reservation = allocate(*((v, 3 if split else 1) for v in variants))
        counts.append(len(captured))
        assert Allocation.objects.filter(reservation=reservation).count() == size * (2 if split else 1)

    assert counts[0] == counts[1] == counts[2], counts
    assert_stock_consistent()


def test_stock_allocate_expiring_holds_costs_the_same_queries_whatever_their_number(warehouse_factory, variant_factory):
    location = default_of(warehouse_factory(code="ONE"))
    past = timezone.now() - timedelta(seconds=1)
    counts = []
    for size in (1, 10, 50):
        variants = variant_factory.create_batch(size)
        stock_receive(warehouse_id=location.warehouse_id, lines=[ReceiptLine(v.sku, 1) for v in variants], actor=None)
        for variant in variants:
            allocate((variant, 1), expires_at=past)
        with CaptureQueriesContext(connection) as captured:
            allocate(*((v, 1) for v in variants))
        counts.append(len(captured))

    assert counts[0] == counts[1] == counts[2], counts
    assert Reservation.objects.filter(status=ReservationStatus.EXPIRED).count() == 61
    assert_stock_consistent()


def test_stock_allocate_nothing_makes_nothing(three_warehouses):
    before = stock_snapshot()

    assert stock_allocate(requests=[], actor=None) == []
    assert stock_snapshot() == before
