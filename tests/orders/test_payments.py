"""``/payments``: records with a lifecycle, PENDING -> SUCCEEDED or FAILED (final), SUCCEEDED -> REFUNDED."""

import uuid
from decimal import Decimal

import pytest
from structlog.testing import capture_logs

from orders.exceptions import InvalidTransition, TransitionForbidden
from orders.models import Order, OrderStatus, Payment, PaymentStatus
from orders.services.charges import _payment_charge_record
from orders.services.payments import payment_create, payment_fail, payment_succeed
from orders.services.workflow import order_cancel, order_pay, order_ship
from tests.orders.helpers import error_body, reservation_statuses, written
from tests.stock import stock_of

pytestmark = pytest.mark.django_db

PAYMENT_FIELDS = {
    "id",
    "order_id",
    "amount",
    "currency",
    "status",
    "provider",
    "provider_reference",
    "failure_reason",
    "created_at",
    "completed_at",
}


@pytest.fixture
def widget(product_factory):
    return product_factory(sku="PAY-W", price=Decimal("25.00"), stock_quantity=10)


@pytest.fixture
def order(place_order, customer, widget):
    return place_order(customer, [(widget, 2)])


@pytest.fixture
def other_customer(user_factory):
    return user_factory()


def pending_payment(order, **fields) -> Payment:
    return payment_create(order_id=order.pk, actor=order.user, **fields)


# --- POST /payments


def test_owner_creates_a_pending_payment_of_the_orders_amount(customer_client, order, widget, settings):
    response = customer_client.post(
        "/payments", {"order_id": str(order.pk), "amount": "0.01", "currency": "EUR"}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    payment = Payment.objects.get()
    assert set(body) == PAYMENT_FIELDS
    assert body == {
        "id": payment.pk,
        "order_id": str(order.pk),
        "amount": "50.00",
        "currency": settings.CURRENCY,
        "status": "PENDING",
        "provider": "mock",
        "provider_reference": "",
        "failure_reason": "",
        "created_at": body["created_at"],
        "completed_at": None,
    }
    assert (payment.amount, payment.currency, payment.charge_requested_at) == (Decimal("50.00"), "USD", None)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING
    assert stock_of(widget) == (8, 2)


def test_admin_creates_a_payment_for_a_customer_with_a_provider(admin_client, order):
    response = admin_client.post("/payments/", {"order_id": str(order.pk), "provider": "stripe"}, format="json")

    assert response.status_code == 201, response.content
    assert (response.json()["provider"], response.json()["status"]) == ("stripe", "PENDING")


def test_an_order_may_have_several_pending_and_failed_payments(customer_client, admin_client, order):
    first = customer_client.post("/payments", {"order_id": str(order.pk)}).json()
    assert admin_client.post(f"/payments/{first['id']}/fail", {"reason": "card expired"}).status_code == 200

    second = customer_client.post("/payments", {"order_id": str(order.pk)})
    third = customer_client.post("/payments", {"order_id": str(order.pk)})

    assert (second.status_code, third.status_code) == (201, 201)
    assert sorted(Payment.objects.filter(order=order).values_list("status", flat=True)) == [
        "FAILED",
        "PENDING",
        "PENDING",
    ]


def test_inventory_manager_cannot_create_payments(manager_client, order):
    before = written()

    response = manager_client.post("/payments", {"order_id": str(order.pk)})

    assert error_body(response, 403) == {
        "code": "permission_denied",
        "message": "Only the customer who placed the order, or an admin, may pay.",
        "details": {},
    }
    assert written() == before


def test_paying_another_customers_order_is_404_like_an_unknown_one(client_for, other_customer, order):
    client = client_for(other_customer)
    before = written()
    unknown = uuid.uuid4()

    theirs = client.post("/payments", {"order_id": str(order.pk)})
    missing = client.post("/payments", {"order_id": str(unknown)})

    assert error_body(theirs, 404) == {
        "code": "order_not_found",
        "message": "Order not found.",
        "details": {"order_id": str(order.pk)},
    }
    assert error_body(missing, 404) == {
        "code": "order_not_found",
        "message": "Order not found.",
        "details": {"order_id": str(unknown)},
    }
    assert written() == before


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"order_id": ["This field is required."]}),
        ({"provider": "mock"}, {"order_id": ["This field is required."]}),
        ({"order_id": "not-a-uuid"}, {"order_id": ["Must be a valid UUID."]}),
        ({"order_id": None}, {"order_id": ["This field may not be null."]}),
        ({"order_id": "{order}", "provider": ""}, {"provider": ["This field may not be blank."]}),
        ({"order_id": "{order}", "provider": "   "}, {"provider": ["This field may not be blank."]}),
        ({"order_id": "{order}", "provider": None}, {"provider": ["This field may not be null."]}),
        (
            {"order_id": "{order}", "provider": "p" * 51},
            {"provider": ["Ensure this field has no more than 50 characters."]},
        ),
    ],
    ids=["empty", "no-order", "bad-uuid", "null-order", "blank-provider", "spaces", "null-provider", "long-provider"],
)
def test_create_payment_refuses_bad_bodies(customer_client, order, body, fields):
    body = {key: str(order.pk) if value == "{order}" else value for key, value in body.items()}
    before = written()

    response = customer_client.post("/payments", body, format="json")

    assert error_body(response, 400) == {
        "code": "validation_error",
        "message": "Invalid input.",
        "details": {"fields": fields},
    }
    assert written() == before


@pytest.mark.parametrize("steps", [["pay"], ["pay", "ship"], ["cancel"], ["expire"]])
def test_create_payment_for_an_order_that_is_not_pending_is_409(customer_client, admin_client, order, steps):
    for step in steps:
        assert admin_client.post(f"/orders/{order.pk}/{step}").status_code == 200
    status = Order.objects.get(pk=order.pk).status
    before = written()

    response = customer_client.post("/payments", {"order_id": str(order.pk)})

    assert error_body(response, 409) == {
        "code": "invalid_transition",
        "message": f"Cannot pay an order that is {status}.",
        "details": {"order_id": str(order.pk), "status": status, "action": "pay"},
    }
    assert written() == before


def test_payments_need_a_token(api_client, order):
    payment = pending_payment(order)
    before = written()

    responses = [
        api_client.post("/payments", {"order_id": str(order.pk)}),
        api_client.get("/payments"),
        api_client.get(f"/payments/{payment.pk}"),
        api_client.post(f"/payments/{payment.pk}/succeed"),
        api_client.post(f"/payments/{payment.pk}/fail", {"reason": "x"}),
    ]

    for response in responses:
        assert error_body(response, 401)["code"] == "not_authenticated"
    assert written() == before


# --- GET /payments, GET /payments/{id}


def test_customers_list_their_own_payments_and_staff_list_all(
    client_for, customer_client, admin_client, manager_client, order, other_customer, place_order, widget
):
    mine = [pending_payment(order), pending_payment(order)]
    theirs = pending_payment(place_order(other_customer, [(widget, 1)]))

    listed = customer_client.get("/payments").json()
    by_admin = admin_client.get("/payments").json()
    by_manager = manager_client.get("/payments").json()
    by_them = client_for(other_customer).get("/payments").json()

    assert set(listed) == {"count", "next", "previous", "results"}
    assert [p["id"] for p in listed["results"]] == [mine[1].pk, mine[0].pk]
    assert [p["id"] for p in by_them["results"]] == [theirs.pk]
    assert (
        [p["id"] for p in by_admin["results"]]
        == [p["id"] for p in by_manager["results"]]
        == [
            theirs.pk,
            mine[1].pk,
            mine[0].pk,
        ]
    )


def test_list_payments_filters_by_order_and_status(
    admin_client, order, other_customer, place_order, widget, admin_user
):
    failed = pending_payment(order)
    payment_fail(payment_id=failed.pk, actor=admin_user, reason="insufficient funds")
    pending = pending_payment(order)
    other = pending_payment(place_order(other_customer, [(widget, 1)]))

    by_order = admin_client.get("/payments", {"order_id": str(order.pk)}).json()["results"]
    by_status = admin_client.get("/payments", {"status": "pending"}).json()["results"]
    both = admin_client.get("/payments", {"order_id": str(order.pk), "status": "FAILED"}).json()["results"]

    assert [p["id"] for p in by_order] == [pending.pk, failed.pk]
    assert [p["id"] for p in by_status] == [other.pk, pending.pk]
    assert [p["id"] for p in both] == [failed.pk]


@pytest.mark.parametrize(("params", "field"), [({"status": "LOST"}, "status"), ({"order_id": "nope"}, "order_id")])
def test_list_payments_refuses_bad_filters(admin_client, params, field):
    response = admin_client.get("/payments", params)

    assert list(error_body(response, 400)["details"]["fields"]) == [field]


def test_get_payment_for_its_customer_and_staff(customer_client, admin_client, manager_client, order):
    payment = pending_payment(order)

    clients = (customer_client, admin_client, manager_client)
    bodies = [client.get(f"/payments/{payment.pk}").json() for client in clients]

    assert bodies[0] == bodies[1] == bodies[2]
    assert (bodies[0]["id"], bodies[0]["order_id"], bodies[0]["status"]) == (payment.pk, str(order.pk), "PENDING")


@pytest.mark.parametrize(
    "path", ["/payments/{theirs}", "/payments/987654321", "/payments/abc", "/payments/" + "9" * 30]
)
def test_another_customers_or_an_unknown_payment_is_404(client_for, other_customer, order, path):
    payment = pending_payment(order)

    response = client_for(other_customer).get(path.format(theirs=payment.pk))

    assert error_body(response, 404)["code"] == "not_found"


# --- POST /payments/{id}/succeed and /fail


def test_admin_succeeds_a_payment_and_the_order_is_paid_with_its_stock_still_allocated(
    admin_client, customer_client, order, widget
):
    payment = pending_payment(order)

    response = admin_client.post(f"/payments/{payment.pk}/succeed", {"provider_reference": "ch_123"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["provider_reference"], body["failure_reason"]) == ("SUCCEEDED", "ch_123", "")
    assert body["completed_at"] is not None
    paid = customer_client.get(f"/orders/{order.pk}").json()
    assert (paid["status"], paid["paid_at"] is not None) == ("PAID", True)
    assert reservation_statuses(order) == {"ALLOCATED"}
    assert stock_of(widget) == (8, 2)


def test_succeed_without_a_reference_keeps_none(admin_client, order):
    payment = pending_payment(order)

    response = admin_client.post(f"/payments/{payment.pk}/succeed")

    assert (response.json()["status"], response.json()["provider_reference"]) == ("SUCCEEDED", "")


def test_admin_fails_a_payment_and_the_order_does_not_change(admin_client, order, widget):
    payment = pending_payment(order)

    response = admin_client.post(f"/payments/{payment.pk}/fail", {"reason": "insufficient funds"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["failure_reason"]) == ("FAILED", "insufficient funds")
    assert body["completed_at"] is not None
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING
    assert reservation_statuses(order) == {"ALLOCATED"}
    assert stock_of(widget) == (8, 2)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"reason": ["This field is required."]}),
        ({"reason": ""}, {"reason": ["This field may not be blank."]}),
        ({"reason": "r" * 256}, {"reason": ["Ensure this field has no more than 255 characters."]}),
    ],
)
def test_fail_needs_a_reason(admin_client, order, body, fields):
    payment = pending_payment(order)
    before = written()

    response = admin_client.post(f"/payments/{payment.pk}/fail", body, format="json")

    assert error_body(response, 400)["details"] == {"fields": fields}
    assert written() == before


def test_succeed_refuses_a_reference_too_long(admin_client, order):
    payment = pending_payment(order)
    before = written()

    response = admin_client.post(f"/payments/{payment.pk}/succeed", {"provider_reference": "r" * 101})

    assert error_body(response, 400)["details"] == {
        "fields": {"provider_reference": ["Ensure this field has no more than 100 characters."]}
    }
    assert written() == before


@pytest.mark.parametrize("who", ["owner", "manager"])
@pytest.mark.parametrize("action", ["succeed", "fail"])
def test_only_admins_settle_payments(customer_client, manager_client, order, who, action):
    payment = pending_payment(order)
    client = customer_client if who == "owner" else manager_client
    before = written()

    response = client.post(f"/payments/{payment.pk}/{action}", {"reason": "x"})

    assert error_body(response, 403) == {"code": "admin_required", "message": "Only admins may do this.", "details": {}}
    assert written() == before


@pytest.mark.parametrize("first", ["succeed", "fail"])
@pytest.mark.parametrize("then", ["succeed", "fail"])
def test_a_settled_payment_is_final(admin_client, order, first, then):
    payment = pending_payment(order)
    assert admin_client.post(f"/payments/{payment.pk}/{first}", {"reason": "declined"}).status_code == 200
    status = Payment.objects.get(pk=payment.pk).status
    before = written()

    response = admin_client.post(f"/payments/{payment.pk}/{then}", {"reason": "again"})

    assert error_body(response, 409) == {
        "code": "invalid_transition",
        "message": f"Cannot {then} a payment that is {status}.",
        "details": {"payment_id": payment.pk, "status": status, "action": then},
    }
    assert written() == before


def test_once_a_payment_succeeded_the_others_may_only_fail(admin_client, order, customer):
    winner, never_charged = pending_payment(order), pending_payment(order)
    in_flight = _payment_charge_record(order_id=order.pk, actor=customer, provider="other")  # awaits its answer

    assert admin_client.post(f"/payments/{winner.pk}/succeed").status_code == 200
    never_charged.refresh_from_db()
    assert (never_charged.status, never_charged.failure_reason) == (PaymentStatus.FAILED, "order_already_paid")
    before = written()

    refused = admin_client.post(f"/payments/{in_flight.pk}/succeed")

    assert error_body(refused, 409) == {
        "code": "invalid_transition",
        "message": "Cannot succeed a payment of an order that is PAID; this payment can only fail.",
        "details": {
            "payment_id": in_flight.pk,
            "status": "PENDING",
            "action": "succeed",
            "order_id": str(order.pk),
            "order_status": "PAID",
        },
    }
    assert written() == before
    assert admin_client.post(f"/payments/{in_flight.pk}/fail", {"reason": "duplicate"}).json()["status"] == "FAILED"


@pytest.mark.parametrize("action", ["succeed", "fail"])
def test_settling_an_unknown_payment_is_404(admin_client, action):
    response = admin_client.post(f"/payments/987654321/{action}", {"reason": "x"})

    assert error_body(response, 404)["code"] == "not_found"


# --- payments as their order ends


def test_cancelling_a_pending_order_fails_its_pending_payments(customer_client, admin_client, order, widget):
    payment = pending_payment(order)

    assert customer_client.post(f"/orders/{order.pk}/cancel").status_code == 200
    refused = admin_client.post(f"/payments/{payment.pk}/succeed")

    body = customer_client.get(f"/payments/{payment.pk}").json()
    assert (body["status"], body["failure_reason"]) == ("FAILED", "order_cancelled")
    assert error_body(refused, 409)["details"] == {"payment_id": payment.pk, "status": "FAILED", "action": "succeed"}
    assert stock_of(widget) == (10, 0)


def test_cancelling_a_paid_order_refunds_its_payment(customer_client, admin_client, order, widget, gateway):
    payment = pending_payment(order)
    admin_client.post(f"/payments/{payment.pk}/succeed", {"provider_reference": "ch_9"})

    response = admin_client.post(f"/orders/{order.pk}/cancel")

    assert response.json()["status"] == "CANCELLED"
    assert customer_client.get(f"/payments/{payment.pk}").json()["status"] == "REFUNDED"
    refunded = Payment.objects.get(pk=payment.pk)
    assert refunded.refund_requested_at <= refunded.refunded_at
    assert gateway.calls == {f"refund-{payment.pk}": 1}
    assert stock_of(widget) == (10, 0)


# --- the services


def test_payment_services_check_the_policies(order, customer, other_customer, inventory_manager, admin_user):
    payment = pending_payment(order)

    for actor in (other_customer, inventory_manager):
        with pytest.raises(TransitionForbidden):
            payment_create(order_id=order.pk, actor=actor)
    for actor in (customer, inventory_manager):
        with pytest.raises(TransitionForbidden):
            payment_succeed(payment_id=payment.pk, actor=actor)
        with pytest.raises(TransitionForbidden):
            payment_fail(payment_id=payment.pk, actor=actor, reason="x")
    assert payment_create(order_id=order.pk, actor=admin_user).status == PaymentStatus.PENDING


@pytest.mark.django_db(transaction=True)
def test_payment_events_are_logged_after_commit(order, admin_user, customer, place_order, widget):
    paid, failed = pending_payment(order), pending_payment(place_order(customer, [(widget, 1)]))

    with capture_logs() as logs:
        payment_succeed(payment_id=paid.pk, actor=admin_user, provider_reference="ref-1")
        payment_fail(payment_id=failed.pk, actor=admin_user, reason="declined by bank")
        order_ship(order_id=order.pk, actor=admin_user)

    events = [(line["event"], line.get("payment_id"), line.get("failure_reason")) for line in logs]
    assert events[:3] == [
        ("payment_succeeded", paid.pk, None),
        ("order_paid", None, None),
        ("email_sent", None, None),
    ]
    assert ("payment_failed", failed.pk, "declined by bank") in events
    assert [line["template"] for line in logs if line["event"] == "email_sent"] == [
        "payment_receipt",
        "shipping_notice",
    ]


@pytest.mark.django_db(transaction=True)
def test_a_refused_settlement_logs_nothing(order, admin_user):
    payment = pending_payment(order)
    payment_fail(payment_id=payment.pk, actor=admin_user, reason="declined")

    with capture_logs() as logs, pytest.raises(InvalidTransition):
        payment_succeed(payment_id=payment.pk, actor=admin_user)

    assert logs == []


def test_order_pay_reuses_the_orders_pending_mock_payment(order, customer, gateway):
    created = pending_payment(order)
    other_provider = pending_payment(order, provider="stripe")

    paid = order_pay(order_id=order.pk, actor=customer)

    assert paid.status == OrderStatus.PAID
    assert Payment.objects.get(pk=created.pk).status == PaymentStatus.SUCCEEDED
    assert Payment.objects.get(pk=other_provider.pk).status == PaymentStatus.FAILED  # never charged: order_already_paid
    assert gateway.calls == {f"pay-{created.pk}": 1}


def test_order_cancel_of_a_paid_order_requests_then_makes_the_refund(order, customer, admin_user, gateway):
    order_pay(order_id=order.pk, actor=customer)
    payment = Payment.objects.get(order=order)

    order_cancel(order_id=order.pk, actor=admin_user)

    payment.refresh_from_db()
    assert (payment.status, payment.refund_requested_at is not None, payment.refunded_at is not None) == (
        PaymentStatus.REFUNDED,
        True,
        True,
    )
    assert gateway.calls == {f"pay-{payment.pk}": 1, f"refund-{payment.pk}": 1}


def test_payment_list_query_count_does_not_grow_with_payments(
    admin_client, place_order, customer, product_factory, django_assert_max_num_queries
):
    stocked = product_factory(stock_quantity=100)
    counts = []
    for _ in range(2):
        for _ in range(5):
            pending_payment(place_order(customer, [(stocked, 1)]))
        with django_assert_max_num_queries(12) as captured:
            assert admin_client.get("/payments", {"page_size": 100}).status_code == 200
        counts.append(len(captured))

    assert counts[0] == counts[1]
