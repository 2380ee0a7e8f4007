import uuid
from decimal import Decimal

import pytest
from django.core.management import call_command

from catalog.models import Variant
from orders.models import Order, OrderStatus, Payment, PaymentStatus, Shipment
from tests.assertions import error_of, field_errors
from tests.stock import stock_of

pytestmark = pytest.mark.django_db

ORDER_FIELDS = {
    "id",
    "status",
    "subtotal",
    "shipping_amount",
    "total_amount",
    "created_at",
    "paid_at",
    "shipped_at",
    "cancelled_at",
    "items",
    "currency",
    "customer_email",
    "expired_at",
}


@pytest.fixture
def widget(product_factory):
    return product_factory(sku="WIDGET-A", name="Widget A", price=Decimal("150.00"), stock_quantity=500)


@pytest.fixture
def gadget(product_factory):
    return product_factory(sku="GADGET-B", name="Gadget B", price=Decimal("9.99"), stock_quantity=10)


def variant_of(product) -> dict:
    return {"variant_id": Variant.objects.get(product=product).pk, "product_id": product.pk}


def place(client, *lines, **headers):
    items = [{"product_id": product.pk, "quantity": quantity} for product, quantity in lines]
    return client.post("/orders", {"items": items}, **headers)


# --- POST /orders


def test_place_order_returns_the_snapshot(customer_client, widget, gadget, settings):
    settings.SHIPPING_FLAT_RATE = Decimal("7.50")

    response = place(customer_client, (widget, 5), (gadget, 1), (widget, 1))

    assert response.status_code == 201
    body = response.json()
    assert set(body) == ORDER_FIELDS
    assert body["status"] == "PENDING"
    assert (body["subtotal"], body["shipping_amount"], body["total_amount"]) == ("909.99", "7.50", "917.49")
    items = Order.objects.get(pk=body["id"]).items.order_by("sku")
    assert body["items"] == [
        {
            "product_id": widget.pk,
            "variant_id": Variant.objects.get(product=widget).pk,
            "reservation_id": items.get(sku="WIDGET-A").reservation_id,
            "product_name": "Widget A",
            "variant_name": "",
            "sku": "WIDGET-A",
            "quantity": 6,
            "unit_price_at_purchase": "150.00",
            "line_total": "900.00",
        },
        {
            "product_id": gadget.pk,
            "variant_id": Variant.objects.get(product=gadget).pk,
            "reservation_id": items.get(sku="GADGET-B").reservation_id,
            "product_name": "Gadget B",
            "variant_name": "",
            "sku": "GADGET-B",
            "quantity": 1,
            "unit_price_at_purchase": "9.99",
            "line_total": "9.99",
        },
    ]
    assert stock_of(widget) == (494, 6)
    assert Order.objects.get(pk=body["id"]).user.email == customer_client.get("/auth/me").json()["email"]


def test_place_order_with_trailing_slash(customer_client, widget):
    response = customer_client.post("/orders/", {"items": [{"product_id": widget.pk, "quantity": 1}]})

    assert response.status_code == 201


@pytest.mark.parametrize("role", ["admin", "inventory_manager"])
def test_staff_do_not_buy(client_for, admin_user, inventory_manager, widget, role):
    client = client_for(admin_user if role == "admin" else inventory_manager)

    response = place(client, (widget, 1))

    assert response.status_code == 403
    assert error_of(response)["code"] == "customer_required"
    assert not Order.objects.exists()
    assert stock_of(widget) == (500, 0)


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", "/orders"), ("get", "/orders"), ("get", "/orders/{id}"), ("post", "/orders/{id}/cancel")],
)
def test_orders_need_a_token(api_client, customer, place_order, widget, method, path):
    order = place_order(customer, [(widget, 1)])

    response = getattr(api_client, method)(
        path.format(id=order.pk), {"items": [{"product_id": widget.pk, "quantity": 1}]} if method == "post" else None
    )

    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert Order.objects.get().status == OrderStatus.PENDING
    assert stock_of(widget) == (499, 1)


@pytest.mark.parametrize(
    "body",
    [
        {"items": []},
        {},
        {"items": [{"product_id": 1, "quantity": 0}]},
        {"items": [{"product_id": 1, "quantity": -2}]},
        {"items": [{"quantity": 1}]},
        {"items": [{"product_id": "one", "quantity": 1}]},
        {"items": [{"product_id": 1, "quantity": 1.5}]},
        {"items": [{"product_id": 1, "quantity": "many"}]},
        {"items": [{"product_id": 1}]},
        {"items": [{"product_id": 1, "quantity": 1_000_001}]},
        {"items": [5]},
        {"items": "everything"},
    ],
)
def test_place_order_rejects_malformed_items(customer_client, widget, body):
    response = customer_client.post("/orders", body)

    assert "items" in field_errors(response)
    assert not Order.objects.exists()
    assert stock_of(widget) == (500, 0)


def test_place_order_rejects_malformed_json(customer_client, widget):
    response = customer_client.post("/orders", data='{"items": [', content_type="application/json")

    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"
    assert not Order.objects.exists()
    assert stock_of(widget) == (500, 0)


def test_empty_order_names_the_items_field(customer_client):
    response = customer_client.post("/orders", {"items": []})

    assert response.status_code == 400
    assert error_of(response)["details"]["fields"]["items"] == {"non_field_errors": ["This list may not be empty."]}


@pytest.mark.parametrize(("quantity", "shipping"), [(1000, "0.00"), (100, "7.50")])
def test_place_order_too_large_for_the_amount_columns_is_a_client_error(
    customer_client, product_factory, settings, quantity, shipping
):
    # Order amounts hold 14 digits (< 10**12): 1000 x 9,999,999,999.99 overflows the line and the subtotal;
    # 100 x 9,999,999,999.99 = 999,999,999,999.00 fits, but adding 7.50 shipping overflows the total.
    settings.SHIPPING_FLAT_RATE = Decimal(shipping)
    luxury = product_factory(price=Decimal("9999999999.99"), stock_quantity=1000)

    response = place(customer_client, (luxury, quantity))

    assert response.status_code == 400, response.content
    assert error_of(response)["code"] != "server_error"
    assert not Order.objects.exists()
    assert stock_of(luxury) == (1000, 0)


def test_place_order_names_unknown_and_inactive_products(customer_client, widget, product_factory):
    inactive = product_factory(is_active=False)

    response = place(customer_client, (widget, 1), (inactive, 1))
    unknown = customer_client.post("/orders", {"items": [{"product_id": 987654, "quantity": 1}]})

    assert response.status_code == 400
    assert error_of(response)["code"] == "products_unavailable"
    assert response.json()["error"]["details"]["product_ids"] == [inactive.pk]
    assert unknown.status_code == 400
    assert error_of(unknown) | {"request_id": None} == {
        "code": "products_unavailable",
        "message": "Some products do not exist or are not for sale.",
        "details": {"product_ids": [987654]},
        "request_id": None,
    }
    assert stock_of(widget) == (500, 0)
    assert not Order.objects.exists()


def test_place_order_lists_every_short_line_and_changes_nothing(customer_client, widget, gadget, product_factory):
    scarce = product_factory(sku="SCARCE", stock_quantity=1)

    response = place(customer_client, (widget, 1), (gadget, 11), (scarce, 2))

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "insufficient_stock"
    assert error["details"]["lines"] == [
        {**variant_of(gadget), "sku": "GADGET-B", "requested": 11, "available": 10},
        {**variant_of(scarce), "sku": "SCARCE", "requested": 2, "available": 1},
    ]
    assert (stock_of(widget), stock_of(gadget), stock_of(scarce)) == ((500, 0), (10, 0), (1, 0))
    assert not Order.objects.exists()


# --- Idempotency-Key


def test_same_idempotency_key_and_body_replays_the_order(customer_client, widget):
    first = place(customer_client, (widget, 2), HTTP_IDEMPOTENCY_KEY="order-123")

    again = place(customer_client, (widget, 1), (widget, 1), HTTP_IDEMPOTENCY_KEY="order-123")

    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert stock_of(widget) == (498, 2)
    assert Order.objects.count() == 1


def test_idempotent_replay_repeats_the_original_body_after_the_order_moved_on(customer_client, widget):
    first = place(customer_client, (widget, 2), HTTP_IDEMPOTENCY_KEY="order-456")
    customer_client.post(f"/orders/{first.json()['id']}/pay")

    again = place(customer_client, (widget, 2), HTTP_IDEMPOTENCY_KEY="order-456")

    assert again.status_code == 201
    assert again.json() == first.json()
    assert customer_client.get(f"/orders/{first.json()['id']}").json()["status"] == "PAID"


def test_same_idempotency_key_with_another_body_is_422(customer_client, widget):
    place(customer_client, (widget, 2), HTTP_IDEMPOTENCY_KEY="order-123")

    response = place(customer_client, (widget, 3), HTTP_IDEMPOTENCY_KEY="order-123")

    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "idempotency_key_reused"
    assert error["details"] == {"key": "order-123"}
    assert stock_of(widget) == (498, 2)
    assert Order.objects.count() == 1


def test_idempotency_keys_belong_to_one_customer(customer_client, client_for, user_factory, widget):
    other = client_for(user_factory())
    mine = place(customer_client, (widget, 1), HTTP_IDEMPOTENCY_KEY="shared")

    theirs = place(other, (widget, 1), HTTP_IDEMPOTENCY_KEY="shared")

    assert theirs.status_code == 201
    assert theirs.json()["id"] != mine.json()["id"]
    assert stock_of(widget) == (498, 2)


@pytest.mark.parametrize("key", ["x" * 300, "x" * 256, " padded", "padded ", "tab\tkey", ""])
def test_invalid_idempotency_key_is_400(customer_client, widget, key):
    response = place(customer_client, (widget, 1), HTTP_IDEMPOTENCY_KEY=key)

    assert field_errors(response) == {"Idempotency-Key": ["Must be 1 to 255 printable characters."]}
    assert not Order.objects.exists()
    assert stock_of(widget) == (500, 0)


def test_longest_idempotency_key_is_accepted(customer_client, widget):
    assert place(customer_client, (widget, 1), HTTP_IDEMPOTENCY_KEY="k" * 255).status_code == 201


def test_idempotency_key_of_a_failed_request_is_not_spent(customer_client, widget):
    refused = place(customer_client, (widget, 501), HTTP_IDEMPOTENCY_KEY="retry-me")

    placed = place(customer_client, (widget, 2), HTTP_IDEMPOTENCY_KEY="retry-me")

    assert error_of(refused)["code"] == "insufficient_stock"
    assert placed.status_code == 201
    assert "Idempotent-Replayed" not in placed
    assert Order.objects.get().idempotency_key == "retry-me"
    assert stock_of(widget) == (498, 2)


# --- GET /orders, GET /orders/{id}


def test_customers_list_only_their_orders(customer_client, client_for, user_factory, customer, place_order, widget):
    mine = [place_order(customer, [(widget, 1)]) for _ in range(2)]
    other_customer = user_factory()
    theirs = place_order(other_customer, [(widget, 1)])

    body = customer_client.get("/orders").json()

    assert set(body) == {"count", "next", "previous", "results"}
    assert [o["id"] for o in body["results"]] == [str(o.pk) for o in reversed(mine)]
    assert str(theirs.pk) not in {o["id"] for o in body["results"]}


@pytest.mark.parametrize("role", ["admin", "inventory_manager"])
def test_staff_list_all_orders(client_for, admin_user, inventory_manager, user_factory, place_order, widget, role):
    orders = [place_order(user_factory(), [(widget, 1)]) for _ in range(3)]
    client = client_for(admin_user if role == "admin" else inventory_manager)

    body = client.get("/orders", {"page_size": 2}).json()
    second = client.get(body["next"]).json()

    assert body["count"] == 3
    assert body["previous"] is None
    assert [o["id"] for o in body["results"]] == [str(orders[2].pk), str(orders[1].pk)]
    assert [o["id"] for o in second["results"]] == [str(orders[0].pk)]
    assert second["next"] is None


def test_list_orders_filters_by_status_and_date(admin_client, customer, place_order, widget):
    pending = place_order(customer, [(widget, 1)])
    paid = place_order(customer, [(widget, 1)])
    admin_client.post(f"/orders/{paid.pk}/pay")

    by_status = admin_client.get("/orders", {"status": "paid"}).json()["results"]
    by_upper = admin_client.get("/orders", {"status": "PENDING"}).json()["results"]
    by_lower = admin_client.get("/orders", {"status": "pending"}).json()["results"]
    none_shipped = admin_client.get("/orders/", {"status": "SHIPPED"}).json()["count"]
    after = admin_client.get("/orders", {"created_after": pending.created_at.isoformat()}).json()["count"]
    before = admin_client.get("/orders", {"created_before": "2000-01-01T00:00:00Z"}).json()["count"]

    far_offset = admin_client.get("/orders", {"created_after": "3850-05-17T00:40:45+21:08"})
    assert far_offset.status_code == 200  # found by the fuzzer: PostgreSQL refuses offsets beyond 15:59
    assert far_offset.json()["count"] == 0
    assert [o["id"] for o in by_status] == [str(paid.pk)]
    assert [o["id"] for o in by_upper] == [o["id"] for o in by_lower] == [str(pending.pk)]
    assert none_shipped == 0
    assert (after, before) == (2, 0)


@pytest.mark.parametrize(
    "params",
    [{"status": "LOST"}, {"created_after": "yesterday"}, {"created_before": "9999-12-31T23:59:59-23:00"}],
)
def test_list_orders_rejects_invalid_filters(admin_client, params):
    response = admin_client.get("/orders", params)

    assert set(params) <= set(field_errors(response))


def test_get_order_for_owner_and_staff(customer_client, manager_client, customer, place_order, widget):
    order = place_order(customer, [(widget, 2)])

    for client in (customer_client, manager_client):
        response = client.get(f"/orders/{order.pk}")
        assert response.status_code == 200
        assert response.json()["items"][0]["quantity"] == 2


def test_get_someone_elses_order_is_404(client_for, user_factory, customer, place_order, widget):
    order = place_order(customer, [(widget, 1)])

    response = client_for(user_factory()).get(f"/orders/{order.pk}")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


@pytest.mark.parametrize(
    "path",
    [f"/orders/{uuid.uuid4()}", f"/orders/{uuid.uuid4()}/", "/orders/not-a-uuid", "/orders/123", "/orders/" + "-" * 36],
)
def test_get_unknown_order_is_404(customer_client, admin_client, path):
    for client in (customer_client, admin_client):
        response = client.get(path)
        assert response.status_code == 404
        assert error_of(response)["code"] == "not_found"


def test_customers_list_never_shows_other_users_orders(client_for, user_factory, place_order, widget):
    customers = [user_factory() for _ in range(3)]
    placed = {c.pk: {str(place_order(c, [(widget, 1)]).pk) for _ in range(2)} for c in customers}

    for c in customers:
        seen = {o["id"] for o in client_for(c).get("/orders", {"page_size": 100}).json()["results"]}
        assert seen == placed[c.pk]


def test_order_keeps_its_price_after_the_product_price_changes(
    customer_client, admin_client, customer, place_order, widget
):
    order = place_order(customer, [(widget, 2)])

    patched = admin_client.patch(f"/products/{widget.pk}", {"price": "999.00", "name": "Renamed"})

    assert patched.status_code == 200
    assert Variant.objects.get(product=widget).price == Decimal("999.00")
    body = customer_client.get(f"/orders/{order.pk}").json()
    listed = customer_client.get("/orders").json()["results"][0]
    assert body["items"][0]["unit_price_at_purchase"] == listed["items"][0]["unit_price_at_purchase"] == "150.00"
    assert body["items"][0]["line_total"] == "300.00"
    assert body["items"][0]["product_name"] == "Widget A"
    assert body["total_amount"] == listed["total_amount"] == "300.00"
    assert place(customer_client, (widget, 1)).json()["items"][0]["unit_price_at_purchase"] == "999.00"


# --- the workflow


def test_owner_pays(customer_client, customer, place_order, widget):
    order = place_order(customer, [(widget, 1)])

    response = customer_client.post(f"/orders/{order.pk}/pay")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "PAID"
    assert body["paid_at"] is not None
    assert Payment.objects.get(order=order).status == PaymentStatus.SUCCEEDED


def test_admin_pays_for_a_customer(admin_client, customer, place_order, widget):
    order = place_order(customer, [(widget, 1)])

    assert admin_client.post(f"/orders/{order.pk}/pay/").json()["status"] == "PAID"


def test_inventory_manager_cannot_pay(manager_client, customer, place_order, widget):
    order = place_order(customer, [(widget, 1)])

    response = manager_client.post(f"/orders/{order.pk}/pay")

    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING
    assert not Payment.objects.exists()


@pytest.mark.parametrize("action", ["pay", "cancel"])
def test_another_customer_cannot_pay_or_cancel(client_for, user_factory, customer, place_order, widget, action):
    order = place_order(customer, [(widget, 1)])

    response = client_for(user_factory()).post(f"/orders/{order.pk}/{action}")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING
    assert not Payment.objects.exists()
    assert stock_of(widget) == (499, 1)


def test_declined_payment_is_402_and_the_order_stays_pending(customer_client, customer, place_order, widget, settings):
    settings.MOCK_PAYMENT_FAIL = True
    order = place_order(customer, [(widget, 1)])

    response = customer_client.post(f"/orders/{order.pk}/pay")

    assert response.status_code == 402
    error = error_of(response)
    assert error["code"] == "payment_declined"
    payment = Payment.objects.get(order=order)
    assert payment.status == PaymentStatus.FAILED
    assert error["details"] == {"order_id": str(order.pk), "payment_id": payment.pk}
    order.refresh_from_db()
    assert (order.status, order.paid_at) == (OrderStatus.PENDING, None)
    assert stock_of(widget) == (499, 1)


def test_a_declined_order_can_be_paid_later(customer_client, customer, place_order, widget, settings):
    order = place_order(customer, [(widget, 1)])
    settings.MOCK_PAYMENT_FAIL = True
    assert customer_client.post(f"/orders/{order.pk}/pay").status_code == 402
    settings.MOCK_PAYMENT_FAIL = False

    response = customer_client.post(f"/orders/{order.pk}/pay")

    assert response.status_code == 200
    assert sorted(Payment.objects.filter(order=order).values_list("status", flat=True)) == ["FAILED", "SUCCEEDED"]


@pytest.mark.parametrize("role", ["admin", "inventory_manager"])
def test_staff_ship_a_paid_order(client_for, admin_user, inventory_manager, customer, place_order, widget, role):
    order = place_order(customer, [(widget, 3)])
    client = client_for(admin_user if role == "admin" else inventory_manager)
    client_for(customer).post(f"/orders/{order.pk}/pay")

    response = client.post(f"/orders/{order.pk}/ship")

    assert response.status_code == 200
    assert response.json()["status"] == "SHIPPED"
    assert response.json()["shipped_at"] is not None
    assert stock_of(widget) == (497, 0)
    assert Shipment.objects.filter(order=order, carrier="flat-rate").exists()


def test_customer_cannot_ship(customer_client, customer, place_order, widget):
    order = place_order(customer, [(widget, 1)])
    customer_client.post(f"/orders/{order.pk}/pay")

    response = customer_client.post(f"/orders/{order.pk}/ship")

    assert response.status_code == 403
    assert error_of(response)["code"] == "staff_required"
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert not Shipment.objects.exists()
    assert stock_of(widget) == (499, 1)


def test_shipping_a_pending_order_is_409(manager_client, customer, place_order, widget):
    order = place_order(customer, [(widget, 1)])

    response = manager_client.post(f"/orders/{order.pk}/ship")

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "invalid_transition"
    assert error["details"]["status"] == "PENDING"
    assert "PENDING" in error["message"]
    assert not Shipment.objects.exists()
    assert stock_of(widget) == (499, 1)


@pytest.mark.parametrize("who", ["owner", "admin", "manager"])
def test_cancel_pending_restores_stock(
    customer_client, admin_client, manager_client, customer, place_order, widget, who
):
    order = place_order(customer, [(widget, 4)])
    client = {"owner": customer_client, "admin": admin_client, "manager": manager_client}[who]

    response = client.post(f"/orders/{order.pk}/cancel")

    assert response.status_code == 200
    assert response.json()["status"] == "CANCELLED"
    assert response.json()["cancelled_at"] is not None
    assert stock_of(widget) == (500, 0)
    assert not Payment.objects.exists()


def test_cancel_paid_is_staff_only_and_refunds(customer_client, manager_client, customer, place_order, widget):
    order = place_order(customer, [(widget, 4)])
    customer_client.post(f"/orders/{order.pk}/pay")

    refused = customer_client.post(f"/orders/{order.pk}/cancel")
    accepted = manager_client.post(f"/orders/{order.pk}/cancel")

    assert refused.status_code == 403
    assert error_of(refused)["code"] == "transition_forbidden"
    assert error_of(refused)["details"] == {"action": "cancel"}
    assert accepted.status_code == 200
    assert accepted.json()["status"] == "CANCELLED"
    assert Payment.objects.get(order=order).status == PaymentStatus.REFUNDED
    assert stock_of(widget) == (500, 0)


@pytest.mark.parametrize(
    ("setup", "action", "status"),
    [
        (["pay"], "pay", "PAID"),
        ([], "ship", "PENDING"),
        (["pay", "ship"], "pay", "SHIPPED"),
        (["pay", "ship"], "cancel", "SHIPPED"),
        (["pay", "ship"], "ship", "SHIPPED"),
        (["cancel"], "cancel", "CANCELLED"),
        (["cancel"], "pay", "CANCELLED"),
        (["cancel"], "ship", "CANCELLED"),
        (["pay", "cancel"], "cancel", "CANCELLED"),
    ],
)
def test_refused_transitions_are_409(admin_client, customer, place_order, widget, setup, action, status):
    order = place_order(customer, [(widget, 1)])
    for step in setup:
        assert admin_client.post(f"/orders/{order.pk}/{step}").status_code == 200

    stock_before, payments_before = stock_of(widget), list(Payment.objects.values_list("status", flat=True))

    response = admin_client.post(f"/orders/{order.pk}/{action}")

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "invalid_transition"
    assert error["details"] == {"order_id": str(order.pk), "status": status, "action": action}
    assert status in error["message"]
    assert Order.objects.get(pk=order.pk).status == status
    assert stock_of(widget) == stock_before
    assert list(Payment.objects.values_list("status", flat=True)) == payments_before


def test_workflow_actions_reject_get(customer_client, customer, place_order, widget):
    order = place_order(customer, [(widget, 1)])

    assert customer_client.get(f"/orders/{order.pk}/pay").status_code == 405


def test_ledger_is_balanced_after_the_whole_workflow(
    customer_client, admin_client, customer, place_order, widget, gadget
):
    shipped = place_order(customer, [(widget, 2), (gadget, 1)])
    cancelled = place_order(customer, [(widget, 5)])
    refunded = place_order(customer, [(widget, 7)])
    pending = place_order(customer, [(gadget, 3)])
    for step in ("pay", "ship"):
        assert admin_client.post(f"/orders/{shipped.pk}/{step}").status_code == 200
    assert customer_client.post(f"/orders/{cancelled.pk}/cancel").status_code == 200
    for step in ("pay", "cancel"):
        assert admin_client.post(f"/orders/{refunded.pk}/{step}").status_code == 200
    assert place(customer_client, (widget, 1000)).status_code == 400
    assert place(customer_client, (gadget, 1), HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    assert place(customer_client, (gadget, 1), HTTP_IDEMPOTENCY_KEY="k").status_code == 201

    call_command("check_stock")
    assert stock_of(widget) == (498, 0)
    assert stock_of(gadget) == (5, 4)
    assert Order.objects.get(pk=pending.pk).status == OrderStatus.PENDING


def test_order_list_query_count_does_not_grow_with_orders(
    admin_client, customer, place_order, widget, gadget, django_assert_max_num_queries
):
    counts = []
    for _ in range(2):
        for _ in range(5):
            place_order(customer, [(widget, 1), (gadget, 1)])
        with django_assert_max_num_queries(11) as captured:  # auth 1, throttle cache 6, count, page, items
            assert admin_client.get("/orders", {"page_size": 100}).status_code == 200
        counts.append(len(captured))

    assert counts[0] == counts[1]


# --- lines by product_id, variant_id or sku (catalog variants)

LINE_KEY_MESSAGE = "Name the item by exactly one of product_id, variant_id or sku."


@pytest.fixture
def shirt(draft_product_factory, variant_factory):
    """A PUBLISHED product with two variants, ``SHIRT-S`` named "Small" and ``SHIRT-M`` unnamed, 20 units each."""
    from catalog.services.products import product_publish
    from inventory.services.locations import default_location
    from inventory.services.receipts import ReceiptLine, stock_receive

    product = draft_product_factory(name="Shirt")
    small = variant_factory(product=product, sku="SHIRT-S", name="Small", price=Decimal("20.00"))
    medium = variant_factory(product=product, sku="SHIRT-M", price=Decimal("22.00"))
    product_publish(product_id=product.pk, actor=None)
    location = default_location()
    stock_receive(
        warehouse_id=location.warehouse_id,
        lines=[ReceiptLine("SHIRT-S", 20, location.pk), ReceiptLine("SHIRT-M", 20, location.pk)],
        actor=None,
    )
    return product, small, medium


def nothing_placed() -> None:
    from inventory.models import Reservation, StockMovement

    assert not Order.objects.exists()
    assert not Reservation.objects.exists()
    assert not StockMovement.objects.exclude(kind="RECEIPT").exists()


def test_place_order_by_variant_id_sku_and_product_id(customer_client, widget, shirt):
    product, small, medium = shirt

    response = customer_client.post(
        "/orders",
        {
            "items": [
                {"variant_id": small.pk, "quantity": 2},
                {"sku": "shirt-m", "quantity": 3},
                {"product_id": widget.pk, "quantity": 1},
            ]
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    reservations = dict(Order.objects.get(pk=body["id"]).items.values_list("sku", "reservation_id"))
    assert sorted(body["items"], key=lambda item: item["sku"]) == [
        {
            "product_id": product.pk,
            "variant_id": medium.pk,
            "reservation_id": reservations["SHIRT-M"],
            "product_name": "Shirt",
            "variant_name": "",
            "sku": "SHIRT-M",
            "quantity": 3,
            "unit_price_at_purchase": "22.00",
            "line_total": "66.00",
        },
        {
            "product_id": product.pk,
            "variant_id": small.pk,
            "reservation_id": reservations["SHIRT-S"],
            "product_name": "Shirt",
            "variant_name": "Small",
            "sku": "SHIRT-S",
            "quantity": 2,
            "unit_price_at_purchase": "20.00",
            "line_total": "40.00",
        },
        {
            "product_id": widget.pk,
            "variant_id": Variant.objects.get(product=widget).pk,
            "reservation_id": reservations["WIDGET-A"],
            "product_name": "Widget A",
            "variant_name": "",
            "sku": "WIDGET-A",
            "quantity": 1,
            "unit_price_at_purchase": "150.00",
            "line_total": "150.00",
        },
    ]
    assert body["subtotal"] == "256.00"
    assert None not in reservations.values()
    assert customer_client.get(f"/orders/{body['id']}").json()["items"] == body["items"]
    assert stock_of(product) == (35, 5)


def test_place_order_merges_one_variant_named_by_product_id_and_sku(customer_client, widget):
    response = customer_client.post(
        "/orders", {"items": [{"product_id": widget.pk, "quantity": 2}, {"sku": "Widget-a", "quantity": 3}]}
    )

    assert response.status_code == 201, response.content
    (item,) = response.json()["items"]
    assert (item["variant_id"], item["sku"], item["quantity"], item["line_total"]) == (
        Variant.objects.get(product=widget).pk,
        "WIDGET-A",
        5,
        "750.00",
    )
    assert stock_of(widget) == (495, 5)


def test_place_order_by_product_id_of_a_product_with_several_variants_is_400(customer_client, widget, shirt):
    product, small, _ = shirt

    response = customer_client.post(
        "/orders",
        {
            "items": [
                {"product_id": widget.pk, "quantity": 1},
                {"product_id": product.pk, "quantity": 1},
                {"variant_id": small.pk, "quantity": 1},
            ]
        },
    )

    assert response.status_code == 400
    assert error_of(response) | {"request_id": None} == {
        "code": "variant_required",
        "message": "Some products have several variants: order them by variant_id or sku.",
        "details": {"product_ids": [product.pk]},
        "request_id": None,
    }
    nothing_placed()
    assert (stock_of(widget), stock_of(product)) == ((500, 0), (40, 0))


@pytest.mark.parametrize(
    "line",
    [
        {"quantity": 1},
        {"product_id": 1, "sku": "SHIRT-S", "quantity": 1},
        {"variant_id": 1, "sku": "SHIRT-S", "quantity": 1},
        {"product_id": 1, "variant_id": 1, "quantity": 1},
        {"product_id": 1, "variant_id": 1, "sku": "SHIRT-S", "quantity": 1},
    ],
    ids=["none", "product-and-sku", "variant-and-sku", "product-and-variant", "all-three"],
)
def test_place_order_line_naming_two_keys_or_none_is_400(customer_client, shirt, line):
    response = customer_client.post("/orders", {"items": [{"sku": "SHIRT-M", "quantity": 1}, line]})

    assert response.status_code == 400
    assert error_of(response) | {"request_id": None} == {
        "code": "validation_error",
        "message": "Invalid input.",
        "details": {"fields": {"items": {"1": {"non_field_errors": [LINE_KEY_MESSAGE]}}}},
        "request_id": None,
    }
    nothing_placed()


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"sku": "", "quantity": 1}, "sku"),
        ({"sku": "two words", "quantity": 1}, "sku"),
        ({"sku": "X" * 65, "quantity": 1}, "sku"),
        ({"variant_id": 0, "quantity": 1}, "variant_id"),
        ({"variant_id": "one", "quantity": 1}, "variant_id"),
        ({"variant_id": None, "quantity": 1}, "variant_id"),
    ],
)
def test_place_order_rejects_malformed_variant_ids_and_skus(customer_client, shirt, line, field):
    response = customer_client.post("/orders", {"items": [line]})

    errors = field_errors(response)
    assert list(errors["items"]) == ["0"]
    assert list(errors["items"]["0"]) == [field]
    nothing_placed()


def test_place_order_names_draft_archived_and_inactive_lines(
    customer_client, admin_client, widget, shirt, product_factory, variant_factory
):
    _, small, medium = shirt
    draft_variant = variant_factory(sku="DRAFT-1")  # its product is a DRAFT
    archived = product_factory()
    assert admin_client.post(f"/products/{archived.pk}/archive").status_code == 200
    assert admin_client.patch(f"/variants/{medium.pk}", {"is_active": False}).status_code == 200

    response = customer_client.post(
        "/orders",
        {
            "items": [
                {"product_id": widget.pk, "quantity": 1},
                {"variant_id": draft_variant.pk, "quantity": 1},
                {"product_id": archived.pk, "quantity": 1},
                {"sku": "shirt-m", "quantity": 1},
                {"variant_id": small.pk, "quantity": 1},
            ]
        },
    )

    assert response.status_code == 400
    assert error_of(response) | {"request_id": None} == {
        "code": "products_unavailable",
        "message": "Some products do not exist or are not for sale.",
        "details": {"product_ids": [archived.pk], "variant_ids": [draft_variant.pk], "skus": ["SHIRT-M"]},
        "request_id": None,
    }
    assert not Order.objects.exists()
    assert stock_of(widget) == (500, 0)


def test_cancel_and_ship_settle_the_items_reservations(customer_client, admin_client, widget, shirt):
    from inventory.models import Reservation

    _, small, _ = shirt
    items = [{"product_id": widget.pk, "quantity": 2}, {"variant_id": small.pk, "quantity": 1}]
    shipped = customer_client.post("/orders", {"items": items}).json()
    cancelled = customer_client.post("/orders", {"items": items}).json()

    paid = admin_client.post(f"/orders/{shipped['id']}/pay").json()
    held_while_paid = {Reservation.objects.get(pk=i["reservation_id"]).status for i in paid["items"]}
    admin_client.post(f"/orders/{shipped['id']}/ship")
    customer_client.post(f"/orders/{cancelled['id']}/cancel")

    assert held_while_paid == {"ALLOCATED"}
    for order, status in ((shipped, "COMMITTED"), (cancelled, "RELEASED")):
        ids = [item["reservation_id"] for item in order["items"]]
        assert set(Reservation.objects.filter(pk__in=ids).values_list("status", flat=True)) == {status}
    assert stock_of(widget) == (498, 0)
    call_command("check_stock")
