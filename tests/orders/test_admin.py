"""Orders in the admin console: read-only records; the ship and cancel actions call the services."""

import pytest

from inventory.models import MovementKind, ReservationStatus, StockMovement
from orders.models import Order, OrderStatus, Payment, PaymentStatus, Shipment
from orders.services.workflow import order_pay
from tests.admin_helpers import messages_of
from tests.stock import assert_stock_consistent, only_variant, stock_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(place_order, customer, product):
    return place_order(customer, [(product, 3)])


def run_action(browser, action: str, *orders):
    return browser.post(
        "/admin/orders/order/", {"action": action, "_selected_action": [str(o.pk) for o in orders]}, follow=True
    )


def test_order_changelist_lists_and_searches(staff_browser, order, customer, user_factory, place_order, product):
    other = place_order(user_factory(email="someone@example.com"), [(product, 1)])

    page = staff_browser.get("/admin/orders/order/")
    by_email = staff_browser.get("/admin/orders/order/", {"q": customer.email})
    by_id = staff_browser.get("/admin/orders/order/", {"q": str(other.pk)})

    assert page.status_code == 200
    assert {o.pk for o in page.context["cl"].result_list} == {order.pk, other.pk}
    assert str(order.pk).encode() in page.content
    assert {o.pk for o in by_email.context["cl"].result_list} == {order.pk}
    assert {o.pk for o in by_id.context["cl"].result_list} == {other.pk}
    assert str(order.pk).encode() in by_email.content
    assert str(other.pk).encode() not in by_email.content
    assert str(other.pk).encode() in by_id.content
    assert str(order.pk).encode() not in by_id.content


@pytest.mark.parametrize("term", ["not-a-uuid", "123", "nobody@example.com"])
def test_order_search_without_a_match_lists_nothing(staff_browser, order, term):
    response = staff_browser.get("/admin/orders/order/", {"q": term})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []


def test_order_change_page_shows_the_snapshot(staff_browser, order, product, customer):
    order_pay(order_id=order.pk, actor=customer)

    response = staff_browser.get(f"/admin/orders/order/{order.pk}/change/")

    assert response.status_code == 200
    content = response.content.decode()
    assert only_variant(product).sku in content
    assert product.name in content
    assert customer.email in content
    assert "Succeeded" in content  # the payment inline
    variant = only_variant(product)
    items = response.context["inline_admin_formsets"][0].formset.queryset
    assert [(i.sku, i.quantity, i.unit_price_at_purchase) for i in items] == [(variant.sku, 3, variant.price)]


def test_order_change_page_cannot_change_an_order(staff_browser, order):
    staff_browser.post(f"/admin/orders/order/{order.pk}/change/", {"status": "SHIPPED", "total_amount": "0"})

    order_after = Order.objects.get(pk=order.pk)
    assert (order_after.status, order_after.total_amount) == (OrderStatus.PENDING, order.total_amount)


def test_orders_cannot_be_added_or_deleted_in_the_admin(staff_browser, order):
    assert staff_browser.get("/admin/orders/order/add/").status_code == 403
    assert staff_browser.post("/admin/orders/order/add/", {}).status_code == 403
    assert staff_browser.get(f"/admin/orders/order/{order.pk}/delete/").status_code == 403
    run_action(staff_browser, "delete_selected", order)
    assert Order.objects.filter(pk=order.pk).exists()


def test_ship_action_ships_paid_orders_and_reports_the_rest(staff_browser, order, customer, place_order, product):
    pending = place_order(customer, [(product, 1)])
    order_pay(order_id=order.pk, actor=customer)

    response = run_action(staff_browser, "ship_orders", order, pending)

    assert response.status_code == 200
    shipped = Order.objects.get(pk=order.pk)
    assert shipped.status == OrderStatus.SHIPPED
    assert shipped.shipped_at is not None
    assert Shipment.objects.get(order=order).cost == order.shipping_amount
    assert Order.objects.get(pk=pending.pk).status == OrderStatus.PENDING
    assert not Shipment.objects.filter(order=pending).exists()
    assert sorted(messages_of(response)) == [
        ("error", f"Order {pending.pk}: Cannot ship an order that is PENDING."),
        ("success", "1 order(s) shipped."),
    ]
    assert stock_of(product) == (96, 1)


def test_ship_action_on_a_pending_order_only_reports_an_error(staff_browser, order, product):
    response = run_action(staff_browser, "ship_orders", order)

    assert messages_of(response) == [("error", f"Order {order.pk}: Cannot ship an order that is PENDING.")]
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING
    assert not Shipment.objects.exists()
    assert stock_of(product) == (97, 3)


def test_cancel_action_cancels_and_restores_stock(staff_browser, order, product):
    response = run_action(staff_browser, "cancel_orders", order)

    assert messages_of(response) == [("success", "1 order(s) cancelled.")]
    cancelled = Order.objects.get(pk=order.pk)
    assert cancelled.status == OrderStatus.CANCELLED
    assert cancelled.cancelled_at is not None
    assert stock_of(product) == (100, 0)


def test_cancel_action_refunds_a_paid_order_and_refuses_a_shipped_one(
    staff_browser, order, customer, place_order, product
):
    shipped = place_order(customer, [(product, 1)])
    for paid in (order, shipped):
        order_pay(order_id=paid.pk, actor=customer)
    run_action(staff_browser, "ship_orders", shipped)

    response = run_action(staff_browser, "cancel_orders", order, shipped)

    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    assert Payment.objects.get(order=order).status == PaymentStatus.REFUNDED
    assert Order.objects.get(pk=shipped.pk).status == OrderStatus.SHIPPED
    assert ("error", f"Order {shipped.pk}: Cannot cancel an order that is SHIPPED.") in messages_of(response)
    assert stock_of(product) == (99, 0)


@pytest.mark.parametrize("path", ["/admin/orders/order/", "/admin/orders/order/{id}/change/"])
@pytest.mark.parametrize("logged_in", [True, False])
def test_customers_and_visitors_cannot_enter_the_orders_admin(client, customer, order, path, logged_in):
    if logged_in:
        client.force_login(customer)

    response = client.get(path.format(id=order.pk))

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_customers_cannot_run_order_actions(client, customer, order, product):
    client.force_login(customer)

    response = run_action(client, "cancel_orders", order)

    assert response.redirect_chain[0][0].startswith("/admin/login/")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING
    assert stock_of(product) == (97, 3)


@pytest.fixture
def shirt_order(place_order, customer, draft_product_factory, variant_factory, product):
    """An order of a named variant (of a two-variant product) and of a seed-001 product's unnamed variant."""
    from catalog.services.products import product_publish
    from inventory.services.locations import default_location
    from inventory.services.receipts import ReceiptLine, stock_receive

    shirt = draft_product_factory(name="Shirt")
    small = variant_factory(product=shirt, sku="SHIRT-S", name="Small")
    variant_factory(product=shirt, sku="SHIRT-M", name="Medium")
    product_publish(product_id=shirt.pk)
    location = default_location()
    stock_receive(warehouse_id=location.warehouse_id, lines=[ReceiptLine("SHIRT-S", 5, location.pk)], actor=None)
    return place_order(customer, [(small, 2), (product, 1)])


def test_order_change_page_shows_each_item_s_variant_and_reservation(staff_browser, shirt_order, product):
    response = staff_browser.get(f"/admin/orders/order/{shirt_order.pk}/change/")

    assert response.status_code == 200
    inline = response.context["inline_admin_formsets"][0]
    assert [field["name"] for field in inline.fields()] == [
        "product",
        "product_name",
        "variant",
        "variant_name",
        "sku",
        "quantity",
        "unit_price_at_purchase",
        "line_total",
        "reservation",
    ]
    items = list(inline.formset.queryset)
    assert {i.sku: (i.variant_name, i.reservation.status) for i in items} == {
        "SHIRT-S": ("Small", ReservationStatus.ALLOCATED),
        only_variant(product).sku: ("", ReservationStatus.ALLOCATED),
    }
    content = response.content.decode()
    assert "SHIRT-S Small" in content  # the variant
    for item in items:
        assert f"/admin/inventory/reservation/{item.reservation_id}/change/" in content


def test_order_change_page_queries_do_not_grow_with_items(
    staff_browser, customer, place_order, product_factory, django_assert_max_num_queries
):
    small = place_order(customer, [(product_factory(), 1)])
    large = place_order(customer, [(p, 1) for p in product_factory.create_batch(6)])
    counts = []
    for order in (small, large):
        with django_assert_max_num_queries(40) as captured:
            assert staff_browser.get(f"/admin/orders/order/{order.pk}/change/").status_code == 200
        counts.append(len(captured))

    assert counts[0] == counts[1]


def test_ship_and_cancel_actions_settle_the_reservations_through_the_services(
    staff_browser, shirt_order, customer, place_order, product
):
    cancelled = place_order(customer, [(product, 2)])
    order_pay(order_id=shirt_order.pk, actor=customer)

    run_action(staff_browser, "ship_orders", shirt_order)
    run_action(staff_browser, "cancel_orders", cancelled)

    staff = staff_browser.get("/admin/").wsgi_request.user
    for order, status, kind in (
        (shirt_order, ReservationStatus.COMMITTED, MovementKind.COMMIT),
        (cancelled, ReservationStatus.RELEASED, MovementKind.RELEASE),
    ):
        items = list(order.items.select_related("reservation"))
        assert {i.reservation.status for i in items} == {status}
        movements = StockMovement.objects.filter(order_id=order.pk, kind=kind)
        assert sorted((m.reservation_id, m.actor_id) for m in movements) == sorted(
            (i.reservation_id, staff.pk) for i in items
        )
    assert stock_of(product) == (99, 0)  # 100 received, 1 shipped, 2 released
    assert_stock_consistent()
