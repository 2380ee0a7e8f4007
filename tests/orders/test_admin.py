"""Orders, payments and shipments in the admin console: read-only records; every status change is an
action that calls the services, and a refused one is a message that writes nothing."""

import pytest

from inventory.models import MovementKind, ReservationStatus, StockMovement
from orders.exceptions import PaymentGatewayUnavailable
from orders.gateway import payment_gateway
from orders.models import Order, OrderStatus, Payment, PaymentStatus, Shipment, ShipmentStatus
from orders.services.charges import _payment_charge_record
from orders.services.expiry import order_expire
from orders.services.payments import payment_create, payment_fail
from orders.services.shipments import shipment_cancel, shipment_create
from orders.services.workflow import order_cancel, order_pay, order_ship
from tests.admin_helpers import listed, messages_of
from tests.orders.helpers import reservation_statuses, written
from tests.stock import assert_stock_consistent, only_variant, stock_of

pytestmark = pytest.mark.django_db

ORDERS = "/admin/orders/order/"
PAYMENTS = "/admin/orders/payment/"
SHIPMENTS = "/admin/orders/shipment/"


@pytest.fixture
def order(place_order, customer, product):
    return place_order(customer, [(product, 3)])


def act(browser, changelist: str, action: str, *rows, **fields):
    """Run a changelist action on ``rows`` as its form does (``fields``: the action form's extra inputs)."""
    return browser.post(
        changelist,
        {"action": action, "index": "0", "_selected_action": [str(r.pk) for r in rows], **fields},
        follow=True,
    )


def run_action(browser, action: str, *orders):
    return act(browser, ORDERS, action, *orders)


def action_names(response) -> set[str]:
    form = response.context["action_form"]
    return set() if form is None else {name for name, _ in form.fields["action"].choices if name}


@pytest.fixture
def page_queries(staff_browser, django_assert_max_num_queries):
    """``page_queries(url)``: the queries one view of an admin page takes (at most 40), counted on a second
    view so that the process's caches (content types) are warm whatever ran before."""

    def count(url: str) -> int:
        assert staff_browser.get(url).status_code == 200
        with django_assert_max_num_queries(40) as captured:
            assert staff_browser.get(url).status_code == 200
        return len(captured)

    return count


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
    response = staff_browser.post(f"/admin/orders/order/{order.pk}/change/", {"status": "SHIPPED", "total_amount": "0"})

    assert response.status_code == 403  # view-only: status changes are actions through the services

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
    product_publish(product_id=shirt.pk, actor=None)
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
    page_queries, customer, admin_user, place_order, product_factory
):
    small = place_order(customer, [(product_factory(), 1)])
    large = place_order(customer, [(p, 1) for p in product_factory.create_batch(6)])
    for payment in (payment_create(order_id=large.pk, actor=customer) for _ in range(3)):
        payment_fail(payment_id=payment.pk, actor=admin_user, reason="declined")

    assert page_queries(f"{ORDERS}{small.pk}/change/") == page_queries(f"{ORDERS}{large.pk}/change/")


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


# --- orders: filters, inlines, expiry, shipments and refunds


@pytest.fixture
def scripted(settings):
    """The mock gateway with scripted trouble, recording whether each call came inside a transaction."""
    settings.PAYMENT_GATEWAY = "tests.orders.gateways.ScriptedGateway"
    gateway = payment_gateway()
    gateway.reset()
    return gateway


@pytest.fixture
def admin_browser(client, admin_user):
    client.force_login(admin_user)
    return client


def test_order_changelist_filters_by_status_and_offers_the_staff_actions(
    staff_browser, order, customer, place_order, product, admin_user
):
    paid = place_order(customer, [(product, 1)])
    order_pay(order_id=paid.pk, actor=customer)
    expired = place_order(customer, [(product, 1)])
    order_expire(order_id=expired.pk, actor=admin_user)

    by_status = {
        status: [o.pk for o in listed(staff_browser.get(ORDERS, {"status__exact": status}))]
        for status in (OrderStatus.PENDING, OrderStatus.PAID, OrderStatus.EXPIRED, OrderStatus.CANCELLED)
    }

    assert by_status == {
        OrderStatus.PENDING: [order.pk],
        OrderStatus.PAID: [paid.pk],
        OrderStatus.EXPIRED: [expired.pk],
        OrderStatus.CANCELLED: [],
    }
    assert action_names(staff_browser.get(ORDERS)) == {
        "open_shipments",
        "ship_orders",
        "cancel_orders",
        "expire_orders",
    }


def test_order_change_page_shows_payments_and_shipments_read_only(staff_browser, order, customer, admin_user):
    failed = payment_create(order_id=order.pk, actor=customer)
    payment_fail(payment_id=failed.pk, actor=admin_user, reason="card_expired")
    order_pay(order_id=order.pk, actor=customer)
    cancelled = shipment_create(order_id=order.pk, actor=admin_user, carrier="UPS")
    shipment_cancel(shipment_id=cancelled.pk, actor=admin_user)
    open_ = shipment_create(order_id=order.pk, actor=admin_user, carrier="DHL", tracking_number="TRK-1")

    response = staff_browser.get(f"{ORDERS}{order.pk}/change/")

    assert response.status_code == 200
    _, payments, shipments = response.context["inline_admin_formsets"]
    assert [field["name"] for field in payments.fields()] == [
        "id",
        "created_at",
        "status",
        "amount",
        "currency",
        "provider",
        "provider_reference",
        "failure_reason",
        "charge_requested_at",
        "completed_at",
        "refund_requested_at",
        "refunded_at",
        "refund_failed_at",
        "refund_failure_reason",
    ]
    assert [field["name"] for field in shipments.fields()] == [
        "id",
        "created_at",
        "status",
        "carrier",
        "tracking_number",
        "cost",
        "shipped_at",
        "cancelled_at",
    ]
    succeeded = Payment.objects.get(order=order, status=PaymentStatus.SUCCEEDED)
    assert sorted(
        (p.pk, p.status, p.provider, p.failure_reason, p.charge_requested_at is not None)
        for p in payments.formset.queryset
    ) == [
        (failed.pk, PaymentStatus.FAILED, "mock", "card_expired", False),
        (succeeded.pk, PaymentStatus.SUCCEEDED, "mock", "", True),
    ]
    assert sorted((s.pk, s.status, s.carrier) for s in shipments.formset.queryset) == [
        (cancelled.pk, ShipmentStatus.CANCELLED, "UPS"),
        (open_.pk, ShipmentStatus.PENDING, "DHL"),
    ]
    for inline in (payments, shipments):
        assert (inline.has_add_permission, inline.has_change_permission, inline.has_delete_permission) == (
            False,
            False,
            False,
        )
    content = response.content.decode()
    assert "card_expired" in content
    assert "TRK-1" in content
    assert succeeded.provider_reference in content


def test_expire_action_expires_unpaid_orders_and_reports_the_rest(staff_browser, order, customer, place_order, product):
    paid = place_order(customer, [(product, 1)])
    order_pay(order_id=paid.pk, actor=customer)
    pending_payment = payment_create(order_id=order.pk, actor=customer)

    response = run_action(staff_browser, "expire_orders", order, paid)

    assert sorted(messages_of(response)) == [
        ("error", f"Order {paid.pk}: Cannot expire an order that is PAID."),
        ("success", "1 order(s) expired."),
    ]
    expired = Order.objects.get(pk=order.pk)
    assert (expired.status, expired.expired_at is not None) == (OrderStatus.EXPIRED, True)
    pending_payment.refresh_from_db()
    assert (pending_payment.status, pending_payment.failure_reason) == (PaymentStatus.FAILED, "order_expired")
    assert reservation_statuses(order) == {ReservationStatus.RELEASED}
    assert Order.objects.get(pk=paid.pk).status == OrderStatus.PAID
    assert reservation_statuses(paid) == {ReservationStatus.ALLOCATED}
    staff = response.wsgi_request.user
    assert list(
        StockMovement.objects.filter(order_id=order.pk, kind=MovementKind.RELEASE).values_list("actor", flat=True)
    ) == [staff.pk]
    assert stock_of(product) == (99, 1)


def test_expire_action_on_an_expired_order_releases_nothing_twice(staff_browser, order, product):
    run_action(staff_browser, "expire_orders", order)
    before = written()

    response = run_action(staff_browser, "expire_orders", order)

    assert messages_of(response) == [("success", "1 order(s) expired.")]
    assert written() == before
    assert StockMovement.objects.filter(order_id=order.pk, kind=MovementKind.RELEASE).count() == 1
    assert stock_of(product) == (100, 0)


def test_expire_action_refused_writes_nothing(staff_browser, order, customer, admin_user):
    order_cancel(order_id=order.pk, actor=admin_user)
    before = written()

    response = run_action(staff_browser, "expire_orders", order)

    assert messages_of(response) == [("error", f"Order {order.pk}: Cannot expire an order that is CANCELLED.")]
    assert written() == before


def test_open_shipments_action_opens_one_per_paid_order(staff_browser, order, customer, place_order, product):
    paid = place_order(customer, [(product, 1)])
    order_pay(order_id=paid.pk, actor=customer)

    response = run_action(staff_browser, "open_shipments", paid, order)

    assert sorted(messages_of(response)) == [
        ("error", f"Order {order.pk}: Cannot create a shipment for an order that is PENDING."),
        ("success", "1 order(s) given a shipment."),
    ]
    shipment = Shipment.objects.get()
    assert (shipment.order_id, shipment.status, shipment.cost) == (
        paid.pk,
        ShipmentStatus.PENDING,
        paid.shipping_amount,
    )
    assert Order.objects.get(pk=paid.pk).status == OrderStatus.PAID
    before = written()

    again = run_action(staff_browser, "open_shipments", paid)

    assert messages_of(again) == [("error", f"Order {paid.pk}: The order already has an open shipment.")]
    assert written() == before


@pytest.mark.django_db(transaction=True)
def test_cancel_action_refunds_through_the_gateway_outside_any_transaction(
    scripted, staff_browser, place_order, customer, product
):
    order = place_order(customer, [(product, 2)])
    order_pay(order_id=order.pk, actor=customer)
    payment = Payment.objects.get(order=order)

    response = run_action(staff_browser, "cancel_orders", order)

    assert messages_of(response) == [("success", "1 order(s) cancelled.")]
    payment.refresh_from_db()
    assert (payment.status, payment.refund_requested_at is not None, payment.refunded_at is not None) == (
        PaymentStatus.REFUNDED,
        True,
        True,
    )
    assert scripted.inside_transaction == [False, False]  # the charge, then the admin's refund
    assert dict(scripted.calls) == {f"pay-{payment.pk}": 1, f"refund-{payment.pk}": 1}
    assert stock_of(product) == (100, 0)


def test_order_changelist_queries_do_not_grow_with_orders(page_queries, customer, user_factory, place_order, product):
    place_order(customer, [(product, 1)])
    one = page_queries(ORDERS)
    for _ in range(5):
        place_order(user_factory(), [(product, 1)])

    assert page_queries(ORDERS) == one


# --- payments


@pytest.fixture
def pending_payment(order, customer):
    return payment_create(order_id=order.pk, actor=customer)


def payment_ids(response) -> set[int]:
    return {p.pk for p in listed(response)}


def test_payment_changelist_filters_by_status_and_what_awaits_the_gateway(
    staff_browser, scripted, place_order, customer, product, admin_user
):
    fresh = payment_create(order_id=place_order(customer, [(product, 1)]).pk, actor=customer)
    in_flight_order = place_order(customer, [(product, 1)])
    scripted.failures["charge"] = [TimeoutError("no answer")]
    with pytest.raises(PaymentGatewayUnavailable):
        order_pay(order_id=in_flight_order.pk, actor=customer)
    in_flight = Payment.objects.get(order=in_flight_order)
    refund_due_order, refunded_order = place_order(customer, [(product, 1)]), place_order(customer, [(product, 1)])
    for paid in (refund_due_order, refunded_order):
        order_pay(order_id=paid.pk, actor=customer)
    scripted.failures["refund"] = [TimeoutError("no answer")]
    order_cancel(order_id=refund_due_order.pk, actor=admin_user)
    order_cancel(order_id=refunded_order.pk, actor=admin_user)
    refund_due, refunded = (Payment.objects.get(order=o) for o in (refund_due_order, refunded_order))
    failed = payment_create(order_id=place_order(customer, [(product, 1)]).pk, actor=customer)
    payment_fail(payment_id=failed.pk, actor=admin_user, reason="declined")

    def ids(**query) -> set[int]:
        response = staff_browser.get(PAYMENTS, query)
        assert response.status_code == 200
        return payment_ids(response)

    assert ids() == {fresh.pk, in_flight.pk, refund_due.pk, refunded.pk, failed.pk}
    assert ids(status__exact=PaymentStatus.PENDING) == {fresh.pk, in_flight.pk}
    assert ids(status__exact=PaymentStatus.SUCCEEDED) == {refund_due.pk}
    assert ids(status__exact=PaymentStatus.REFUNDED) == {refunded.pk}
    assert ids(status__exact=PaymentStatus.FAILED) == {failed.pk}
    assert ids(awaiting="charge") == {in_flight.pk}
    assert ids(awaiting="refund") == {refund_due.pk}
    assert ids(q=str(refunded_order.pk)) == {refunded.pk}
    assert ids(q=refunded.provider_reference) == {refunded.pk}
    content = staff_browser.get(PAYMENTS).content.decode()
    for header in ("Provider", "Charge requested at", "Refund requested at", "Customer"):
        assert header in content
    assert customer.email in content


def test_admins_settle_payments_and_inventory_managers_only_read_them(
    client, admin_user, inventory_manager, pending_payment
):
    client.force_login(admin_user)
    assert action_names(client.get(PAYMENTS)) == {"succeed_payments", "fail_payments"}
    client.force_login(inventory_manager)
    page = client.get(PAYMENTS)
    before = written()

    tried = [
        act(client, PAYMENTS, "succeed_payments", pending_payment, provider_reference="ch_1"),
        act(client, PAYMENTS, "fail_payments", pending_payment, reason="declined"),
    ]

    assert (page.status_code, payment_ids(page), action_names(page)) == (200, {pending_payment.pk}, set())
    assert [(r.status_code, messages_of(r)) for r in tried] == [(200, []), (200, [])]
    assert written() == before


def test_succeed_action_pays_the_order_with_the_provider_reference(admin_browser, pending_payment, order, product):
    response = act(
        admin_browser, PAYMENTS, "succeed_payments", pending_payment, provider_reference=" ch_123 ", reason=""
    )

    assert messages_of(response) == [("success", "1 payment(s) succeeded.")]
    pending_payment.refresh_from_db()
    assert (pending_payment.status, pending_payment.provider_reference, pending_payment.completed_at is not None) == (
        PaymentStatus.SUCCEEDED,
        "ch_123",
        True,
    )
    paid = Order.objects.get(pk=order.pk)
    assert (paid.status, paid.paid_at is not None) == (OrderStatus.PAID, True)
    assert reservation_statuses(order) == {ReservationStatus.ALLOCATED}
    assert stock_of(product) == (97, 3)
    assert dict(payment_gateway().calls) == {}  # the provider's answer, recorded: the gateway is not called


def test_succeed_action_refuses_settled_payments_and_the_others_of_a_paid_order(
    admin_browser, order, customer, admin_user
):
    failed, won, never_charged = (payment_create(order_id=order.pk, actor=customer) for _ in range(3))
    payment_fail(payment_id=failed.pk, actor=admin_user, reason="card_expired")
    in_flight = _payment_charge_record(order_id=order.pk, actor=customer, provider="other")  # awaits its answer
    act(admin_browser, PAYMENTS, "succeed_payments", won)  # fails the one never charged (order_already_paid)
    before = written()

    response = act(admin_browser, PAYMENTS, "succeed_payments", failed, won, never_charged, in_flight)

    assert messages_of(response) == [
        ("error", f"Payment {failed.pk}: Cannot succeed a payment that is FAILED."),
        ("error", f"Payment {won.pk}: Cannot succeed a payment that is SUCCEEDED."),
        ("error", f"Payment {never_charged.pk}: Cannot succeed a payment that is FAILED."),
        (
            "error",
            f"Payment {in_flight.pk}: Cannot succeed a payment of an order that is PAID; this payment can only fail.",
        ),
    ]
    assert written() == before


def test_succeed_action_takes_a_provider_reference_for_one_payment_only(admin_browser, order, customer):
    first, second = (payment_create(order_id=order.pk, actor=customer) for _ in range(2))
    before = written()

    two = act(admin_browser, PAYMENTS, "succeed_payments", first, second, provider_reference="ch_1")
    too_long = act(admin_browser, PAYMENTS, "succeed_payments", first, provider_reference="x" * 101)

    assert messages_of(two) == [
        ("error", "Nothing was changed: a provider reference belongs to one record; select exactly one.")
    ]
    assert messages_of(too_long) == [
        ("error", "Nothing was changed: the provider reference has at most 100 characters.")
    ]
    assert written() == before


def test_fail_action_records_the_reason_and_leaves_the_order_alone(admin_browser, pending_payment, order, product):
    response = act(admin_browser, PAYMENTS, "fail_payments", pending_payment, reason="  card_declined  ")

    assert messages_of(response) == [("success", "1 payment(s) failed.")]
    pending_payment.refresh_from_db()
    assert (pending_payment.status, pending_payment.failure_reason, pending_payment.completed_at is not None) == (
        PaymentStatus.FAILED,
        "card_declined",
        True,
    )
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING
    assert reservation_statuses(order) == {ReservationStatus.ALLOCATED}
    assert stock_of(product) == (97, 3)


@pytest.mark.parametrize(
    ("reason", "message"),
    [
        ("", "Nothing was changed: give the reason the payment failed."),
        ("   ", "Nothing was changed: give the reason the payment failed."),
        ("x" * 256, "Nothing was changed: the reason has at most 255 characters."),
    ],
)
def test_fail_action_needs_a_reason(admin_browser, pending_payment, reason, message):
    before = written()

    response = act(admin_browser, PAYMENTS, "fail_payments", pending_payment, reason=reason)

    assert messages_of(response) == [("error", message)]
    assert written() == before


def test_fail_action_refuses_a_settled_payment(admin_browser, order, customer):
    order_pay(order_id=order.pk, actor=customer)
    paid = Payment.objects.get(order=order)
    before = written()

    response = act(admin_browser, PAYMENTS, "fail_payments", paid, reason="chargeback")

    assert messages_of(response) == [("error", f"Payment {paid.pk}: Cannot fail a payment that is SUCCEEDED.")]
    assert written() == before


def test_payments_cannot_be_added_changed_or_deleted_in_the_admin(staff_browser, pending_payment):
    before = written()

    view = staff_browser.get(f"{PAYMENTS}{pending_payment.pk}/change/")
    change = staff_browser.post(f"{PAYMENTS}{pending_payment.pk}/change/", {"status": PaymentStatus.SUCCEEDED})
    add = staff_browser.get(f"{PAYMENTS}add/")
    delete = staff_browser.get(f"{PAYMENTS}{pending_payment.pk}/delete/")

    assert (view.status_code, change.status_code, add.status_code, delete.status_code) == (200, 403, 403, 403)
    assert 'name="_save"' not in view.content.decode()
    assert written() == before


def test_payment_changelist_queries_do_not_grow_with_payments(page_queries, user_factory, place_order, product):
    def another_payment():
        buyer = user_factory()
        payment_create(order_id=place_order(buyer, [(product, 1)]).pk, actor=buyer)

    another_payment()
    one = page_queries(PAYMENTS)
    for _ in range(5):
        another_payment()

    assert page_queries(PAYMENTS) == one


# --- shipments


@pytest.fixture
def paid_order(order, customer):
    order_pay(order_id=order.pk, actor=customer)
    return order


@pytest.fixture
def shipment(paid_order, admin_user):
    return shipment_create(order_id=paid_order.pk, actor=admin_user, carrier="UPS")


def test_shipment_changelist_filters_by_status_and_searches(
    staff_browser, shipment, paid_order, admin_user, place_order, customer, product
):
    shipment_cancel(shipment_id=shipment.pk, actor=admin_user)
    reopened = shipment_create(order_id=paid_order.pk, actor=admin_user, carrier="UPS", tracking_number="UPS-2")
    other = place_order(customer, [(product, 1)])
    order_pay(order_id=other.pk, actor=customer)
    order_ship(order_id=other.pk, actor=admin_user, carrier="DHL", tracking_number="DHL-9")
    shipped = Shipment.objects.get(order=other)

    def ids(**query) -> set[int]:
        response = staff_browser.get(SHIPMENTS, query)
        assert response.status_code == 200
        return {s.pk for s in listed(response)}

    assert ids() == {shipment.pk, reopened.pk, shipped.pk}
    assert ids(status__exact=ShipmentStatus.PENDING) == {reopened.pk}
    assert ids(status__exact=ShipmentStatus.SHIPPED) == {shipped.pk}
    assert ids(status__exact=ShipmentStatus.CANCELLED) == {shipment.pk}
    assert ids(carrier="DHL") == {shipped.pk}
    assert ids(q="DHL-9") == {shipped.pk}
    assert ids(q=str(paid_order.pk)) == {shipment.pk, reopened.pk}
    assert action_names(staff_browser.get(SHIPMENTS)) == {"ship_shipments", "cancel_shipments"}


def test_ship_action_ships_the_order_and_commits_its_stock(staff_browser, shipment, paid_order, product):
    response = act(staff_browser, SHIPMENTS, "ship_shipments", shipment, carrier="DHL", tracking_number="TRK-1")

    assert messages_of(response) == [("success", "1 shipment(s) shipped.")]
    shipment.refresh_from_db()
    assert (shipment.status, shipment.carrier, shipment.tracking_number, shipment.shipped_at is not None) == (
        ShipmentStatus.SHIPPED,
        "DHL",
        "TRK-1",
        True,
    )
    assert Order.objects.get(pk=paid_order.pk).status == OrderStatus.SHIPPED
    assert reservation_statuses(paid_order) == {ReservationStatus.COMMITTED}
    staff = response.wsgi_request.user
    assert set(
        StockMovement.objects.filter(order_id=paid_order.pk, kind=MovementKind.COMMIT).values_list("actor", flat=True)
    ) == {staff.pk}
    assert stock_of(product) == (97, 0)
    assert_stock_consistent()


def test_ship_action_without_carrier_or_tracking_number_keeps_the_shipment_s(staff_browser, shipment):
    response = act(staff_browser, SHIPMENTS, "ship_shipments", shipment, carrier="", tracking_number="")

    assert messages_of(response) == [("success", "1 shipment(s) shipped.")]
    shipment.refresh_from_db()
    assert (shipment.status, shipment.carrier, shipment.tracking_number) == (ShipmentStatus.SHIPPED, "UPS", "")


def test_ship_action_refuses_a_cancelled_shipment_and_a_taken_tracking_number(
    staff_browser, shipment, admin_user, place_order, customer, product
):
    shipment_cancel(shipment_id=shipment.pk, actor=admin_user)
    other = place_order(customer, [(product, 1)])
    order_pay(order_id=other.pk, actor=customer)
    order_ship(order_id=other.pk, actor=admin_user, carrier="DHL", tracking_number="TRK-1")
    third = place_order(customer, [(product, 1)])
    order_pay(order_id=third.pk, actor=customer)
    open_ = shipment_create(order_id=third.pk, actor=admin_user)
    before = written()

    cancelled = act(staff_browser, SHIPMENTS, "ship_shipments", shipment)
    taken = act(staff_browser, SHIPMENTS, "ship_shipments", open_, carrier="DHL", tracking_number="TRK-1")

    assert messages_of(cancelled) == [("error", f"Shipment {shipment.pk}: Cannot ship a shipment that is CANCELLED.")]
    assert messages_of(taken) == [
        ("error", f"Shipment {open_.pk}: Another shipment of this carrier has this tracking number.")
    ]
    assert written() == before


def test_ship_action_checks_the_carrier_and_tracking_number_first(
    staff_browser, shipment, place_order, customer, product, admin_user
):
    other = place_order(customer, [(product, 1)])
    order_pay(order_id=other.pk, actor=customer)
    second = shipment_create(order_id=other.pk, actor=admin_user)
    before = written()

    two = act(staff_browser, SHIPMENTS, "ship_shipments", shipment, second, tracking_number="TRK-1")
    long_carrier = act(staff_browser, SHIPMENTS, "ship_shipments", shipment, carrier="c" * 51)
    long_number = act(staff_browser, SHIPMENTS, "ship_shipments", shipment, tracking_number="t" * 65)

    assert [messages_of(r) for r in (two, long_carrier, long_number)] == [
        [("error", "Nothing was changed: a tracking number belongs to one record; select exactly one.")],
        [("error", "Nothing was changed: the carrier has at most 50 characters.")],
        [("error", "Nothing was changed: the tracking number has at most 64 characters.")],
    ]
    assert written() == before


def test_ship_action_with_a_carrier_ships_several_shipments(
    staff_browser, shipment, place_order, customer, product, admin_user
):
    other = place_order(customer, [(product, 1)])
    order_pay(order_id=other.pk, actor=customer)
    second = shipment_create(order_id=other.pk, actor=admin_user)

    response = act(staff_browser, SHIPMENTS, "ship_shipments", shipment, second, carrier="DHL")

    assert messages_of(response) == [("success", "2 shipment(s) shipped.")]
    assert sorted(Shipment.objects.values_list("pk", "status", "carrier")) == [
        (shipment.pk, ShipmentStatus.SHIPPED, "DHL"),
        (second.pk, ShipmentStatus.SHIPPED, "DHL"),
    ]
    assert stock_of(product) == (96, 0)


def test_cancel_shipments_action_cancels_pending_ones_and_the_order_stays_paid(
    staff_browser, shipment, paid_order, place_order, customer, product, admin_user
):
    other = place_order(customer, [(product, 1)])
    order_pay(order_id=other.pk, actor=customer)
    order_ship(order_id=other.pk, actor=admin_user)
    shipped = Shipment.objects.get(order=other)

    response = act(staff_browser, SHIPMENTS, "cancel_shipments", shipment, shipped)

    assert messages_of(response) == [
        ("error", f"Shipment {shipped.pk}: Cannot cancel a shipment that is SHIPPED."),
        ("success", "1 shipment(s) cancelled."),
    ]
    shipment.refresh_from_db()
    assert (shipment.status, shipment.cancelled_at is not None) == (ShipmentStatus.CANCELLED, True)
    assert Order.objects.get(pk=paid_order.pk).status == OrderStatus.PAID
    assert reservation_statuses(paid_order) == {ReservationStatus.ALLOCATED}
    assert Shipment.objects.get(pk=shipped.pk).status == ShipmentStatus.SHIPPED
    assert stock_of(product) == (96, 3)


def test_shipments_cannot_be_added_changed_or_deleted_in_the_admin(staff_browser, shipment):
    before = written()

    view = staff_browser.get(f"{SHIPMENTS}{shipment.pk}/change/")
    change = staff_browser.post(f"{SHIPMENTS}{shipment.pk}/change/", {"status": ShipmentStatus.SHIPPED})
    add = staff_browser.get(f"{SHIPMENTS}add/")
    delete = staff_browser.get(f"{SHIPMENTS}{shipment.pk}/delete/")

    assert (view.status_code, change.status_code, add.status_code, delete.status_code) == (200, 403, 403, 403)
    assert "UPS" in view.content.decode()
    assert written() == before


def test_shipment_changelist_queries_do_not_grow_with_shipments(
    page_queries, user_factory, place_order, product, admin_user
):
    def another_shipment():
        buyer = user_factory()
        order = place_order(buyer, [(product, 1)])
        order_pay(order_id=order.pk, actor=buyer)
        shipment_create(order_id=order.pk, actor=admin_user)

    another_shipment()
    one = page_queries(SHIPMENTS)
    for _ in range(5):
        another_shipment()

    assert page_queries(SHIPMENTS) == one


@pytest.mark.parametrize("changelist", [PAYMENTS, SHIPMENTS])
@pytest.mark.parametrize("logged_in", [True, False])
def test_customers_and_visitors_cannot_enter_the_payments_and_shipments_admin(
    client, customer, shipment, changelist, logged_in
):
    row = Payment.objects.get() if changelist == PAYMENTS else shipment
    if logged_in:
        client.force_login(customer)
    before = written()

    pages = [client.get(changelist), client.get(f"{changelist}{row.pk}/change/")]
    action = act(client, changelist, "fail_payments" if changelist == PAYMENTS else "cancel_shipments", row, reason="x")

    for response in pages:
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    assert action.redirect_chain[0][0].startswith("/admin/login/")
    assert written() == before
