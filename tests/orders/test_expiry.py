"""Unpaid orders expire: by ``manage.py expire_unpaid_orders`` once overdue, or by staff at any time."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from structlog.testing import capture_logs

from inventory.models import MovementKind, ReservationStatus, StockMovement
from orders.models import Order, OrderStatus, Payment, PaymentStatus
from orders.services.charges import _payment_charge_record
from orders.services.expiry import orders_expire_due
from orders.services.payments import payment_create, payment_fail
from orders.services.workflow import order_cancel, order_pay, order_ship
from tests.commands import command_failure, command_output
from tests.locking import held_in_another_transaction
from tests.orders.helpers import error_body, reservation_statuses, written
from tests.stock import assert_stock_consistent, stock_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def widget(product_factory):
    return product_factory(sku="EXP-W", price=Decimal("5.00"), stock_quantity=100)


@pytest.fixture
def gadget(product_factory):
    return product_factory(sku="EXP-G", price=Decimal("7.00"), stock_quantity=100)


def overdue(order, minutes: int = 61) -> Order:
    """Make ``order`` look placed ``minutes`` ago."""
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(minutes=minutes))
    order.refresh_from_db()
    return order


def releases_of(order) -> list[tuple]:
    movements = StockMovement.objects.filter(order_id=order.pk, kind=MovementKind.RELEASE).order_by("reservation_id")
    return list(movements.values_list("reservation_id", "reserved_delta", "on_hand_delta", "actor_id"))


# --- manage.py expire_unpaid_orders


def test_the_command_expires_overdue_pending_orders_only(place_order, customer, admin_user, widget, gadget, settings):
    settings.ORDER_PAYMENT_TIMEOUT_MINUTES = 60
    due = overdue(place_order(customer, [(widget, 2), (gadget, 3)]))
    fresh = overdue(place_order(customer, [(widget, 1)]), minutes=59)
    paid = place_order(customer, [(widget, 4)])
    order_pay(order_id=paid.pk, actor=customer)
    cancelled = place_order(customer, [(gadget, 5)])
    order_cancel(order_id=cancelled.pk, actor=customer)
    shipped = place_order(customer, [(gadget, 1)])
    order_pay(order_id=shipped.pk, actor=customer)
    order_ship(order_id=shipped.pk, actor=admin_user)
    for order in (paid, cancelled, shipped):
        overdue(order)

    output = command_output("expire_unpaid_orders")

    assert output == "expired 1 order(s)\n"
    statuses = dict(Order.objects.values_list("pk", "status"))
    assert statuses == {
        due.pk: "EXPIRED",
        fresh.pk: "PENDING",
        paid.pk: "PAID",
        cancelled.pk: "CANCELLED",
        shipped.pk: "SHIPPED",
    }
    due.refresh_from_db()
    assert due.expired_at is not None
    assert reservation_statuses(due) == {ReservationStatus.RELEASED}
    assert releases_of(due) == sorted((item.reservation_id, -item.quantity, 0, None) for item in due.items.all())
    assert (stock_of(widget), stock_of(gadget)) == ((95, 5), (99, 0))
    assert_stock_consistent()


def test_timeout_zero_turns_expiry_off(place_order, customer, widget, settings):
    settings.ORDER_PAYMENT_TIMEOUT_MINUTES = 0
    order = overdue(place_order(customer, [(widget, 1)]), minutes=60 * 24 * 365)

    assert command_output("expire_unpaid_orders") == "order expiry is off (ORDER_PAYMENT_TIMEOUT_MINUTES=0)\n"
    assert orders_expire_due() == 0
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING
    assert stock_of(widget) == (99, 1)


def test_the_timeout_setting_decides_what_is_overdue(place_order, customer, widget, settings):
    settings.ORDER_PAYMENT_TIMEOUT_MINUTES = 15
    old = overdue(place_order(customer, [(widget, 1)]), minutes=16)
    recent = overdue(place_order(customer, [(widget, 1)]), minutes=14)

    assert orders_expire_due() == 1

    assert Order.objects.get(pk=old.pk).status == OrderStatus.EXPIRED
    assert Order.objects.get(pk=recent.pk).status == OrderStatus.PENDING


def test_the_command_works_in_batches(place_order, customer, widget, gadget):
    orders = [overdue(place_order(customer, [(widget, 1), (gadget, 2)])) for _ in range(5)]

    assert command_output("expire_unpaid_orders", "--batch-size", "2") == "expired 5 order(s)\n"

    assert set(Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("status", flat=True)) == {"EXPIRED"}
    assert StockMovement.objects.filter(kind=MovementKind.RELEASE).count() == 10
    assert (stock_of(widget), stock_of(gadget)) == ((100, 0), (100, 0))
    assert_stock_consistent()


@pytest.mark.parametrize("size", ["0", "-3"])
def test_the_command_refuses_a_batch_size_below_one(size):
    assert command_failure("expire_unpaid_orders", "--batch-size", size)[1] == "--batch-size must be at least 1"


@pytest.mark.django_db(transaction=True)
def test_the_command_skips_an_order_someone_holds(place_order, customer, widget):
    held = overdue(place_order(customer, [(widget, 1)]))
    free = overdue(place_order(customer, [(widget, 2)]))

    with held_in_another_transaction(lambda: Order.objects.select_for_update().get(pk=held.pk)):
        output = command_output("expire_unpaid_orders")

    assert output == "expired 1 order(s)\n"
    assert Order.objects.get(pk=held.pk).status == OrderStatus.PENDING
    assert Order.objects.get(pk=free.pk).status == OrderStatus.EXPIRED
    assert command_output("expire_unpaid_orders") == "expired 1 order(s)\n"
    assert stock_of(widget) == (100, 0)


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_expire_each_order_once(place_order, user_factory, widget, gadget, in_threads):
    customers = user_factory.create_batch(4)
    orders = [overdue(place_order(customers[i % 4], [(widget, 1), (gadget, 1)])) for i in range(24)]

    outcomes = in_threads(lambda: orders_expire_due(batch_size=3), [{} for _ in range(6)])

    assert all(isinstance(outcome, int) for outcome in outcomes), outcomes
    assert sum(outcomes) == 24
    assert set(Order.objects.values_list("status", flat=True)) == {"EXPIRED"}
    releases = StockMovement.objects.filter(kind=MovementKind.RELEASE)
    assert releases.count() == 48
    assert sorted(releases.values_list("order_id", flat=True)) == sorted([o.pk for o in orders] * 2)
    assert (stock_of(widget), stock_of(gadget)) == ((100, 0), (100, 0))
    assert_stock_consistent()


@pytest.mark.django_db(transaction=True)
def test_expiry_logs_order_expired_after_commit_and_mails_nobody(place_order, customer, widget):
    order = overdue(place_order(customer, [(widget, 1)]))

    with capture_logs() as logs:
        orders_expire_due()

    assert [(line["event"], line["order_id"], line["status"]) for line in logs] == [
        ("order_expired", str(order.pk), "EXPIRED")
    ]


# --- POST /orders/{id}/expire


@pytest.mark.parametrize("role", ["admin", "inventory_manager"])
def test_staff_expire_a_pending_order_even_before_it_is_overdue(
    client_for, admin_user, inventory_manager, place_order, customer, widget, role
):
    staff = admin_user if role == "admin" else inventory_manager
    order = place_order(customer, [(widget, 6)])

    response = client_for(staff).post(f"/orders/{order.pk}/expire")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["expired_at"] is not None, body["customer_email"]) == (
        "EXPIRED",
        True,
        customer.email,
    )
    reservation_id = order.items.get().reservation_id
    assert releases_of(order) == [(reservation_id, -6, 0, staff.pk)]
    assert stock_of(widget) == (100, 0)


def test_expiring_an_expired_order_answers_200_and_releases_nothing_twice(admin_client, place_order, customer, widget):
    order = place_order(customer, [(widget, 3)])
    first = admin_client.post(f"/orders/{order.pk}/expire").json()
    before = written()

    again = admin_client.post(f"/orders/{order.pk}/expire")

    assert again.status_code == 200
    assert again.json() == first
    assert written() == before
    assert len(releases_of(order)) == 1
    assert command_output("expire_unpaid_orders") == "expired 0 order(s)\n"


@pytest.mark.parametrize("steps", [["pay"], ["pay", "ship"], ["cancel"]])
def test_expiring_a_paid_shipped_or_cancelled_order_is_409(admin_client, place_order, customer, widget, steps):
    order = place_order(customer, [(widget, 1)])
    for step in steps:
        assert admin_client.post(f"/orders/{order.pk}/{step}").status_code == 200
    status = Order.objects.get(pk=order.pk).status
    before = written()

    response = admin_client.post(f"/orders/{order.pk}/expire")

    assert error_body(response, 409) == {
        "code": "invalid_transition",
        "message": f"Cannot expire an order that is {status}.",
        "details": {"order_id": str(order.pk), "status": status, "action": "expire"},
    }
    assert written() == before


@pytest.mark.parametrize("who", ["owner", "another"])
def test_customers_cannot_expire_orders(client_for, user_factory, place_order, customer, widget, who):
    order = place_order(customer, [(widget, 1)])
    before = written()

    response = client_for(customer if who == "owner" else user_factory()).post(f"/orders/{order.pk}/expire")

    assert error_body(response, 403) == {
        "code": "staff_required",
        "message": "Only staff (admins or inventory managers) may do this.",
        "details": {},
    }
    assert written() == before


def test_expiring_an_unknown_order_is_404(admin_client):
    response = admin_client.post("/orders/00000000-0000-4000-8000-000000000000/expire")

    assert error_body(response, 404)["code"] == "not_found"


@pytest.mark.parametrize("action", ["pay", "cancel", "ship"])
def test_an_expired_order_is_final(admin_client, place_order, customer, widget, action):
    order = place_order(customer, [(widget, 1)])
    admin_client.post(f"/orders/{order.pk}/expire")
    before = written()

    response = admin_client.post(f"/orders/{order.pk}/{action}")

    assert error_body(response, 409)["details"] == {"order_id": str(order.pk), "status": "EXPIRED", "action": action}
    assert written() == before


def test_expired_orders_are_listed_by_status(admin_client, place_order, customer, widget):
    order = place_order(customer, [(widget, 1)])
    place_order(customer, [(widget, 1)])
    admin_client.post(f"/orders/{order.pk}/expire")

    listed = admin_client.get("/orders", {"status": "expired"}).json()["results"]

    assert [o["id"] for o in listed] == [str(order.pk)]


def test_the_command_leaves_an_order_whose_charge_is_in_flight_until_the_charge_ends(
    admin_user, place_order, customer, widget
):
    order = overdue(place_order(customer, [(widget, 1)]))
    waiting = payment_create(order_id=order.pk, actor=customer)
    in_flight = _payment_charge_record(order_id=order.pk, actor=customer, provider="other")

    assert orders_expire_due() == 0
    order.refresh_from_db()
    waiting.refresh_from_db()
    assert (order.status, reservation_statuses(order)) == (OrderStatus.PENDING, {ReservationStatus.ALLOCATED})
    assert waiting.status == PaymentStatus.PENDING

    payment_fail(payment_id=in_flight.pk, actor=admin_user, reason="declined")  # the provider's answer
    assert orders_expire_due() == 1

    order.refresh_from_db()
    waiting.refresh_from_db()
    assert (order.status, reservation_statuses(order)) == (OrderStatus.EXPIRED, {ReservationStatus.RELEASED})
    assert (waiting.status, waiting.failure_reason) == (PaymentStatus.FAILED, "order_expired")


def test_staff_expiry_fails_pending_payments_but_leaves_a_charge_in_flight_to_its_answer(
    admin_client, place_order, customer, widget
):
    order = place_order(customer, [(widget, 1)])
    waiting = payment_create(order_id=order.pk, actor=customer)
    in_flight = _payment_charge_record(order_id=order.pk, actor=customer, provider="other")

    assert admin_client.post(f"/orders/{order.pk}/expire").status_code == 200

    waiting.refresh_from_db()
    in_flight.refresh_from_db()
    assert (waiting.status, waiting.failure_reason) == (PaymentStatus.FAILED, "order_expired")
    assert (in_flight.status, in_flight.charge_requested_at is not None) == (PaymentStatus.PENDING, True)
    succeed = admin_client.post(f"/payments/{in_flight.pk}/succeed")
    assert error_body(succeed, 409)["details"]["order_status"] == "EXPIRED"
    assert Payment.objects.filter(status=PaymentStatus.SUCCEEDED).count() == 0
