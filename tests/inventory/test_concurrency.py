"""Real threads, each on its own PostgreSQL connection, racing for the same stock rows and reservations."""

from collections import Counter
from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from inventory.exceptions import InsufficientStock, ReservationInvalidTransition
from inventory.models import (
    MovementKind,
    Reservation,
    ReservationStatus,
    Stock,
    StockMovement,
)
from inventory.services.reservations import (
    SkuLine,
    reservation_allocate,
    reservation_commit,
    reservation_hold,
    reservation_release,
)
from inventory.services.transfers import stock_transfer
from orders.models import Order
from orders.services.placement import OrderLine, order_place
from tests.commands import command_output
from tests.inventory.helpers import default_of, receive
from tests.stock import assert_stock_consistent, only_variant, rows_of

pytestmark = pytest.mark.django_db(transaction=True)


class RetryLog:
    """Stands in for ``config.db``'s logger: records every deadlock or serialization retry."""

    def __init__(self) -> None:
        self.retries: list[dict] = []

    def warning(self, event: str, **fields) -> None:
        self.retries.append({"event": event, **fields})


@pytest.fixture
def retry_log(monkeypatch) -> RetryLog:
    log = RetryLog()
    monkeypatch.setattr("config.db.logger", log)
    return log


def assert_no_negative_row() -> None:
    assert not Stock.objects.filter(on_hand__lt=0).exists()
    assert not Stock.objects.filter(reserved__lt=0).exists()


def test_last_units_spread_over_two_warehouses_are_allocated_exactly_once(
    warehouse_factory, variant_factory, inventory_manager, in_threads
):
    variant = variant_factory(sku="LAST-1")
    east, west = warehouse_factory(code="EAST", priority=1), warehouse_factory(code="WEST", priority=2)
    receive(variant, default_of(east), 3)
    receive(variant, default_of(west), 2)
    calls = [
        {"lines": [SkuLine("LAST-1", 1)], "reference": f"buyer {i}", "actor": inventory_manager} for i in range(16)
    ]

    outcomes = in_threads(reservation_allocate, calls)

    assert sum(isinstance(o, Reservation) for o in outcomes) == 5
    assert sum(isinstance(o, InsufficientStock) for o in outcomes) == 11
    assert rows_of(variant) == {"EAST/DEFAULT": (3, 3), "WEST/DEFAULT": (2, 2)}
    assert_no_negative_row()
    assert_stock_consistent()


def test_last_units_spread_over_two_warehouses_are_sold_exactly_once_to_orders(
    product_factory, warehouse_factory, user_factory, in_threads
):
    product = product_factory(stock_quantity=3)  # at MAIN/DEFAULT
    variant = only_variant(product)
    receive(variant, default_of(warehouse_factory(code="WEST", priority=200)), 2)
    calls = [{"customer": user_factory(), "lines": [OrderLine(quantity=1, product_id=product.pk)]} for _ in range(14)]

    outcomes = in_threads(order_place, calls)

    failures = [o for o in outcomes if isinstance(o, Exception)]
    assert all(isinstance(f, InsufficientStock) for f in failures), failures
    assert len(failures) == 9
    assert Order.objects.count() == 5
    assert rows_of(variant) == {"MAIN/DEFAULT": (3, 3), "WEST/DEFAULT": (2, 2)}
    assert Reservation.objects.filter(status=ReservationStatus.ALLOCATED, order_id__isnull=False).count() == 5
    assert_no_negative_row()
    assert_stock_consistent()


def _allocate_or_transfer(*, kind: str, actor, **kwargs):
    if kind == "allocate":
        return reservation_allocate(actor=actor, **kwargs)
    return stock_transfer(actor=actor, **kwargs)


def test_transfers_racing_allocations_on_the_same_rows_never_lose_or_oversell_a_unit(
    warehouse_factory, location_factory, variant_factory, inventory_manager, in_threads
):
    variant = variant_factory(sku="RACE-1")
    one, two = warehouse_factory(code="ONE"), warehouse_factory(code="TWO")
    dock, shelf, far = default_of(one), location_factory(warehouse=one, code="A-01"), default_of(two)
    receive(variant, dock, 30)
    receive(variant, shelf, 1)
    receive(variant, far, 1)
    moves = [(dock, shelf), (shelf, far), (far, dock), (dock, far), (shelf, dock)]
    calls = [
        {"kind": "allocate", "actor": inventory_manager, "lines": [SkuLine("RACE-1", 2)], "reference": f"a{i}"}
        for i in range(16)
    ] + [
        {
            "kind": "transfer",
            "actor": inventory_manager,
            "sku": "RACE-1",
            "from_location_id": source.pk,
            "to_location_id": destination.pk,
            "quantity": 1,
        }
        for source, destination in moves * 2
    ]

    outcomes = in_threads(_allocate_or_transfer, calls)

    allocations = [o for call, o in zip(calls, outcomes, strict=True) if call["kind"] == "allocate"]
    transfers = [o for call, o in zip(calls, outcomes, strict=True) if call["kind"] == "transfer"]
    # Transfers never change the total, so 32 units always cover the 16 allocations of 2.
    assert all(isinstance(o, Reservation) for o in allocations), allocations
    assert all(isinstance(o, list | InsufficientStock) for o in transfers), transfers
    moved = sum(isinstance(o, list) for o in transfers)
    assert StockMovement.objects.filter(kind=MovementKind.TRANSFER_OUT).count() == moved
    totals = Stock.objects.filter(variant=variant).aggregate(on_hand=Sum("on_hand"), reserved=Sum("reserved"))
    assert totals == {"on_hand": 32, "reserved": 32}
    assert_no_negative_row()
    assert_stock_consistent()


def test_transfers_never_move_units_an_allocation_took(
    warehouse_factory, variant_factory, inventory_manager, in_threads
):
    variant = variant_factory(sku="RACE-2")
    one, two = warehouse_factory(code="ONE", priority=1), warehouse_factory(code="TWO", priority=2)
    receive(variant, default_of(one), 10)
    calls = [
        {"kind": "allocate", "actor": inventory_manager, "lines": [SkuLine("RACE-2", 1)], "reference": f"a{i}"}
        for i in range(10)
    ] + [
        {
            "kind": "transfer",
            "actor": inventory_manager,
            "sku": "RACE-2",
            "from_location_id": default_of(one).pk,
            "to_location_id": default_of(two).pk,
            "quantity": 1,
        }
        for _ in range(10)
    ]

    outcomes = in_threads(_allocate_or_transfer, calls)

    failures = [o for o in outcomes if isinstance(o, Exception)]
    assert all(isinstance(f, InsufficientStock) for f in failures), failures
    allocated = sum(isinstance(o, Reservation) for o in outcomes)
    moved = sum(isinstance(o, list) for o in outcomes)
    # every allocation succeeds: transfers moved units to TWO, where allocation finds them too
    assert allocated == 10
    assert moved <= 10
    rows = rows_of(variant)
    assert rows["ONE/DEFAULT"] == (10 - moved, 10 - moved)
    assert rows.get("TWO/DEFAULT", (0, 0)) == (moved, moved)  # the row exists once a transfer succeeded
    assert_no_negative_row()
    assert_stock_consistent()


def test_allocations_in_opposite_sku_order_never_deadlock(
    warehouse_factory, variant_factory, inventory_manager, in_threads, retry_log
):
    a, b = variant_factory(sku="OPP-A"), variant_factory(sku="OPP-B")
    east, west = warehouse_factory(code="EAST", priority=1), warehouse_factory(code="WEST", priority=2)
    for variant in (a, b):
        receive(variant, default_of(east), 15)
        receive(variant, default_of(west), 15)
    calls = [
        {
            "lines": [SkuLine("OPP-A", 1), SkuLine("OPP-B", 1)]
            if i % 2
            else [SkuLine("OPP-B", 1), SkuLine("OPP-A", 1)],
            "reference": f"r{i}",
            "actor": inventory_manager,
        }
        for i in range(24)
    ]

    outcomes = in_threads(reservation_allocate, calls)

    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert retry_log.retries == []  # not even a deadlock that a retry hid
    for variant in (a, b):
        assert rows_of(variant) == {"EAST/DEFAULT": (15, 15), "WEST/DEFAULT": (15, 9)}
    assert_stock_consistent()


def test_orders_in_opposite_line_order_never_deadlock(product_factory, user_factory, in_threads, retry_log):
    a, b = product_factory(stock_quantity=40), product_factory(stock_quantity=40)
    calls = [
        {
            "customer": user_factory(),
            "lines": [OrderLine(quantity=1, product_id=p.pk) for p in ((a, b) if i % 2 else (b, a))],
        }
        for i in range(20)
    ]

    outcomes = in_threads(order_place, calls)

    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert retry_log.retries == []
    for product in (a, b):
        assert rows_of(only_variant(product)) == {"MAIN/DEFAULT": (40, 20)}
    assert_stock_consistent()


def _end(*, client, path):
    return client.post(path)


def test_release_and_commit_of_one_reservation_racing_each_other_end_it_once(
    warehouse_factory, variant_factory, admin_user, client_for, in_threads
):
    variant = variant_factory(sku="END-1")
    location = default_of(warehouse_factory(code="ONE"))
    receive(variant, location, 100)
    held = [
        reservation_hold(sku="END-1", quantity=3, location_id=location.pk, reference=f"h{i}", actor=admin_user)
        for i in range(6)
    ]
    calls = [
        {"client": client_for(admin_user), "path": f"/stock/reservations/{reservation.pk}/{action}"}
        for reservation in held
        for action in ("release", "commit")
    ]

    responses = in_threads(_end, calls)

    for index, reservation in enumerate(held):
        release, commit = responses[2 * index], responses[2 * index + 1]
        assert sorted([release.status_code, commit.status_code]) == [200, 409]
        winner, loser = (release, commit) if release.status_code == 200 else (commit, release)
        error = loser.json()["error"]
        assert error["code"] == "invalid_transition"
        assert error["details"]["status"] == winner.json()["status"]
        assert Reservation.objects.get(pk=reservation.pk).status == winner.json()["status"]
        assert StockMovement.objects.filter(reservation=reservation).count() == 2  # RESERVE, then RELEASE or COMMIT
    committed = Reservation.objects.filter(status=ReservationStatus.COMMITTED).count()
    assert rows_of(variant) == {"ONE/DEFAULT": (100 - 3 * committed, 0)}
    assert_stock_consistent()


def test_release_and_commit_services_racing_each_other(
    warehouse_factory, variant_factory, inventory_manager, in_threads
):
    variant = variant_factory(sku="END-2")
    location = default_of(warehouse_factory(code="ONE"))
    receive(variant, location, 10)
    held = reservation_hold(sku="END-2", quantity=4, location_id=location.pk, reference="h", actor=inventory_manager)

    def end(*, action):
        return action(reservation_id=held.pk, actor=inventory_manager)

    outcomes = in_threads(end, [{"action": reservation_release}, {"action": reservation_commit}] * 3)

    assert sum(isinstance(o, Reservation) for o in outcomes) == 1
    assert sum(isinstance(o, ReservationInvalidTransition) for o in outcomes) == 5
    assert_stock_consistent()


def _expire(**_):
    return int(command_output("release_expired_reservations", "--batch-size", "4").split()[1])


def test_concurrent_runs_of_the_expiry_command_expire_each_hold_once(
    warehouse_factory, variant_factory, inventory_manager, in_threads
):
    variants = [variant_factory(sku=f"EXP-{i}") for i in range(3)]
    location = default_of(warehouse_factory(code="ONE"))
    for variant in variants:
        receive(variant, location, 50)
    held = [
        reservation_allocate(
            lines=[SkuLine(v.sku, 1) for v in variants[i % 3 :]],
            reference=f"h{i}",
            actor=inventory_manager,
            ttl_seconds=60,
        )
        for i in range(30)
    ]
    Reservation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    counts = in_threads(_expire, [{} for _ in range(6)])

    assert sum(counts) == 30, counts
    assert set(Reservation.objects.values_list("status", flat=True)) == {ReservationStatus.EXPIRED}
    expired = Counter(StockMovement.objects.filter(kind=MovementKind.EXPIRE).values_list("reservation_id", flat=True))
    assert expired == {r.pk: 3 - i % 3 for i, r in enumerate(held)}  # one EXPIRE per allocation row, never two
    assert {v.sku: rows_of(v) for v in variants} == {v.sku: {"ONE/DEFAULT": (50, 0)} for v in variants}
    assert_stock_consistent()


def _buy_or_expire(*, kind: str, actor=None):
    if kind == "expire":
        return _expire()
    return reservation_allocate(lines=[SkuLine("DUE-1", 1)], reference="buyer", actor=actor)


def test_an_expiring_hold_never_blocks_a_sale_even_while_the_command_runs(
    warehouse_factory, variant_factory, inventory_manager, in_threads
):
    variant = variant_factory(sku="DUE-1")
    location = default_of(warehouse_factory(code="ONE"))
    receive(variant, location, 6)
    hold = reservation_hold(
        sku="DUE-1", quantity=6, location_id=location.pk, reference="hold", actor=inventory_manager, ttl_seconds=60
    )
    Reservation.objects.filter(pk=hold.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    calls = [{"kind": "buy", "actor": inventory_manager} for _ in range(6)] + [{"kind": "expire"}] * 2

    outcomes = in_threads(_buy_or_expire, calls)

    assert [o for o in outcomes if isinstance(o, Exception)] == []
    assert sum(isinstance(o, Reservation) for o in outcomes) == 6
    assert Reservation.objects.get(pk=hold.pk).status == ReservationStatus.EXPIRED
    assert StockMovement.objects.filter(kind=MovementKind.EXPIRE, reservation=hold).count() == 1
    assert rows_of(variant) == {"ONE/DEFAULT": (6, 6)}
    assert_stock_consistent()
