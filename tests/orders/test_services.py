import uuid
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from structlog.testing import capture_logs

from catalog.exceptions import ProductsUnavailable, VariantRequired
from catalog.services.products import product_archive, product_publish, product_update
from catalog.services.variants import variant_update
from inventory.exceptions import InsufficientStock
from inventory.models import Allocation, MovementKind, Reservation, ReservationStatus, StockMovement
from inventory.services.locations import default_location
from inventory.services.receipts import ReceiptLine, stock_receipt_create
from orders.exceptions import (
    EmptyOrder,
    IdempotencyKeyReused,
    InvalidTransition,
    OrderNotFound,
    PaymentDeclined,
    TransitionForbidden,
)
from orders.models import Order, OrderItem, OrderStatus, Payment, PaymentStatus, Shipment
from orders.services import placement as orders_services
from orders.services.placement import OrderLine, order_place
from orders.services.workflow import order_cancel, order_pay, order_ship
from tests.stock import assert_stock_consistent, only_variant, rows_of, stock_of

pytestmark = pytest.mark.django_db(transaction=True)


def by_product(product, quantity: int) -> OrderLine:
    return OrderLine(quantity=quantity, product_id=product.pk)


def by_product_id(product_id: int) -> OrderLine:
    return OrderLine(quantity=1, product_id=product_id)


def receive(actor, *lines) -> None:
    """Receive ``(variant, location, quantity)`` lines, one receipt per warehouse."""
    receipts: dict[int, list[ReceiptLine]] = {}
    for variant, location, quantity in lines:
        receipts.setdefault(location.warehouse_id, []).append(ReceiptLine(variant.sku, quantity, location.pk))
    for warehouse_id, receipt in receipts.items():
        stock_receipt_create(warehouse_id=warehouse_id, lines=receipt, actor=actor, reference="test receipt")


def nothing_written(ledger_before: int) -> None:
    assert not Order.objects.exists()
    assert not OrderItem.objects.exists()
    assert not Reservation.objects.exists()
    assert StockMovement.objects.count() == ledger_before


def allocations_of(item: OrderItem) -> dict[str, int]:
    """``{"WAREHOUSE/LOCATION": units}`` the item's reservation holds."""
    rows = Allocation.objects.filter(reservation_id=item.reservation_id).select_related("stock__location__warehouse")
    return {f"{a.stock.location.warehouse.code}/{a.stock.location.code}": a.quantity for a in rows}


@pytest.fixture
def widgets(product_factory):
    return product_factory(price=Decimal("150.00"), stock_quantity=500), product_factory(
        price=Decimal("9.99"), stock_quantity=10
    )


@pytest.fixture
def shirt(draft_product_factory, variant_factory, admin_user):
    """A PUBLISHED product with two variants: ``SHIRT-S`` (named "Small") and ``SHIRT-M`` (no name), 20 units each."""
    product = draft_product_factory(name="Shirt")
    small = variant_factory(product=product, sku="SHIRT-S", name="Small", price=Decimal("20.00"))
    medium = variant_factory(product=product, sku="SHIRT-M", price=Decimal("22.00"))
    product = product_publish(product_id=product.pk, actor=None)
    receive(admin_user, (small, default_location(), 20), (medium, default_location(), 20))
    small.refresh_from_db()
    medium.refresh_from_db()
    return product, small, medium


# --- placement


def test_order_place_reserves_stock_and_snapshots_prices(widgets, customer, settings):
    settings.SHIPPING_FLAT_RATE = Decimal("12.50")
    a, b = widgets

    placement = order_place(customer=customer, lines=[by_product(a, 5), by_product(b, 1), by_product(a, 1)])

    order = placement.order
    assert placement.replayed is False
    assert (order.status, order.user) == (OrderStatus.PENDING, customer)
    assert (order.subtotal, order.shipping_amount, order.total_amount) == (
        Decimal("909.99"),
        Decimal("12.50"),
        Decimal("922.49"),
    )
    items = list(OrderItem.objects.filter(order=order).order_by("product_id"))
    va, vb = only_variant(a), only_variant(b)
    assert [
        (i.product_id, i.variant_id, i.quantity, i.unit_price_at_purchase, i.line_total, i.sku, i.product_name)
        for i in items
    ] == [
        (a.pk, va.pk, 6, Decimal("150.00"), Decimal("900.00"), va.sku, a.name),
        (b.pk, vb.pk, 1, Decimal("9.99"), Decimal("9.99"), vb.sku, b.name),
    ]
    assert stock_of(a) == (494, 6)
    assert stock_of(b) == (9, 1)
    assert set(StockMovement.objects.filter(order_id=order.pk).values_list("kind", flat=True)) == {MovementKind.RESERVE}
    assert_stock_consistent()


def test_order_place_names_lines_by_product_variant_or_sku(widgets, shirt, customer):
    a, _ = widgets
    product, small, medium = shirt

    order = order_place(
        customer=customer,
        lines=[
            OrderLine(quantity=2, variant_id=small.pk),
            OrderLine(quantity=3, sku=" shirt-m "),
            by_product(a, 1),
        ],
    ).order

    items = OrderItem.objects.filter(order=order).order_by("variant_id")
    assert [
        (i.product_id, i.variant_id, i.product_name, i.variant_name, i.sku, i.quantity, i.unit_price_at_purchase)
        for i in items
    ] == [
        (a.pk, only_variant(a).pk, a.name, "", only_variant(a).sku, 1, Decimal("150.00")),
        (product.pk, small.pk, "Shirt", "Small", "SHIRT-S", 2, Decimal("20.00")),
        (product.pk, medium.pk, "Shirt", "", "SHIRT-M", 3, Decimal("22.00")),
    ]
    assert order.subtotal == Decimal("256.00")
    assert (rows_of(small), rows_of(medium)) == ({"MAIN/DEFAULT": (20, 2)}, {"MAIN/DEFAULT": (20, 3)})


def test_order_place_merges_one_variant_named_by_every_key(widgets, customer):
    a, _ = widgets
    variant = only_variant(a)

    order = order_place(
        customer=customer,
        lines=[by_product(a, 2), OrderLine(quantity=3, sku=variant.sku.lower()), OrderLine(1, variant_id=variant.pk)],
    ).order

    (item,) = OrderItem.objects.filter(order=order)
    assert (item.variant_id, item.quantity, item.line_total) == (variant.pk, 6, Decimal("900.00"))
    assert Reservation.objects.filter(order_id=order.pk).count() == 1
    assert list(StockMovement.objects.filter(order_id=order.pk).values_list("kind", "reserved_delta")) == [
        (MovementKind.RESERVE, 6)
    ]
    assert stock_of(a) == (494, 6)


def test_order_place_refuses_a_product_with_several_variants_by_product_id(widgets, shirt, customer):
    a, _ = widgets
    product, small, _ = shirt
    ledger_before = StockMovement.objects.count()

    with pytest.raises(VariantRequired) as excinfo:
        order_place(
            customer=customer, lines=[by_product(a, 1), by_product(product, 1), OrderLine(1, variant_id=small.pk)]
        )

    assert excinfo.value.code == "variant_required"
    assert excinfo.value.details == {"product_ids": [product.pk]}
    nothing_written(ledger_before)
    assert stock_of(a) == (500, 0)
    assert stock_of(product) == (40, 0)


@pytest.mark.parametrize(
    "line",
    [
        OrderLine(quantity=1),
        OrderLine(quantity=1, product_id=1, sku="SHIRT-S"),
        OrderLine(quantity=1, variant_id=1, sku="SHIRT-S"),
        OrderLine(quantity=1, product_id=1, variant_id=1),
    ],
    ids=["none", "product-and-sku", "variant-and-sku", "product-and-variant"],
)
def test_order_place_refuses_a_line_naming_two_keys_or_none(shirt, customer, line):
    ledger_before = StockMovement.objects.count()

    with pytest.raises(ValidationError) as excinfo:
        order_place(customer=customer, lines=[OrderLine(quantity=1, sku="SHIRT-M"), line])

    assert excinfo.value.message_dict == {"items": ["Name each item by exactly one of product_id, variant_id or sku."]}
    nothing_written(ledger_before)


def test_order_place_refuses_draft_archived_and_inactive_variants_naming_every_bad_line(
    widgets, shirt, product_factory, variant_factory, customer
):
    a, _ = widgets
    _, small, medium = shirt
    draft_variant = variant_factory(sku="DRAFT-1")  # its product is a DRAFT
    archived = product_archive(product_id=product_factory().pk)
    variant_update(variant_id=medium.pk, changes={"is_active": False}, actor=None)
    ledger_before = StockMovement.objects.count()

    with pytest.raises(ProductsUnavailable) as excinfo:
        order_place(
            customer=customer,
            lines=[
                by_product(a, 1),
                OrderLine(1, variant_id=draft_variant.pk),
                by_product(archived, 1),
                OrderLine(1, sku="shirt-m"),
                OrderLine(1, sku="NO-SUCH-SKU"),
                OrderLine(1, variant_id=small.pk),
            ],
        )

    assert excinfo.value.code == "products_unavailable"
    assert excinfo.value.details == {
        "product_ids": [archived.pk],
        "variant_ids": [draft_variant.pk],
        "skus": ["NO-SUCH-SKU", "SHIRT-M"],
    }
    nothing_written(ledger_before)
    assert (stock_of(a), rows_of(small)) == ((500, 0), {"MAIN/DEFAULT": (20, 0)})


def test_order_place_with_one_short_line_changes_nothing(widgets, customer):
    a, b = widgets
    ledger_before = StockMovement.objects.count()

    with pytest.raises(InsufficientStock) as excinfo:
        order_place(customer=customer, lines=[by_product(a, 5), by_product(b, 11)])

    vb = only_variant(b)
    assert excinfo.value.details["lines"] == [
        {"variant_id": vb.pk, "product_id": b.pk, "sku": vb.sku, "requested": 11, "available": 10}
    ]
    assert stock_of(a) == (500, 0)
    assert stock_of(b) == (10, 0)
    nothing_written(ledger_before)


@pytest.mark.parametrize(
    ("lines", "error"), [([], EmptyOrder), ([OrderLine(quantity=0, product_id=1)], ValidationError)]
)
def test_order_place_rejects_empty_and_non_positive_lines(customer, lines, error):
    with pytest.raises(error):
        order_place(customer=customer, lines=lines)

    assert not Order.objects.exists()


def test_order_place_rejects_unknown_and_inactive_products(product_factory, customer):
    active, inactive = product_factory(), product_factory(is_active=False)

    with pytest.raises(ProductsUnavailable) as excinfo:
        order_place(customer=customer, lines=[by_product(active, 1), by_product(inactive, 1), by_product_id(10**9)])

    assert excinfo.value.details == {"product_ids": [inactive.pk, 10**9]}
    assert stock_of(active) == (100, 0)
    assert not Order.objects.exists()


def test_order_place_holds_one_allocated_reservation_per_line(widgets, shirt, customer):
    a, _ = widgets
    _, small, _ = shirt

    order = order_place(customer=customer, lines=[by_product(a, 4), OrderLine(2, variant_id=small.pk)]).order

    items = list(OrderItem.objects.filter(order=order).select_related("reservation").order_by("variant_id"))
    assert [
        (i.reservation.status, i.reservation.order_id, i.reservation.expires_at, i.reservation.actor_id) for i in items
    ] == [(ReservationStatus.ALLOCATED, order.pk, None, customer.pk)] * 2
    assert [i.reservation.reference for i in items] == [f"order:{order.pk}:{i.sku}" for i in items]
    assert [allocations_of(i) for i in items] == [{"MAIN/DEFAULT": 4}, {"MAIN/DEFAULT": 2}]
    movements = StockMovement.objects.filter(order_id=order.pk).order_by("reservation_id")
    assert [(m.kind, m.reservation_id, m.reserved_delta, m.on_hand_delta) for m in movements] == [
        (MovementKind.RESERVE, items[0].reservation_id, 4, 0),
        (MovementKind.RESERVE, items[1].reservation_id, 2, 0),
    ]


def test_order_place_allocates_by_warehouse_priority(product_factory, warehouse_factory, location_factory, customer):
    product = product_factory(stock_quantity=10)  # MAIN/DEFAULT, priority 100
    variant = only_variant(product)
    north, south = warehouse_factory(code="NORTH", priority=10), warehouse_factory(code="SOUTH", priority=50)
    a01, a02 = location_factory(warehouse=north, code="A-01"), location_factory(warehouse=north, code="A-02")
    receive(None, (variant, a01, 1), (variant, a02, 2), (variant, south.locations.get(code="DEFAULT"), 5))

    whole = order_place(customer=customer, lines=[by_product(product, 2)]).order
    split = order_place(customer=customer, lines=[by_product(product, 12)]).order

    # 2 units: the first warehouse by priority that has them all (NORTH), its fullest location first.
    assert allocations_of(whole.items.get()) == {"NORTH/A-02": 2}
    # 12 units: no warehouse has them all, so each gives what it has in priority order: NORTH, SOUTH, then MAIN.
    assert allocations_of(split.items.get()) == {"NORTH/A-01": 1, "SOUTH/DEFAULT": 5, "MAIN/DEFAULT": 6}
    assert rows_of(variant) == {
        "MAIN/DEFAULT": (10, 6),
        "NORTH/A-01": (1, 1),
        "NORTH/A-02": (2, 2),
        "SOUTH/DEFAULT": (5, 5),
    }
    assert stock_of(product) == (4, 14)
    assert_stock_consistent()


def test_order_place_emails_only_after_commit(widgets, customer):
    a, _ = widgets

    with capture_logs() as logs:
        order = order_place(customer=customer, lines=[by_product(a, 1)]).order
        with pytest.raises(InsufficientStock):
            order_place(customer=customer, lines=[by_product(a, 10_000)])

    emails = [line for line in logs if line["event"] == "email_sent"]
    assert emails == [
        {
            "event": "email_sent",
            "to": customer.email,
            "template": "order_confirmation",
            "order_id": str(order.pk),
            "log_level": "info",
        }
    ]


# --- Idempotency-Key


def test_order_place_idempotency_key_replays_without_moving_stock(widgets, customer):
    a, b = widgets
    first = order_place(customer=customer, lines=[by_product(a, 2), by_product(b, 1)], idempotency_key="k-1")

    again = order_place(
        customer=customer, lines=[by_product(b, 1), by_product(a, 1), by_product(a, 1)], idempotency_key="k-1"
    )

    assert again.replayed is True
    assert again.order.pk == first.order.pk
    assert stock_of(a) == (498, 2)
    assert Order.objects.count() == 1


def test_order_place_idempotency_key_replays_the_same_variant_named_another_way(widgets, customer):
    a, _ = widgets
    first = order_place(customer=customer, lines=[by_product(a, 2)], idempotency_key="k-1")

    again = order_place(customer=customer, lines=[OrderLine(2, sku=only_variant(a).sku.lower())], idempotency_key="k-1")

    assert (again.replayed, again.order.pk) == (True, first.order.pk)
    assert stock_of(a) == (498, 2)


def test_order_place_idempotency_key_replays_after_the_product_left_sale(widgets, customer):
    a, _ = widgets
    first = order_place(customer=customer, lines=[by_product(a, 2)], idempotency_key="k-1")
    product_archive(product_id=a.pk)
    ledger_before = StockMovement.objects.count()

    again = order_place(customer=customer, lines=[by_product(a, 2)], idempotency_key="k-1")

    assert (again.replayed, again.order.pk) == (True, first.order.pk)
    assert StockMovement.objects.count() == ledger_before
    with pytest.raises(ProductsUnavailable):  # a new key is a new order: the archived product is not for sale
        order_place(customer=customer, lines=[by_product(a, 2)], idempotency_key="k-2")


def test_order_place_replays_when_its_lookup_missed_an_order_committed_meanwhile(widgets, customer, monkeypatch):
    """The key lookup's snapshot can predate the commit of the first request: the unique key refuses the second
    order and the placement runs again, replaying the first instead of failing."""
    a, _ = widgets
    first = order_place(customer=customer, lines=[by_product(a, 2)], idempotency_key="k-1").order
    ledger_before = StockMovement.objects.count()
    real_lookup = orders_services._idempotent_replay
    lookups = []

    def stale_then_real(**kwargs):
        lookups.append(kwargs["key"])
        return None if len(lookups) == 1 else real_lookup(**kwargs)

    monkeypatch.setattr(orders_services, "_idempotent_replay", stale_then_real)

    again = order_place(customer=customer, lines=[by_product(a, 2)], idempotency_key="k-1")

    assert (again.replayed, again.order.pk, lookups) == (True, first.pk, ["k-1", "k-1"])
    assert Order.objects.count() == 1
    assert StockMovement.objects.count() == ledger_before
    assert stock_of(a) == (498, 2)
    assert_stock_consistent()


def test_order_place_idempotency_key_with_another_body_is_refused(widgets, customer):
    a, _ = widgets
    order_place(customer=customer, lines=[by_product(a, 2)], idempotency_key="k-1")

    with pytest.raises(IdempotencyKeyReused):
        order_place(customer=customer, lines=[by_product(a, 3)], idempotency_key="k-1")

    assert stock_of(a) == (498, 2)


def test_order_place_idempotency_keys_are_scoped_per_customer(widgets, customer, user_factory):
    a, _ = widgets
    mine = order_place(customer=customer, lines=[by_product(a, 1)], idempotency_key="same").order

    theirs = order_place(customer=user_factory(), lines=[by_product(a, 1)], idempotency_key="same")

    assert theirs.replayed is False
    assert theirs.order.pk != mine.pk
    assert stock_of(a) == (498, 2)


# --- pay


def test_order_pay_marks_paid_and_records_the_payment(widgets, customer, place_order):
    order = place_order(customer, [(widgets[0], 1)])

    with capture_logs() as logs:
        paid = order_pay(order_id=order.pk, actor=customer)

    assert paid.status == OrderStatus.PAID
    assert paid.paid_at is not None
    (payment,) = Payment.objects.filter(order=order)
    assert (payment.status, payment.amount) == (PaymentStatus.SUCCEEDED, Decimal("150.00"))
    assert payment.provider_reference.startswith("mock_")
    assert [line["template"] for line in logs if line["event"] == "email_sent"] == ["payment_receipt"]


def test_order_pay_keeps_the_reservations_allocated(widgets, customer, place_order):
    a, b = widgets
    order = place_order(customer, [(a, 3), (b, 2)])
    ledger_before = StockMovement.objects.count()

    order_pay(order_id=order.pk, actor=customer)

    assert set(Reservation.objects.filter(order_id=order.pk).values_list("status", flat=True)) == {
        ReservationStatus.ALLOCATED
    }
    assert StockMovement.objects.count() == ledger_before
    assert (stock_of(a), stock_of(b)) == ((497, 3), (8, 2))


def test_order_pay_by_an_admin(widgets, customer, admin_user, place_order):
    order = place_order(customer, [(widgets[0], 1)])

    assert order_pay(order_id=order.pk, actor=admin_user).status == OrderStatus.PAID


@pytest.mark.parametrize("who", ["other_customer", "inventory_manager"])
def test_order_pay_refuses_others(widgets, customer, user_factory, inventory_manager, place_order, who):
    order = place_order(customer, [(widgets[0], 1)])
    actor = inventory_manager if who == "inventory_manager" else user_factory()

    with pytest.raises(TransitionForbidden):
        order_pay(order_id=order.pk, actor=actor)

    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING


def test_order_pay_declined_records_failure_and_keeps_pending(widgets, customer, place_order, settings):
    settings.MOCK_PAYMENT_FAIL = True
    order = place_order(customer, [(widgets[0], 1)])

    with pytest.raises(PaymentDeclined) as excinfo:
        order_pay(order_id=order.pk, actor=customer)

    assert excinfo.value.details["order_id"] == str(order.pk)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING
    assert list(Payment.objects.filter(order=order).values_list("status", flat=True)) == [PaymentStatus.FAILED]
    settings.MOCK_PAYMENT_FAIL = False
    assert order_pay(order_id=order.pk, actor=customer).status == OrderStatus.PAID


# --- ship


def test_order_ship_commits_reserved_stock_and_records_the_shipment(widgets, customer, inventory_manager, place_order):
    a, b = widgets
    order = place_order(customer, [(a, 3), (b, 2)])
    order_pay(order_id=order.pk, actor=customer)

    shipped = order_ship(order_id=order.pk, actor=inventory_manager)

    assert shipped.status == OrderStatus.SHIPPED
    assert stock_of(a) == (497, 0)
    assert stock_of(b) == (8, 0)
    assert rows_of(only_variant(a)) == {"MAIN/DEFAULT": (497, 0)}
    assert rows_of(only_variant(b)) == {"MAIN/DEFAULT": (8, 0)}
    shipment = Shipment.objects.get(order=order)
    assert (shipment.carrier, shipment.cost) == ("flat-rate", order.shipping_amount)
    assert shipment.tracking_number.startswith("FR")
    items = {item.product_id: item.reservation_id for item in order.items.all()}
    assert sorted(
        StockMovement.objects.filter(order_id=order.pk, kind=MovementKind.COMMIT).values_list(
            "stock__variant__product_id", "reservation_id", "on_hand_delta", "reserved_delta", "actor_id"
        )
    ) == sorted([(a.pk, items[a.pk], -3, -3, inventory_manager.pk), (b.pk, items[b.pk], -2, -2, inventory_manager.pk)])
    reservations = Reservation.objects.filter(order_id=order.pk)
    assert {(r.status, r.committed_at is not None) for r in reservations} == {(ReservationStatus.COMMITTED, True)}
    assert_stock_consistent()


def test_order_ship_commits_a_reservation_split_over_warehouses(
    product_factory, warehouse_factory, customer, admin_user, place_order
):
    product = product_factory(stock_quantity=4)
    variant = only_variant(product)
    north = warehouse_factory(code="NORTH", priority=10)
    receive(None, (variant, north.locations.get(code="DEFAULT"), 3))
    order = place_order(customer, [(product, 6)])
    order_pay(order_id=order.pk, actor=customer)

    order_ship(order_id=order.pk, actor=admin_user)

    assert rows_of(variant) == {"NORTH/DEFAULT": (0, 0), "MAIN/DEFAULT": (1, 0)}
    assert sorted(
        StockMovement.objects.filter(order_id=order.pk, kind=MovementKind.COMMIT).values_list(
            "stock__location__warehouse__code", "on_hand_delta", "reserved_delta"
        )
    ) == [("MAIN", -3, -3), ("NORTH", -3, -3)]
    assert_stock_consistent()


def test_order_ship_is_staff_only(widgets, customer, place_order):
    order = place_order(customer, [(widgets[0], 1)])
    order_pay(order_id=order.pk, actor=customer)

    with pytest.raises(TransitionForbidden):
        order_ship(order_id=order.pk, actor=customer)

    assert Reservation.objects.get(order_id=order.pk).status == ReservationStatus.ALLOCATED


# --- cancel


def test_order_cancel_pending_by_owner_restores_stock(widgets, customer, place_order):
    a, _ = widgets
    order = place_order(customer, [(a, 4)])

    cancelled = order_cancel(order_id=order.pk, actor=customer)

    assert cancelled.status == OrderStatus.CANCELLED
    assert cancelled.cancelled_at is not None
    assert stock_of(a) == (500, 0)
    assert StockMovement.objects.filter(order_id=order.pk, kind=MovementKind.RELEASE).count() == 1
    assert_stock_consistent()


def test_order_cancel_releases_every_reservation(widgets, shirt, customer, place_order):
    a, _ = widgets
    _, small, medium = shirt
    order = place_order(customer, [(a, 4), (small, 1), (medium, 2)])
    reservation_ids = sorted(order.items.values_list("reservation_id", flat=True))

    order_cancel(order_id=order.pk, actor=customer)

    reservations = Reservation.objects.filter(pk__in=reservation_ids)
    assert {(r.status, r.released_at is not None) for r in reservations} == {(ReservationStatus.RELEASED, True)}
    releases = StockMovement.objects.filter(kind=MovementKind.RELEASE).order_by("reservation_id")
    assert [(m.reservation_id, m.order_id, m.on_hand_delta, m.actor_id) for m in releases] == [
        (reservation_id, order.pk, 0, customer.pk) for reservation_id in reservation_ids
    ]
    assert sorted(m.reserved_delta for m in releases) == [-4, -2, -1]
    assert (stock_of(a), rows_of(small), rows_of(medium)) == (
        (500, 0),
        {"MAIN/DEFAULT": (20, 0)},
        {"MAIN/DEFAULT": (20, 0)},
    )
    assert_stock_consistent()


def test_order_cancel_paid_by_staff_refunds(widgets, customer, inventory_manager, place_order):
    a, _ = widgets
    order = place_order(customer, [(a, 4)])
    order_pay(order_id=order.pk, actor=customer)

    order_cancel(order_id=order.pk, actor=inventory_manager)

    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    payment = Payment.objects.get(order=order)
    assert payment.status == PaymentStatus.REFUNDED
    assert payment.refunded_at is not None
    assert stock_of(a) == (500, 0)
    assert Reservation.objects.get(order_id=order.pk).status == ReservationStatus.RELEASED


def test_order_cancel_paid_by_customer_is_forbidden(widgets, customer, place_order):
    a, _ = widgets
    order = place_order(customer, [(a, 4)])
    order_pay(order_id=order.pk, actor=customer)

    with pytest.raises(TransitionForbidden):
        order_cancel(order_id=order.pk, actor=customer)

    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert stock_of(a) == (496, 4)
    assert Reservation.objects.get(order_id=order.pk).status == ReservationStatus.ALLOCATED


def test_order_cancel_by_another_customer_is_forbidden(widgets, customer, user_factory, place_order):
    order = place_order(customer, [(widgets[0], 1)])

    with pytest.raises(TransitionForbidden):
        order_cancel(order_id=order.pk, actor=user_factory())

    assert Reservation.objects.get(order_id=order.pk).status == ReservationStatus.ALLOCATED


# --- refused transitions


@pytest.mark.parametrize(
    ("steps", "action", "status"),
    [
        (["pay", "ship"], "pay", OrderStatus.SHIPPED),
        (["pay", "ship"], "ship", OrderStatus.SHIPPED),
        (["pay", "ship"], "cancel", OrderStatus.SHIPPED),
        (["cancel"], "pay", OrderStatus.CANCELLED),
        (["cancel"], "ship", OrderStatus.CANCELLED),
        (["cancel"], "cancel", OrderStatus.CANCELLED),
        (["pay"], "pay", OrderStatus.PAID),
        ([], "ship", OrderStatus.PENDING),
    ],
)
def test_refused_transitions_name_the_current_status(widgets, customer, admin_user, place_order, steps, action, status):
    services = {"pay": order_pay, "ship": order_ship, "cancel": order_cancel}
    order = place_order(customer, [(widgets[0], 1)])
    for step in steps:
        services[step](order_id=order.pk, actor=admin_user)
    stock_before = stock_of(widgets[0])
    ledger_before = StockMovement.objects.count()

    with pytest.raises(InvalidTransition) as excinfo:
        services[action](order_id=order.pk, actor=admin_user)

    assert excinfo.value.details == {"order_id": str(order.pk), "status": status, "action": action}
    assert status in excinfo.value.message
    assert stock_of(widgets[0]) == stock_before
    assert StockMovement.objects.count() == ledger_before


def test_transitions_on_a_missing_order(admin_user):
    with pytest.raises(OrderNotFound):
        order_ship(order_id=uuid.uuid4(), actor=admin_user)


# --- query budget


@pytest.mark.parametrize("key", [None, "size"], ids=["without-key", "with-key"])
def test_query_count_is_constant_in_the_number_of_lines(
    product_factory, warehouse_factory, location_factory, customer, django_assert_max_num_queries, key
):
    """Three warehouses with stock in several locations: each line's 3 units are split over two warehouses."""
    north, south = warehouse_factory(code="NORTH", priority=10), warehouse_factory(code="SOUTH", priority=50)
    places = [
        location_factory(warehouse=north, code="A-01"),
        location_factory(warehouse=north, code="A-02"),
        south.locations.get(code="DEFAULT"),
        location_factory(warehouse=south, code="B-01"),
    ]
    counts = []
    for size in (1, 10, 100):
        products = product_factory.create_batch(size, stock_quantity=1)  # MAIN/DEFAULT
        receive(None, *[(only_variant(p), location, 1) for p in products for location in places])
        lines = [by_product(p, 3) for p in products]
        with django_assert_max_num_queries(12) as captured:
            order = order_place(customer=customer, lines=lines, idempotency_key=f"{key}-{size}" if key else None).order
        counts.append(len(captured))
        assert allocations_of(order.items.first()) == {"NORTH/A-01": 1, "NORTH/A-02": 1, "SOUTH/B-01": 1}

    assert counts[0] == counts[1] == counts[2]
    assert_stock_consistent()


# --- events and the ledger after a workflow


def test_each_transition_logs_its_event_and_email_after_commit(widgets, customer, admin_user, place_order):
    shipped, cancelled = place_order(customer, [(widgets[0], 1)]), place_order(customer, [(widgets[0], 1)])

    with capture_logs() as logs:
        order_pay(order_id=shipped.pk, actor=customer)
        order_ship(order_id=shipped.pk, actor=admin_user)
        order_cancel(order_id=cancelled.pk, actor=customer)

    events = [(line["event"], line["order_id"]) for line in logs if line["event"].startswith("order_")]
    assert events == [
        ("order_paid", str(shipped.pk)),
        ("order_shipped", str(shipped.pk)),
        ("order_cancelled", str(cancelled.pk)),
    ]
    emails = [(line["template"], line["to"]) for line in logs if line["event"] == "email_sent"]
    assert emails == [
        ("payment_receipt", customer.email),
        ("shipping_notice", customer.email),
        ("cancellation_notice", customer.email),
    ]


def test_a_refused_transition_logs_nothing(widgets, customer, admin_user, place_order):
    order = place_order(customer, [(widgets[0], 1)])

    with capture_logs() as logs, pytest.raises(InvalidTransition):
        order_ship(order_id=order.pk, actor=admin_user)

    assert [line for line in logs if line["event"].startswith("order_") or line["event"] == "email_sent"] == []


def test_stock_is_consistent_after_a_workflow_over_several_warehouses(
    widgets, shirt, warehouse_factory, customer, admin_user, place_order
):
    a, b = widgets
    _, small, medium = shirt
    north = warehouse_factory(code="NORTH", priority=10)
    north_default = north.locations.get(code="DEFAULT")
    receive(admin_user, (only_variant(a), north_default, 5), (small, north_default, 3))
    shipped = place_order(customer, [(a, 8), (small, 2)])  # a: MAIN (NORTH has too few); small: NORTH
    cancelled = place_order(customer, [(a, 2), (medium, 1)])
    refunded = place_order(customer, [(b, 3), (small, 1)])
    pending = place_order(customer, [(medium, 5)])
    order_pay(order_id=shipped.pk, actor=customer)
    order_ship(order_id=shipped.pk, actor=admin_user)
    order_cancel(order_id=cancelled.pk, actor=customer)
    order_pay(order_id=refunded.pk, actor=customer)
    order_cancel(order_id=refunded.pk, actor=admin_user)
    with pytest.raises(InsufficientStock):
        order_place(customer=customer, lines=[by_product(a, 1000)])

    assert_stock_consistent()
    assert rows_of(only_variant(a)) == {"NORTH/DEFAULT": (5, 0), "MAIN/DEFAULT": (492, 0)}
    assert rows_of(small) == {"NORTH/DEFAULT": (1, 0), "MAIN/DEFAULT": (20, 0)}
    assert rows_of(medium) == {"MAIN/DEFAULT": (20, 5)}
    assert stock_of(b) == (10, 0)
    statuses = Reservation.objects.values_list("order_id", "status")
    assert sorted((str(order_id), status) for order_id, status in statuses) == sorted(
        [(str(shipped.pk), ReservationStatus.COMMITTED)] * 2
        + [(str(cancelled.pk), ReservationStatus.RELEASED)] * 2
        + [(str(refunded.pk), ReservationStatus.RELEASED)] * 2
        + [(str(pending.pk), ReservationStatus.ALLOCATED)]
    )


def test_order_snapshot_survives_a_price_change(widgets, customer, place_order):
    a, _ = widgets
    order = place_order(customer, [(a, 2)])

    product_update(product_id=a.pk, changes={"price": Decimal("999.00")}, actor=None)

    item = OrderItem.objects.get(order=order)
    assert item.unit_price_at_purchase == Decimal("150.00")
    assert Order.objects.get(pk=order.pk).total_amount == Decimal("300.00")


@pytest.mark.parametrize("role", ["ADMIN", "INVENTORY_MANAGER"])
def test_order_place_is_for_customers_only(widgets, user_factory, role):
    staff = user_factory(role=role)
    ledger_before = StockMovement.objects.count()

    with pytest.raises(TransitionForbidden) as excinfo:
        order_place(customer=staff, lines=[by_product(widgets[0], 1)])

    assert (excinfo.value.message, excinfo.value.details) == ("Only customers may place orders.", {"action": "place"})
    nothing_written(ledger_before)
