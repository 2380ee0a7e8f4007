"""Races through the real API and services: threads, each on its own PostgreSQL connection."""

import threading

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from config.db import DatabaseBusy
from inventory.models import Product
from inventory.selectors import ledger_mismatches
from inventory.services import StockLine
from orders.models import Order
from orders.services import order_place

pytestmark = pytest.mark.django_db(transaction=True)


def _clients(client_for, users) -> list[APIClient]:
    return [client_for(user) for user in users]


def _post_order(*, client: APIClient, items: list[dict], key: str | None = None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post("/orders", {"items": items}, format="json", **headers)


def test_last_items_race_sells_exactly_the_stock(product_factory, user_factory, client_for, in_threads):
    product = product_factory(stock_quantity=10)
    clients = _clients(client_for, user_factory.create_batch(30))

    responses = in_threads(
        _post_order, [{"client": c, "items": [{"product_id": product.pk, "quantity": 1}]} for c in clients]
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 10 + [400] * 20
    for refused in (r for r in responses if r.status_code == 400):
        error = refused.json()["error"]
        assert error["code"] == "insufficient_stock"
        assert error["details"]["lines"][0]["product_id"] == product.pk
    assert Order.objects.count() == 10
    assert Product.objects.values_list("stock_quantity", "reserved_quantity").get(pk=product.pk) == (0, 10)
    assert list(ledger_mismatches()) == []


def test_opposite_lock_order_orders_all_succeed(product_factory, user_factory, client_for, in_threads):
    a, b = product_factory(stock_quantity=100), product_factory(stock_quantity=100)
    clients = _clients(client_for, user_factory.create_batch(16))
    forward = [{"product_id": a.pk, "quantity": 1}, {"product_id": b.pk, "quantity": 2}]
    backward = list(reversed(forward))

    responses = in_threads(
        _post_order, [{"client": c, "items": forward if i % 2 else backward} for i, c in enumerate(clients)]
    )

    assert [r.status_code for r in responses] == [201] * 16
    assert Product.objects.values_list("stock_quantity", "reserved_quantity").get(pk=a.pk) == (84, 16)
    assert Product.objects.values_list("stock_quantity", "reserved_quantity").get(pk=b.pk) == (68, 32)
    assert list(ledger_mismatches()) == []


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
    assert Product.objects.values_list("stock_quantity", "reserved_quantity").get(pk=product.pk) == (48, 2)


def test_a_stuck_lock_answers_database_busy_instead_of_hanging(product_factory, customer, settings):
    settings.STOCK_LOCK_TIMEOUT_MS = 200
    product = product_factory(stock_quantity=5)
    locked, release = threading.Event(), threading.Event()

    def hold_lock() -> None:
        try:
            with transaction.atomic():
                Product.objects.select_for_update().get(pk=product.pk)
                locked.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    try:
        assert locked.wait(timeout=30)
        with pytest.raises(DatabaseBusy) as excinfo:
            order_place(customer=customer, lines=[StockLine(product.pk, 1)])
    finally:
        release.set()
        holder.join()

    assert excinfo.value.status == 503
    assert excinfo.value.details == {"reason": "lock_timeout"}
    assert not Order.objects.exists()
    assert Product.objects.get(pk=product.pk).stock_quantity == 5
