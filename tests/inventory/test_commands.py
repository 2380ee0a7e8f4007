"""``check_stock`` and ``release_expired_reservations``."""

from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from inventory.models import (
    DEFAULT_LOCATION_CODE,
    Allocation,
    Location,
    MovementKind,
    Reservation,
    ReservationStatus,
    Stock,
    StockMovement,
)
from inventory.services.receipts import ReceiptLine, stock_receive
from inventory.services.reservations import SkuLine, reservation_allocate, reservation_hold
from tests.commands import command_failure, command_output
from tests.stock import rows_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def stocked(warehouse_factory, location_factory, variant_factory, inventory_manager):
    """Two SKUs in two warehouses, with a hold and an allocation on them."""
    one, two = warehouse_factory(code="ONE"), warehouse_factory(code="TWO")
    shelf = location_factory(warehouse=one, code="A-01")
    good, bad = variant_factory(sku="GOOD-1"), variant_factory(sku="BAD-1")
    stock_receive(
        warehouse_id=one.pk,
        lines=[ReceiptLine("GOOD-1", 10), ReceiptLine("BAD-1", 10, shelf.pk)],
        actor=None,
    )
    stock_receive(warehouse_id=two.pk, lines=[ReceiptLine("GOOD-1", 5), ReceiptLine("BAD-1", 5)], actor=None)
    reservation_hold(sku="BAD-1", quantity=3, location_id=shelf.pk, reference="hold", actor=inventory_manager)
    reservation_allocate(lines=[SkuLine("GOOD-1", 4)], reference="alloc", actor=inventory_manager)
    return {"good": good, "bad": bad, "shelf": shelf}


def test_check_stock_passes_on_consistent_stock(stocked):
    assert "consistent" in command_output("check_stock")


@pytest.mark.stock_books_unchecked
def test_check_stock_fails_on_a_row_changed_behind_the_ledger(stocked):
    Stock.objects.filter(variant=stocked["bad"], location=stocked["shelf"]).update(on_hand=F("on_hand") + 2)

    out, error = command_failure("check_stock")

    assert "LEDGER MISMATCH BAD-1 at ONE/A-01" in out
    assert "on hand 12 vs ledger 10, reserved 3 vs ledger 3" in out
    assert "GOOD-1" not in out
    assert error == "1 stock row(s) disagree with the ledger or the reservations"


@pytest.mark.stock_books_unchecked
def test_check_stock_fails_when_reserved_units_differ_from_the_reservations(stocked):
    Reservation.objects.filter(reference="hold").update(status=ReservationStatus.RELEASED)  # no RELEASE booked

    out, error = command_failure("check_stock")

    assert "RESERVATION MISMATCH BAD-1 at ONE/A-01" in out
    assert "reserved 3 vs held 0" in out
    assert "LEDGER MISMATCH" not in out
    assert error == "1 stock row(s) disagree with the ledger or the reservations"


@pytest.mark.stock_books_unchecked
def test_check_stock_counts_every_drifted_row(stocked):
    Stock.objects.update(reserved=F("reserved") + 1)  # every row: off its ledger and off its reservations

    out, error = command_failure("check_stock")

    rows = Stock.objects.count()
    assert out.count("LEDGER MISMATCH") == rows
    assert out.count("RESERVATION MISMATCH") == rows
    assert error.startswith(f"{2 * rows} stock row(s)")


def test_release_expired_reservations_expires_only_the_due_holds(stocked, inventory_manager):
    location = Location.objects.get(warehouse__code="TWO", code=DEFAULT_LOCATION_CODE)
    due = [
        reservation_hold(
            sku="GOOD-1",
            quantity=1,
            location_id=location.pk,
            reference=f"due-{i}",
            actor=inventory_manager,
            ttl_seconds=60,
        )
        for i in range(3)
    ]
    later = reservation_hold(
        sku="GOOD-1", quantity=1, location_id=location.pk, reference="later", actor=inventory_manager, ttl_seconds=600
    )
    Reservation.objects.filter(pk__in=[r.pk for r in due]).update(expires_at=timezone.now() - timedelta(seconds=1))

    first = command_output("release_expired_reservations", "--batch-size", "2")
    second = command_output("release_expired_reservations")

    assert first == "expired 3 reservation(s)\n"
    assert second == "expired 0 reservation(s)\n"
    statuses = dict(Reservation.objects.values_list("reference", "status"))
    assert [statuses[f"due-{i}"] for i in range(3)] == [ReservationStatus.EXPIRED] * 3
    assert (statuses["later"], statuses["hold"], statuses["alloc"]) == (ReservationStatus.ALLOCATED,) * 3
    assert sorted(
        StockMovement.objects.filter(kind=MovementKind.EXPIRE).values_list("reservation_id", "reserved_delta")
    ) == [(r.pk, -1) for r in due]
    assert Allocation.objects.filter(reservation=later).get().quantity == 1
    assert rows_of(stocked["good"])["TWO/DEFAULT"] == (5, 1)
    assert "consistent" in command_output("check_stock")


def test_release_expired_reservations_refuses_an_empty_batch(stocked):
    out, error = command_failure("release_expired_reservations", "--batch-size", "0")

    assert (out, error) == ("", "--batch-size must be at least 1")
