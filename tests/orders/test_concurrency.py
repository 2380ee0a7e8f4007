"""Races through the real API and services: threads, each on its own PostgreSQL connection."""

import pytest
from rest_framework.test import APIClient

from config.db import DatabaseBusy
from inventory.models import Reservation, Stock
from inventory.services.receipts import ReceiptLine, stock_receive
from orders.exceptions import InvalidTransition
from orders.gateway import payment_gateway
from orders.models import Order, OrderStatus, Payment, PaymentStatus, Shipment
from orders.services.payments import payment_create
from orders.services.placement import OrderLine, order_place
from orders.services.shipments import shipment_create
from orders.services.workflow import order_cancel, order_pay, order_ship
from tests.locking import assert_database_busy, held_in_another_transaction
from tests.orders.gateways import charged
from tests.stock import assert_stock_consistent, only_variant, rows_of, stock_of

pytestmark = pytest.mark.django_db(transaction=True)


def _clients(client_for, users) -> list[APIClient]:
    return [client_for(user) for user in users]


def _post_order(*, client: APIClient, items: list[dict], key: str | None = None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post("/orders", {"items": items}, format="json", **headers)


def test_last_items_race_sells_exactly_the_stock(
    product_factory, warehouse_factory, user_factory, client_for, in_threads
):
    product = product_factory(stock_quantity=6)  # MAIN/DEFAULT
    variant = only_variant(product)
    west = warehouse_factory(code="WEST", priority=200)
    stock_receive(warehouse_id=west.pk, lines=[ReceiptLine(variant.sku, 4)], actor=None)
    clients = _clients(client_for, user_factory.create_batch(30))

    responses = in_threads(
        _post_order, [{"client": c, "items": [{"product_id": product.pk, "quantity": 1}]} for c in clients]
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 10 + [400] * 20
    for refused in (r for r in responses if r.status_code == 400):
        error = refused.json()["error"]
        assert error["code"] == "insufficient_stock"
        assert error["details"]["lines"] == [
            {"variant_id": variant.pk, "product_id": product.pk, "sku": variant.sku, "requested": 1, "available": 0}
        ]
    assert Order.objects.count() == 10
    assert stock_of(product) == (0, 10)
    assert rows_of(variant) == {"MAIN/DEFAULT": (6, 6), "WEST/DEFAULT": (4, 4)}
    assert_stock_consistent()


def test_opposite_lock_order_orders_all_succeed(product_factory, user_factory, client_for, in_threads):
    a, b = product_factory(stock_quantity=100), product_factory(stock_quantity=100)
    clients = _clients(client_for, user_factory.create_batch(16))
    forward = [{"product_id": a.pk, "quantity": 1}, {"product_id": b.pk, "quantity": 2}]
    backward = list(reversed(forward))

    responses = in_threads(
        _post_order, [{"client": c, "items": forward if i % 2 else backward} for i, c in enumerate(clients)]
    )

    assert [r.status_code for r in responses] == [201] * 16
    assert stock_of(a) == (84, 16)
    assert stock_of(b) == (68, 32)
    assert_stock_consistent()


def test_concurrent_duplicate_idempotency_keys_create_one_order(product_factory, customer, client_for, in_threads):
    product = product_factory(stock_quantity=50)
    clients = _clients(client_for, [customer] * 8)  # one client per thread, all the same customer
    items = [{"product_id": product.pk, "quantity": 2}]

    responses = in_threads(_post_order, [{"client": c, "items": items, "key": "dup-key"} for c in clients])

    assert Order.objects.count() == 1
    order_id = str(Order.objects.get().pk)
    for response in responses:
        assert response.status_code in (201, 409), response.content
        if response.status_code == 201:
            assert response.json()["id"] == order_id
        else:
            assert response.json()["error"]["code"] == "idempotency_key_in_flight"
    assert stock_of(product) == (48, 2)
    assert_stock_consistent()


def test_a_stuck_lock_answers_database_busy_instead_of_hanging(product_factory, customer, settings):
    settings.STOCK_LOCK_TIMEOUT_MS = 200
    product = product_factory(stock_quantity=5)

    with (
        held_in_another_transaction(lambda: Stock.objects.select_for_update().get(variant__product=product)),
        pytest.raises(DatabaseBusy) as excinfo,
    ):
        order_place(customer=customer, lines=[OrderLine(quantity=1, product_id=product.pk)])

    assert excinfo.value.status == 503
    assert excinfo.value.details == {"reason": "lock_timeout"}
    assert not Order.objects.exists()
    assert stock_of(product) == (5, 0)
    assert_stock_consistent()


@pytest.mark.parametrize("first", ["ship", "cancel"])
def test_ship_and_cancel_racing_on_one_paid_order_end_it_once(
    product_factory, customer, admin_user, inventory_manager, in_threads, first
):
    product = product_factory(stock_quantity=10)
    order = order_place(customer=customer, lines=[OrderLine(quantity=3, product_id=product.pk)]).order
    order_pay(order_id=order.pk, actor=customer)
    services = {"ship": order_ship, "cancel": order_cancel}
    second = "cancel" if first == "ship" else "ship"

    outcomes = in_threads(
        lambda action, actor: services[action](order_id=order.pk, actor=actor),
        [{"action": first, "actor": admin_user}, {"action": second, "actor": inventory_manager}],
    )

    winners = [o for o in outcomes if not isinstance(o, Exception)]
    losers = [o for o in outcomes if isinstance(o, Exception)]
    assert len(winners) == 1
    assert [type(o) for o in losers] == [InvalidTransition]
    status = Order.objects.get(pk=order.pk).status
    assert losers[0].details["status"] == status
    if status == OrderStatus.SHIPPED:
        assert rows_of(only_variant(product)) == {"MAIN/DEFAULT": (7, 0)}
        assert Payment.objects.get(order=order).status == PaymentStatus.SUCCEEDED
    else:
        assert status == OrderStatus.CANCELLED
        assert rows_of(only_variant(product)) == {"MAIN/DEFAULT": (10, 0)}
        assert Payment.objects.get(order=order).status == PaymentStatus.REFUNDED
    assert_stock_consistent()


# --- payments and shipments racing


def _post(*, client: APIClient, path: str, body: dict | None = None):
    return client.post(path, body or {}, format="json")


def test_two_payments_of_one_order_succeeding_at_once_one_wins(
    product_factory, customer, admin_user, client_for, in_threads
):
    product = product_factory(stock_quantity=10)
    order = order_place(customer=customer, lines=[OrderLine(quantity=2, product_id=product.pk)]).order
    payments = [payment_create(order_id=order.pk, actor=customer) for _ in range(2)]
    clients = _clients(client_for, [admin_user, admin_user])

    responses = in_threads(
        _post, [{"client": c, "path": f"/payments/{p.pk}/succeed"} for c, p in zip(clients, payments, strict=True)]
    )

    assert sorted(r.status_code for r in responses) == [200, 409]
    (refused,) = (r for r in responses if r.status_code == 409)
    (winner,) = (r for r in responses if r.status_code == 200)
    loser_id = next(p.pk for p in payments if p.pk != winner.json()["id"])
    # the loser waited for the winner's lock, and the winner failed it (never charged: order_already_paid)
    assert refused.json()["error"]["details"] == {"payment_id": loser_id, "status": "FAILED", "action": "succeed"}
    assert sorted(Payment.objects.filter(order=order).values_list("status", "failure_reason")) == [
        ("FAILED", "order_already_paid"),
        ("SUCCEEDED", ""),
    ]
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert stock_of(product) == (8, 2)
    assert_stock_consistent()


def test_concurrent_one_call_payments_of_one_order_charge_once(product_factory, customer, client_for, in_threads):
    product = product_factory(stock_quantity=10)
    order = order_place(customer=customer, lines=[OrderLine(quantity=1, product_id=product.pk)]).order
    clients = _clients(client_for, [customer] * 6)

    responses = in_threads(_post, [{"client": c, "path": f"/orders/{order.pk}/pay"} for c in clients])

    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {200, 409}, [r.content for r in responses]
    assert 200 in statuses
    for refused in (r for r in responses if r.status_code == 409):
        assert refused.json()["error"]["details"] == {"order_id": str(order.pk), "status": "PAID", "action": "pay"}
    payment = Payment.objects.get(order=order)
    assert payment.status == PaymentStatus.SUCCEEDED
    assert charged(payment_gateway()) == [f"pay-{payment.pk}"]
    assert payment_gateway().calls == {f"pay-{payment.pk}": statuses.count(200)}
    assert_stock_consistent()


@pytest.mark.parametrize("canceller", ["owner", "staff"])
def test_a_payment_succeed_racing_an_order_cancel_leaves_a_consistent_pair(
    product_factory, customer, admin_user, inventory_manager, client_for, in_threads, canceller
):
    product = product_factory(stock_quantity=10)
    order = order_place(customer=customer, lines=[OrderLine(quantity=3, product_id=product.pk)]).order
    payment = payment_create(order_id=order.pk, actor=customer)
    succeed = {"client": client_for(admin_user), "path": f"/payments/{payment.pk}/succeed"}
    cancel = {
        "client": client_for(customer if canceller == "owner" else inventory_manager),
        "path": f"/orders/{order.pk}/cancel",
    }

    succeeded, cancelled = in_threads(_post, [succeed, cancel])

    order.refresh_from_db()
    payment.refresh_from_db()
    reservation = Reservation.objects.get(order_id=order.pk)
    if order.status == OrderStatus.PAID:
        assert (succeeded.status_code, cancelled.status_code) == (200, 403)
        assert cancelled.json()["error"]["code"] == "transition_forbidden"
        assert payment.status == PaymentStatus.SUCCEEDED
        assert reservation.status == "ALLOCATED"
        assert stock_of(product) == (7, 3)
    else:
        assert order.status == OrderStatus.CANCELLED
        assert cancelled.status_code == 200
        assert payment.status != PaymentStatus.SUCCEEDED
        if succeeded.status_code == 200:  # succeeded first, then a staff cancel refunded it
            assert (canceller, payment.status) == ("staff", PaymentStatus.REFUNDED)
        else:
            assert succeeded.json()["error"]["details"]["status"] == "FAILED"
            assert (payment.status, payment.failure_reason) == (PaymentStatus.FAILED, "order_cancelled")
        assert reservation.status == "RELEASED"
        assert stock_of(product) == (10, 0)
    assert_stock_consistent()


@pytest.mark.parametrize("first", ["ship", "cancel"])
def test_a_shipment_ship_racing_an_order_cancel_one_wins(
    product_factory, customer, admin_user, inventory_manager, client_for, in_threads, first
):
    product = product_factory(stock_quantity=10)
    order = order_place(customer=customer, lines=[OrderLine(quantity=4, product_id=product.pk)]).order
    order_pay(order_id=order.pk, actor=customer)
    shipment = shipment_create(order_id=order.pk, actor=admin_user, carrier="DHL")
    calls = {
        "ship": {"client": client_for(inventory_manager), "path": f"/shipments/{shipment.pk}/ship"},
        "cancel": {"client": client_for(admin_user), "path": f"/orders/{order.pk}/cancel"},
    }
    second = "cancel" if first == "ship" else "ship"

    outcomes = dict(zip([first, second], in_threads(_post, [calls[first], calls[second]]), strict=True))

    assert sorted(r.status_code for r in outcomes.values()) == [200, 409]
    order.refresh_from_db()
    shipment.refresh_from_db()
    payment = Payment.objects.get(order=order)
    if order.status == OrderStatus.SHIPPED:
        assert outcomes["cancel"].json()["error"]["details"] == {
            "order_id": str(order.pk),
            "status": "SHIPPED",
            "action": "cancel",
        }
        assert (shipment.status, payment.status) == ("SHIPPED", PaymentStatus.SUCCEEDED)
        assert rows_of(only_variant(product)) == {"MAIN/DEFAULT": (6, 0)}
    else:
        assert order.status == OrderStatus.CANCELLED
        assert outcomes["ship"].json()["error"]["details"] == {
            "shipment_id": shipment.pk,
            "status": "CANCELLED",
            "action": "ship",
        }
        assert (shipment.status, payment.status) == ("CANCELLED", PaymentStatus.REFUNDED)
        assert rows_of(only_variant(product)) == {"MAIN/DEFAULT": (10, 0)}
    assert Shipment.objects.filter(order=order).count() == 1
    assert_stock_consistent()


@pytest.mark.parametrize("held", ["order", "payment", "shipment"])
def test_order_payment_and_shipment_locks_give_up_after_the_lock_timeout(
    product_factory, customer, admin_user, client_for, settings, held
):
    settings.STOCK_LOCK_TIMEOUT_MS = 200
    product = product_factory(stock_quantity=10)
    pending = order_place(customer=customer, lines=[OrderLine(quantity=1, product_id=product.pk)]).order
    payment = payment_create(order_id=pending.pk, actor=customer)
    paid = order_place(customer=customer, lines=[OrderLine(quantity=1, product_id=product.pk)]).order
    order_pay(order_id=paid.pk, actor=customer)
    shipment = shipment_create(order_id=paid.pk, actor=admin_user)
    take = {
        "order": lambda: list(Order.objects.select_for_update().filter(pk__in=[pending.pk, paid.pk])),
        "payment": lambda: Payment.objects.select_for_update().get(pk=payment.pk),
        "shipment": lambda: Shipment.objects.select_for_update().get(pk=shipment.pk),
    }[held]
    admin = client_for(admin_user)
    requests = {
        "order": [
            (admin, f"/orders/{pending.pk}/pay"),
            (admin, f"/orders/{pending.pk}/expire"),
            (admin, f"/orders/{pending.pk}/cancel"),
            (admin, f"/payments/{payment.pk}/succeed"),
            (admin, f"/orders/{paid.pk}/ship"),
            (admin, f"/shipments/{shipment.pk}/cancel"),
        ],
        "payment": [(admin, f"/payments/{payment.pk}/succeed"), (admin, f"/payments/{payment.pk}/fail")],
        "shipment": [(admin, f"/shipments/{shipment.pk}/ship"), (admin, f"/shipments/{shipment.pk}/cancel")],
    }[held]

    with held_in_another_transaction(take):
        responses = [client.post(path, {"reason": "x"}, format="json") for client, path in requests]

    for response in responses:
        assert_database_busy(response)
    assert (Payment.objects.count(), Shipment.objects.count()) == (2, 1)
    assert (Order.objects.get(pk=pending.pk).status, Order.objects.get(pk=paid.pk).status) == ("PENDING", "PAID")
    assert (Payment.objects.get(pk=payment.pk).status, Shipment.objects.get(pk=shipment.pk).status) == (
        "PENDING",
        "PENDING",
    )
    assert_stock_consistent()
