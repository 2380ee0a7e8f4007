"""Orders in the admin console: read-only records; the ship and cancel actions call the services."""

import pytest

from inventory.models import Product
from orders.models import Order, OrderStatus, Shipment
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


def test_order_changelist_lists_and_searches(staff_browser, order, customer, user_factory, place_order, product):
    other = place_order(user_factory(email="someone@example.com"), [(product, 1)])

    page = staff_browser.get("/admin/orders/order/")
    by_email = staff_browser.get("/admin/orders/order/", {"q": customer.email})
    by_id = staff_browser.get("/admin/orders/order/", {"q": str(other.pk)})

    assert page.status_code == 200
    assert str(order.pk).encode() in page.content
    assert str(order.pk).encode() in by_email.content
    assert str(other.pk).encode() not in by_email.content
    assert str(other.pk).encode() in by_id.content
    assert str(order.pk).encode() not in by_id.content


def test_order_change_page_shows_the_snapshot(staff_browser, order, product):
    response = staff_browser.get(f"/admin/orders/order/{order.pk}/change/")

    assert response.status_code == 200
    assert product.sku.encode() in response.content


def test_orders_cannot_be_added_in_the_admin(staff_browser):
    assert staff_browser.get("/admin/orders/order/add/").status_code == 403


def test_ship_action_ships_paid_orders_and_reports_the_rest(staff_browser, order, customer, place_order, product):
    pending = place_order(customer, [(product, 1)])
    order_pay(order_id=order.pk, actor=customer)

    response = run_action(staff_browser, "ship_orders", order, pending)

    assert Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED
    assert Shipment.objects.filter(order=order).exists()
    assert Order.objects.get(pk=pending.pk).status == OrderStatus.PENDING
    assert b"Cannot ship an order that is PENDING" in response.content
    assert Product.objects.values_list("stock_quantity", "reserved_quantity").get(pk=product.pk) == (96, 1)


def test_cancel_action_cancels_and_restores_stock(staff_browser, order, product):
    run_action(staff_browser, "cancel_orders", order)

    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELLED
    assert Product.objects.values_list("stock_quantity", "reserved_quantity").get(pk=product.pk) == (100, 0)


def test_customers_cannot_enter_the_orders_admin(client, customer):
    client.force_login(customer)

    response = client.get("/admin/orders/order/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
