"""Seed 002's "Cart flow", end to end through the API only."""

import pytest

pytestmark = pytest.mark.django_db


def test_seed_002_cart_flow(admin_client, customer_client, customer):
    # The catalog defines a variant and its price; inventory holds its stock.
    created = admin_client.post(
        "/products", {"name": "Flow Widget", "sku": "FLOW-1", "price": "25.00", "stock_quantity": 10}
    )
    other = admin_client.post(
        "/products", {"name": "Flow Gadget", "sku": "FLOW-2", "price": "4.00", "stock_quantity": 5}
    )
    assert created.status_code == other.status_code == 201
    variant_id, other_id = created.json()["variants"][0]["id"], other.json()["variants"][0]["id"]

    def stock(sku: str) -> tuple[int, int, int]:
        body = admin_client.get(f"/stock/{sku}").json()
        return body["on_hand"], body["reserved"], body["available"]

    # Cart is created.
    response = customer_client.post("/carts")
    assert response.status_code == 201
    cart_id = response.json()["id"]
    assert customer_client.get(f"/carts/{cart_id}").json()["items"] == []

    # A product variant is added with a quantity; adding it again increases the quantity.
    response = customer_client.post(f"/carts/{cart_id}/items", {"variant_id": variant_id, "quantity": 2})
    assert response.status_code == 200
    assert [(i["variant_id"], i["quantity"]) for i in response.json()["items"]] == [(variant_id, 2)]
    response = customer_client.post(f"/carts/{cart_id}/items", {"variant_id": variant_id, "quantity": 3})
    assert [(i["variant_id"], i["quantity"]) for i in response.json()["items"]] == [(variant_id, 5)]
    assert (response.json()["items"][0]["product_name"], response.json()["total"]) == ("Flow Widget", "125.00")

    # A line's quantity is updated.
    response = customer_client.put(f"/carts/{cart_id}/items/{variant_id}", {"quantity": 4})
    assert response.status_code == 200
    assert [(i["variant_id"], i["quantity"]) for i in response.json()["items"]] == [(variant_id, 4)]

    # A line is removed.
    customer_client.post(f"/carts/{cart_id}/items", {"variant_id": other_id, "quantity": 1})
    response = customer_client.delete(f"/carts/{cart_id}/items/{other_id}")
    assert response.status_code == 200
    assert [(i["variant_id"], i["quantity"]) for i in response.json()["items"]] == [(variant_id, 4)]

    # The cart is cleared.
    response = customer_client.post(f"/carts/{cart_id}/clear")
    assert (response.status_code, response.json()["items"], response.json()["total"]) == (200, [], "0.00")

    # Nothing so far reserved or moved any stock.
    assert (stock("FLOW-1"), stock("FLOW-2")) == ((10, 0, 10), (5, 0, 5))

    # Add and check out: an order at the catalog's price, its units reserved by inventory.
    customer_client.post(f"/carts/{cart_id}/items", {"variant_id": variant_id, "quantity": 3})
    response = customer_client.post(f"/carts/{cart_id}/checkout")
    assert response.status_code == 201
    order = response.json()
    assert (order["status"], order["subtotal"], order["customer_email"]) == ("PENDING", "75.00", customer.email)
    (item,) = order["items"]
    assert (item["variant_id"], item["sku"], item["quantity"], item["unit_price_at_purchase"]) == (
        variant_id,
        "FLOW-1",
        3,
        "25.00",
    )
    assert item["reservation_id"] is not None
    assert stock("FLOW-1") == (10, 3, 7)
    assert customer_client.get(f"/orders/{order['id']}").json()["items"] == order["items"]

    # The cart is now CHECKED_OUT with its order, and takes no more changes.
    cart = customer_client.get(f"/carts/{cart_id}").json()
    assert (cart["status"], cart["order_id"]) == ("CHECKED_OUT", order["id"])
    refused = customer_client.post(f"/carts/{cart_id}/items", {"variant_id": variant_id, "quantity": 1})
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "cart_checked_out")
    assert stock("FLOW-1") == (10, 3, 7)
