"""Orders in the admin console: read-only records; the ship and cancel actions call the services."""

import pytest

from inventory.models import Product
from orders.models import Order, OrderStatus, Payment, PaymentStatus, Shipment
from orders.services import order_pay

pytestmark = pytest.mark.django_db


@pytest.fixture(params=["admin", "inventory_manager"])
def staff_browser(request, client, admin_user, inventory_manager):
    client.force_login(admin_user if request.param == "admin" else inventory_manager)
    return client


@pytest.fixture
def order(place_order, customer, product):
    return place_order(customer, [(product, 3)])


def run_action(browser, action: str, *orders):
    return browser.post(
        "/admin/orders/order/", {"action": action, "_selected_action": [str(o.pk) for o in orders]}, follow=True
    )


def messages_of(response) -> list[tuple[str, str]]:
    return [(m.level_tag, m.message) for m in response.context["messages"]]


def stock_of(product) -> tuple[int, int]:
    return Product.objects.values_list("stock_quantity", "reserved_quantity").get(pk=product.pk)


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
    assert product.sku in content
    assert product.name in content
    assert customer.email in content
    assert "Succeeded" in content  # the payment inline
    items = response.context["inline_admin_formsets"][0].formset.queryset
    assert [(i.sku, i.quantity, i.unit_price_at_purchase) for i in items] == [(product.sku, 3, product.price)]


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
