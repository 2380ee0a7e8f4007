from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from structlog.testing import capture_logs

from inventory.exceptions import InsufficientStock, ProductsUnavailable
from inventory.models import MovementKind, Product, StockMovement
from inventory.selectors import ledger_mismatches
from inventory.services import StockLine, product_update
from orders.exceptions import (
    EmptyOrder,
    IdempotencyKeyReused,
    InvalidTransition,
    OrderNotFound,
    PaymentDeclined,
    TransitionForbidden,
)
from orders.models import Order, OrderItem, OrderStatus, Payment, PaymentStatus, Shipment
from orders.services import order_cancel, order_pay, order_place, order_ship

pytestmark = pytest.mark.django_db(transaction=True)


def stock_of(product) -> tuple[int, int]:
    return Product.objects.values_list("stock_quantity", "reserved_quantity").get(pk=product.pk)


@pytest.fixture
def widgets(product_factory):
    return product_factory(price=Decimal("150.00"), stock_quantity=500), product_factory(
        price=Decimal("9.99"), stock_quantity=10
    )


def test_order_place_reserves_stock_and_snapshots_prices(widgets, customer, settings):
    settings.SHIPPING_FLAT_RATE = Decimal("12.50")
    a, b = widgets

    placement = order_place(customer=customer, lines=[StockLine(a.pk, 5), StockLine(b.pk, 1), StockLine(a.pk, 1)])

    order = placement.order
    assert placement.replayed is False
    assert (order.status, order.user) == (OrderStatus.PENDING, customer)
    assert (order.subtotal, order.shipping_amount, order.total_amount) == (
        Decimal("909.99"),
        Decimal("12.50"),
        Decimal("922.49"),
    )
    items = list(OrderItem.objects.filter(order=order).order_by("product_id"))
    assert [
        (i.product_id, i.quantity, i.unit_price_at_purchase, i.line_total, i.sku, i.product_name) for i in items
    ] == [
        (a.pk, 6, Decimal("150.00"), Decimal("900.00"), a.sku, a.name),
        (b.pk, 1, Decimal("9.99"), Decimal("9.99"), b.sku, b.name),
    ]
    assert stock_of(a) == (494, 6)
    assert stock_of(b) == (9, 1)
    assert set(StockMovement.objects.filter(order_id=order.pk).values_list("kind", flat=True)) == {MovementKind.RESERVE}
    assert list(ledger_mismatches()) == []


def test_order_snapshot_survives_a_price_change(widgets, customer, admin_user, place_order):
    a, _ = widgets
    order = place_order(customer, [(a, 2)])

    product_update(product_id=a.pk, actor=admin_user, changes={"price": Decimal("999.00")})

    item = OrderItem.objects.get(order=order)
    assert item.unit_price_at_purchase == Decimal("150.00")
    assert Order.objects.get(pk=order.pk).total_amount == Decimal("300.00")


def test_order_place_with_one_short_line_changes_nothing(widgets, customer):
    a, b = widgets
    ledger_before = StockMovement.objects.count()

    with pytest.raises(InsufficientStock) as excinfo:
        order_place(customer=customer, lines=[StockLine(a.pk, 5), StockLine(b.pk, 11)])

    assert excinfo.value.details["lines"] == [{"product_id": b.pk, "sku": b.sku, "requested": 11, "available": 10}]
    assert stock_of(a) == (500, 0)
    assert stock_of(b) == (10, 0)
    assert not Order.objects.exists()
    assert not OrderItem.objects.exists()
    assert StockMovement.objects.count() == ledger_before


@pytest.mark.parametrize(("lines", "error"), [([], EmptyOrder), ([StockLine(1, 0)], ValidationError)])
def test_order_place_rejects_empty_and_non_positive_lines(customer, lines, error):
    with pytest.raises(error):
        order_place(customer=customer, lines=lines)

    assert not Order.objects.exists()


def test_order_place_rejects_unknown_and_inactive_products(product_factory, customer):
    active, inactive = product_factory(), product_factory(is_active=False)

    with pytest.raises(ProductsUnavailable) as excinfo:
        order_place(customer=customer, lines=[StockLine(active.pk, 1), StockLine(inactive.pk, 1), StockLine(10**9, 1)])

    assert excinfo.value.details == {"product_ids": [inactive.pk, 10**9]}
    assert stock_of(active) == (100, 0)
    assert not Order.objects.exists()


def test_order_place_emails_only_after_commit(widgets, customer):
    a, _ = widgets

    with capture_logs() as logs:
        order = order_place(customer=customer, lines=[StockLine(a.pk, 1)]).order
        with pytest.raises(InsufficientStock):
            order_place(customer=customer, lines=[StockLine(a.pk, 10_000)])

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


def test_order_place_idempotency_key_replays_without_moving_stock(widgets, customer):
    a, b = widgets
    first = order_place(customer=customer, lines=[StockLine(a.pk, 2), StockLine(b.pk, 1)], idempotency_key="k-1")

    again = order_place(
        customer=customer, lines=[StockLine(b.pk, 1), StockLine(a.pk, 1), StockLine(a.pk, 1)], idempotency_key="k-1"
    )

    assert again.replayed is True
    assert again.order.pk == first.order.pk
    assert stock_of(a) == (498, 2)
    assert Order.objects.count() == 1


def test_order_place_idempotency_key_with_another_body_is_refused(widgets, customer):
    a, _ = widgets
    order_place(customer=customer, lines=[StockLine(a.pk, 2)], idempotency_key="k-1")

    with pytest.raises(IdempotencyKeyReused):
        order_place(customer=customer, lines=[StockLine(a.pk, 3)], idempotency_key="k-1")

    assert stock_of(a) == (498, 2)


def test_order_place_idempotency_keys_are_scoped_per_customer(widgets, customer, user_factory):
    a, _ = widgets
    mine = order_place(customer=customer, lines=[StockLine(a.pk, 1)], idempotency_key="same").order

    theirs = order_place(customer=user_factory(), lines=[StockLine(a.pk, 1)], idempotency_key="same")

    assert theirs.replayed is False
    assert theirs.order.pk != mine.pk
    assert stock_of(a) == (498, 2)


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


def test_order_ship_commits_reserved_stock_and_records_the_shipment(widgets, customer, inventory_manager, place_order):
    a, b = widgets
    order = place_order(customer, [(a, 3), (b, 2)])
    order_pay(order_id=order.pk, actor=customer)

    shipped = order_ship(order_id=order.pk, actor=inventory_manager)

    assert shipped.status == OrderStatus.SHIPPED
    assert stock_of(a) == (497, 0)
    assert stock_of(b) == (8, 0)
    shipment = Shipment.objects.get(order=order)
    assert (shipment.carrier, shipment.cost) == ("flat-rate", order.shipping_amount)
    assert shipment.tracking_number.startswith("FR")
    assert sorted(
        StockMovement.objects.filter(order_id=order.pk, kind=MovementKind.SHIP).values_list(
            "product_id", "reserved_delta"
        )
    ) == sorted([(a.pk, -3), (b.pk, -2)])
    assert list(ledger_mismatches()) == []


def test_order_ship_is_staff_only(widgets, customer, place_order):
    order = place_order(customer, [(widgets[0], 1)])
    order_pay(order_id=order.pk, actor=customer)

    with pytest.raises(TransitionForbidden):
        order_ship(order_id=order.pk, actor=customer)


def test_order_cancel_pending_by_owner_restores_stock(widgets, customer, place_order):
    a, _ = widgets
    order = place_order(customer, [(a, 4)])

    cancelled = order_cancel(order_id=order.pk, actor=customer)

    assert cancelled.status == OrderStatus.CANCELLED
    assert cancelled.cancelled_at is not None
    assert stock_of(a) == (500, 0)
    assert StockMovement.objects.filter(order_id=order.pk, kind=MovementKind.RELEASE).count() == 1
    assert list(ledger_mismatches()) == []


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


def test_order_cancel_paid_by_customer_is_forbidden(widgets, customer, place_order):
    a, _ = widgets
    order = place_order(customer, [(a, 4)])
    order_pay(order_id=order.pk, actor=customer)

    with pytest.raises(TransitionForbidden):
        order_cancel(order_id=order.pk, actor=customer)

    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert stock_of(a) == (496, 4)


def test_order_cancel_by_another_customer_is_forbidden(widgets, customer, user_factory, place_order):
    order = place_order(customer, [(widgets[0], 1)])

    with pytest.raises(TransitionForbidden):
        order_cancel(order_id=order.pk, actor=user_factory())


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

    with pytest.raises(InvalidTransition) as excinfo:
        services[action](order_id=order.pk, actor=admin_user)

    assert excinfo.value.details == {"order_id": str(order.pk), "status": status, "action": action}
    assert status in excinfo.value.message
    assert stock_of(widgets[0]) == stock_before


def test_transitions_on_a_missing_order(admin_user):
    import uuid

    with pytest.raises(OrderNotFound):
        order_ship(order_id=uuid.uuid4(), actor=admin_user)


def test_query_count_is_constant_in_the_number_of_lines(product_factory, customer, django_assert_max_num_queries):
    counts = []
    for size in (1, 10, 100):
        lines = [StockLine(p.pk, 1) for p in product_factory.create_batch(size)]
        with django_assert_max_num_queries(12) as captured:
            order_place(customer=customer, lines=lines, idempotency_key=f"size-{size}")
        counts.append(len(captured))

    assert counts[0] == counts[1] == counts[2]


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
