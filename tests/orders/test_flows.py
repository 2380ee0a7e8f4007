"""Seed 002's "Cancel flow", "Payment success flow", "Payment failure flow" and "Shipment flow", end to end
through the API only."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(admin_client) -> dict:
    """Product exists in Catalog, stock exists in Inventory: ``{"variant_id", "sku"}``."""
    created = admin_client.post(
        "/products", {"name": "Flow Lamp", "sku": "LAMP-1", "price": "30.00", "stock_quantity": 10}
    )
    assert created.status_code == 201, created.content
    return {"variant_id": created.json()["variants"][0]["id"], "sku": "LAMP-1"}


def stock(admin_client, sku: str) -> tuple[int, int, int]:
    body = admin_client.get(f"/stock/{sku}").json()
    return body["on_hand"], body["reserved"], body["available"]


def reservation(admin_client, reservation_id: int) -> dict:
    response = admin_client.get(f"/stock/reservations/{reservation_id}")
    assert response.status_code == 200, response.content
    return response.json()


def place(customer_client, admin_client, catalog) -> tuple[dict, int]:
    """Order is created from a variant id and quantity, with the catalog's snapshot and an allocated reservation."""
    response = customer_client.post("/orders", {"items": [{"variant_id": catalog["variant_id"], "quantity": 3}]})
    assert response.status_code == 201, response.content
    order = response.json()
    (item,) = order["items"]
    assert (item["product_name"], item["sku"], item["unit_price_at_purchase"], item["line_total"]) == (
        "Flow Lamp",
        "LAMP-1",
        "30.00",
        "90.00",
    )
    assert order["status"] == "PENDING"
    held = reservation(admin_client, item["reservation_id"])
    assert (held["status"], held["order_id"]) == ("ALLOCATED", order["id"])
    assert stock(admin_client, catalog["sku"]) == (10, 3, 7)
    return order, item["reservation_id"]


def test_seed_002_cancel_flow(customer_client, admin_client, catalog):
    order, reservation_id = place(customer_client, admin_client, catalog)

    # Order is cancelled; its Inventory reservation is released.
    response = customer_client.post(f"/orders/{order['id']}/cancel")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "CANCELLED"
    assert reservation(admin_client, reservation_id)["status"] == "RELEASED"
    assert stock(admin_client, catalog["sku"]) == (10, 0, 10)
    assert customer_client.get(f"/orders/{order['id']}").json()["status"] == "CANCELLED"


def test_seed_002_payment_success_flow(customer_client, admin_client, catalog):
    order, reservation_id = place(customer_client, admin_client, catalog)

    # Payment is created for the order, with the order's amount.
    created = customer_client.post("/payments", {"order_id": order["id"]})
    assert created.status_code == 201, created.content
    payment = created.json()
    assert (payment["status"], payment["amount"], payment["order_id"]) == ("PENDING", "90.00", order["id"])

    # Payment is marked as Succeeded; the order is marked as Paid.
    succeeded = admin_client.post(f"/payments/{payment['id']}/succeed", {"provider_reference": "psp-123"})
    assert succeeded.status_code == 200, succeeded.content
    assert (succeeded.json()["status"], succeeded.json()["provider_reference"]) == ("SUCCEEDED", "psp-123")
    assert customer_client.get(f"/orders/{order['id']}").json()["status"] == "PAID"

    # The reservation stays allocated, is not committed yet, and on-hand stock is not decreased yet.
    assert reservation(admin_client, reservation_id)["status"] == "ALLOCATED"
    assert stock(admin_client, catalog["sku"]) == (10, 3, 7)
    assert customer_client.get(f"/payments/{payment['id']}").json()["status"] == "SUCCEEDED"


def test_seed_002_payment_failure_flow(customer_client, admin_client, catalog):
    order, reservation_id = place(customer_client, admin_client, catalog)

    # Payment is created and marked as Failed.
    payment = customer_client.post("/payments", {"order_id": order["id"]}).json()
    failed = admin_client.post(f"/payments/{payment['id']}/fail", {"reason": "card declined"})
    assert failed.status_code == 200, failed.content
    assert (failed.json()["status"], failed.json()["failure_reason"]) == ("FAILED", "card declined")

    # Payment remains terminal Failed.
    for action in ("succeed", "fail"):
        refused = admin_client.post(f"/payments/{payment['id']}/{action}", {"reason": "again"})
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "invalid_transition"
    assert customer_client.get(f"/payments/{payment['id']}").json()["status"] == "FAILED"

    # The failure does not touch the order, and commits no reservation.
    assert customer_client.get(f"/orders/{order['id']}").json()["status"] == "PENDING"
    assert reservation(admin_client, reservation_id)["status"] == "ALLOCATED"
    assert stock(admin_client, catalog["sku"]) == (10, 3, 7)


def test_seed_002_shipment_flow(customer_client, admin_client, manager_client, catalog):
    order, reservation_id = place(customer_client, admin_client, catalog)

    # Payment marks the order as Paid; the reservation remains allocated.
    payment = customer_client.post("/payments", {"order_id": order["id"]}).json()
    assert admin_client.post(f"/payments/{payment['id']}/succeed").status_code == 200
    assert reservation(admin_client, reservation_id)["status"] == "ALLOCATED"

    # Shipment is created for the Paid order (validated against the order).
    created = manager_client.post("/shipments", {"order_id": order["id"], "carrier": "DHL"})
    assert created.status_code == 201, created.content
    shipment = created.json()
    assert (shipment["status"], shipment["order_id"]) == ("PENDING", order["id"])

    # Shipment is shipped: the order is Shipped, its reservation committed, on-hand stock decreased.
    shipped = manager_client.post(f"/shipments/{shipment['id']}/ship", {"tracking_number": "DHL-0001"})
    assert shipped.status_code == 200, shipped.content
    assert (shipped.json()["status"], shipped.json()["tracking_number"]) == ("SHIPPED", "DHL-0001")
    assert customer_client.get(f"/orders/{order['id']}").json()["status"] == "SHIPPED"
    assert reservation(admin_client, reservation_id)["status"] == "COMMITTED"
    assert stock(admin_client, catalog["sku"]) == (7, 0, 7)
    assert customer_client.get(f"/shipments/{shipment['id']}").json()["status"] == "SHIPPED"
