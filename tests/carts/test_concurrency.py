"""Races on one cart through the real API: threads, each on its own PostgreSQL connection."""

import pytest
from rest_framework.test import APIClient

from carts.models import Cart, CartItem, CartStatus
from orders.models import Order, OrderItem
from tests.stock import assert_stock_consistent, rows_of

pytestmark = pytest.mark.django_db(transaction=True)


def _post(*, client: APIClient, path: str, body: dict | None = None, key: str | None = None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(path, body, format="json", **headers)


def test_two_checkouts_of_one_cart_at_once_place_one_order(customer, client_for, cart_factory, widget, in_threads):
    cart = cart_factory(owner=customer, items=[(widget, 3)])
    clients = [client_for(customer) for _ in range(2)]

    responses = in_threads(_post, [{"client": c, "path": f"/carts/{cart.pk}/checkout"} for c in clients])

    assert sorted(r.status_code for r in responses) == [201, 409]
    order = Order.objects.get()
    placed = next(r for r in responses if r.status_code == 201)
    refused = next(r for r in responses if r.status_code == 409)
    assert placed.json()["id"] == str(order.pk)
    assert refused.json()["error"]["code"] == "cart_checked_out"
    assert refused.json()["error"]["details"] == {"cart_id": str(cart.pk), "order_id": str(order.pk)}
    cart.refresh_from_db()
    assert (cart.status, cart.order_id) == (CartStatus.CHECKED_OUT, order.pk)
    assert rows_of(widget) == {"MAIN/DEFAULT": (500, 3)}
    assert_stock_consistent()


def test_checkouts_with_one_idempotency_key_at_once_place_one_order(
    customer, client_for, cart_factory, widget, in_threads
):
    cart = cart_factory(owner=customer, items=[(widget, 3)])
    clients = [client_for(customer) for _ in range(6)]

    responses = in_threads(
        _post, [{"client": c, "path": f"/carts/{cart.pk}/checkout", "key": "checkout-once"} for c in clients]
    )

    order = Order.objects.get()
    originals = [r for r in responses if r.status_code == 201 and "Idempotent-Replayed" not in r]
    assert len(originals) == 1
    for response in responses:
        assert response.status_code in (201, 409), response.content
        if response.status_code == 201:
            assert response.json() == originals[0].json()
            assert response.json()["id"] == str(order.pk)
        else:
            assert response.json()["error"]["code"] == "idempotency_key_in_flight"
    assert Cart.objects.get(pk=cart.pk).order_id == order.pk
    assert rows_of(widget) == {"MAIN/DEFAULT": (500, 3)}
    assert_stock_consistent()


def test_adds_of_one_variant_at_once_all_count(customer, client_for, cart_factory, widget, in_threads):
    cart = cart_factory(owner=customer)
    clients = [client_for(customer) for _ in range(8)]
    body = {"variant_id": widget.pk, "quantity": 2}

    responses = in_threads(_post, [{"client": c, "path": f"/carts/{cart.pk}/items", "body": body} for c in clients])

    assert [r.status_code for r in responses] == [200] * 8
    assert list(CartItem.objects.values_list("variant_id", "quantity")) == [(widget.pk, 16)]
    assert rows_of(widget) == {"MAIN/DEFAULT": (500, 0)}


def test_an_add_racing_the_checkout_is_in_the_order_or_refused(customer, client_for, cart_factory, widget, in_threads):
    cart = cart_factory(owner=customer, items=[(widget, 2)])
    add, checkout = client_for(customer), client_for(customer)

    responses = in_threads(
        _post,
        [
            {"client": add, "path": f"/carts/{cart.pk}/items", "body": {"variant_id": widget.pk, "quantity": 1}},
            {"client": checkout, "path": f"/carts/{cart.pk}/checkout"},
        ],
    )

    assert responses[1].status_code == 201
    assert responses[0].status_code in (200, 409)
    ordered = OrderItem.objects.get().quantity
    assert ordered == (3 if responses[0].status_code == 200 else 2)
    assert list(CartItem.objects.values_list("quantity", flat=True)) == [ordered]  # the cart is what was ordered
    assert rows_of(widget) == {"MAIN/DEFAULT": (500, ordered)}
    assert_stock_consistent()
