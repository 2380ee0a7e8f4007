"""Races through the real API and services: threads, each on its own PostgreSQL connection."""

import pytest
from rest_framework.test import APIClient

from config.db import DatabaseBusy
from inventory.models import Stock
from inventory.services.receipts import ReceiptLine, stock_receive
from orders.exceptions import InvalidTransition
from orders.models import Order, OrderStatus, Payment, PaymentStatus
from orders.services.placement import OrderLine, order_place
from orders.services.workflow import order_cancel, order_pay, order_ship
from tests.locking import held_in_another_transaction
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
