"""``/shipments``: PENDING -> SHIPPED (the order ships, its stock is committed) or CANCELLED (final)."""

from decimal import Decimal

import pytest
from structlog.testing import capture_logs

from inventory.models import MovementKind, StockMovement
from orders.models import Order, OrderStatus, Shipment, ShipmentStatus
from orders.services.shipments import shipment_cancel, shipment_create, shipment_ship
from orders.services.workflow import order_pay
from tests.orders.helpers import error_body, reservation_statuses, written
from tests.stock import only_variant, rows_of, stock_of

pytestmark = pytest.mark.django_db

SHIPMENT_FIELDS = {"id", "order_id", "status", "carrier", "tracking_number", "created_at", "shipped_at", "cancelled_at"}


@pytest.fixture
def widget(product_factory):
    return product_factory(sku="SHIP-W", price=Decimal("12.00"), stock_quantity=10)


@pytest.fixture
def paid(place_order, customer, widget):
    order = place_order(customer, [(widget, 4)])
    order_pay(order_id=order.pk, actor=customer)
    return order


@pytest.fixture
def other_customer(user_factory):
    return user_factory()


def open_shipment(order, actor, **fields) -> Shipment:
    return shipment_create(order_id=order.pk, actor=actor, **fields)


# --- POST /shipments


@pytest.mark.parametrize("role", ["admin", "inventory_manager"])
def test_staff_create_a_pending_shipment_for_a_paid_order(
    client_for, admin_user, inventory_manager, paid, widget, role
):
    client = client_for(admin_user if role == "admin" else inventory_manager)

    response = client.post("/shipments", {"order_id": str(paid.pk), "carrier": "DHL", "tracking_number": "JD0001"})

    assert response.status_code == 201, response.content
    body = response.json()
    shipment = Shipment.objects.get()
    assert set(body) == SHIPMENT_FIELDS
    assert body == {
        "id": shipment.pk,
        "order_id": str(paid.pk),
        "status": "PENDING",
        "carrier": "DHL",
        "tracking_number": "JD0001",
        "created_at": body["created_at"],
        "shipped_at": None,
        "cancelled_at": None,
    }
    assert Order.objects.get(pk=paid.pk).status == OrderStatus.PAID
    assert reservation_statuses(paid) == {"ALLOCATED"}
    assert stock_of(widget) == (6, 4)


def test_a_shipment_needs_neither_carrier_nor_tracking_number(admin_client, paid):
    response = admin_client.post("/shipments/", {"order_id": str(paid.pk)})

    assert response.status_code == 201, response.content
    assert (response.json()["carrier"], response.json()["tracking_number"]) == ("", "")


def test_customers_cannot_create_shipments(customer_client, paid):
    before = written()

    response = customer_client.post("/shipments", {"order_id": str(paid.pk)})

    assert error_body(response, 403) == {
        "code": "staff_required",
        "message": "Only staff (admins or inventory managers) may do this.",
        "details": {},
    }
    assert written() == before


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"order_id": ["This field is required."]}),
        ({"carrier": "DHL"}, {"order_id": ["This field is required."]}),
        ({"order_id": "x"}, {"order_id": ["Must be a valid UUID."]}),
        (
            {"order_id": "{order}", "carrier": "c" * 51},
            {"carrier": ["Ensure this field has no more than 50 characters."]},
        ),
        (
            {"order_id": "{order}", "tracking_number": "t" * 65},
            {"tracking_number": ["Ensure this field has no more than 64 characters."]},
        ),
    ],
    ids=["empty", "no-order", "bad-uuid", "long-carrier", "long-tracking"],
)
def test_create_shipment_refuses_bad_bodies(admin_client, paid, body, fields):
    body = {key: str(paid.pk) if value == "{order}" else value for key, value in body.items()}
    before = written()

    response = admin_client.post("/shipments", body, format="json")

    assert error_body(response, 400) == {
        "code": "validation_error",
        "message": "Invalid input.",
        "details": {"fields": fields},
    }
    assert written() == before


@pytest.mark.parametrize("steps", [[], ["ship"], ["cancel"], ["expire"]])
def test_a_shipment_for_an_order_that_is_not_paid_is_409(admin_client, place_order, customer, widget, steps):
    order = place_order(customer, [(widget, 1)])
    if steps and steps[0] != "expire":
        assert admin_client.post(f"/orders/{order.pk}/pay").status_code == 200
    for step in steps:
        assert admin_client.post(f"/orders/{order.pk}/{step}").status_code == 200
    status = Order.objects.get(pk=order.pk).status
    before = written()

    response = admin_client.post("/shipments", {"order_id": str(order.pk)})

    assert error_body(response, 409) == {
        "code": "invalid_transition",
        "message": f"Cannot create a shipment for an order that is {status}.",
        "details": {"order_id": str(order.pk), "status": status, "action": "create_shipment"},
    }
    assert written() == before


def test_a_second_open_shipment_is_409(admin_client, paid, admin_user):
    first = open_shipment(paid, admin_user)
    before = written()

    response = admin_client.post("/shipments", {"order_id": str(paid.pk)})

    assert error_body(response, 409) == {
        "code": "shipment_open",
        "message": "The order already has an open shipment.",
        "details": {"order_id": str(paid.pk), "shipment_id": first.pk},
    }
    assert written() == before


def test_a_cancelled_shipment_makes_room_for_a_new_one(admin_client, paid, admin_user):
    first = open_shipment(paid, admin_user)
    shipment_cancel(shipment_id=first.pk, actor=admin_user)

    response = admin_client.post("/shipments", {"order_id": str(paid.pk)})

    assert response.status_code == 201
    assert sorted(Shipment.objects.values_list("status", flat=True)) == ["CANCELLED", "PENDING"]


def test_a_tracking_number_is_unique_per_carrier(admin_client, paid, place_order, customer, widget, admin_user):
    other = place_order(customer, [(widget, 1)])
    order_pay(order_id=other.pk, actor=customer)
    open_shipment(paid, admin_user, carrier="UPS", tracking_number="1Z999")
    before = written()

    taken = admin_client.post("/shipments", {"order_id": str(other.pk), "carrier": "UPS", "tracking_number": "1Z999"})
    other_carrier = admin_client.post(
        "/shipments", {"order_id": str(other.pk), "carrier": "DHL", "tracking_number": "1Z999"}
    )

    assert error_body(taken, 409) == {
        "code": "tracking_number_taken",
        "message": "Another shipment of this carrier has this tracking number.",
        "details": {"carrier": "UPS", "tracking_number": "1Z999"},
    }
    assert other_carrier.status_code == 201
    assert written()[0] == before[0]


def test_only_an_unknown_order_is_404_for_a_shipment(admin_client, paid, client_for, other_customer):
    """Only staff create shipments; they see every order, so only an unknown order is 404."""
    missing = admin_client.post("/shipments", {"order_id": "00000000-0000-4000-8000-000000000000"})

    assert error_body(missing, 404)["code"] == "order_not_found"
    assert error_body(client_for(other_customer).post("/shipments", {"order_id": str(paid.pk)}), 403)["code"] == (
        "staff_required"
    )


# --- GET /shipments, GET /shipments/{id}


def test_customers_read_the_shipments_of_their_own_orders(
    customer_client, client_for, manager_client, paid, other_customer, place_order, widget, admin_user
):
    mine = open_shipment(paid, admin_user)
    theirs_order = place_order(other_customer, [(widget, 1)])
    order_pay(order_id=theirs_order.pk, actor=other_customer)
    theirs = open_shipment(theirs_order, admin_user)

    listed = customer_client.get("/shipments").json()
    by_staff = manager_client.get("/shipments").json()
    own = customer_client.get(f"/shipments/{mine.pk}")
    other = customer_client.get(f"/shipments/{theirs.pk}")

    assert [s["id"] for s in listed["results"]] == [mine.pk]
    assert [s["id"] for s in by_staff["results"]] == [theirs.pk, mine.pk]
    assert own.json()["order_id"] == str(paid.pk)
    assert error_body(other, 404)["code"] == "not_found"
    assert client_for(other_customer).get("/shipments").json()["count"] == 1


def test_list_shipments_filters_by_order_and_status(admin_client, paid, admin_user, place_order, customer, widget):
    cancelled = open_shipment(paid, admin_user)
    shipment_cancel(shipment_id=cancelled.pk, actor=admin_user)
    pending = open_shipment(paid, admin_user)
    other = place_order(customer, [(widget, 1)])
    order_pay(order_id=other.pk, actor=customer)
    elsewhere = open_shipment(other, admin_user)

    by_order = admin_client.get("/shipments", {"order_id": str(paid.pk)}).json()["results"]
    by_status = admin_client.get("/shipments", {"status": "pending"}).json()["results"]
    both = admin_client.get("/shipments", {"order_id": str(paid.pk), "status": "CANCELLED"}).json()["results"]
    bad = admin_client.get("/shipments", {"status": "LOST"})

    assert [s["id"] for s in by_order] == [pending.pk, cancelled.pk]
    assert [s["id"] for s in by_status] == [elsewhere.pk, pending.pk]
    assert [s["id"] for s in both] == [cancelled.pk]
    assert list(error_body(bad, 400)["details"]["fields"]) == ["status"]


def test_shipments_need_a_token(api_client, paid, admin_user):
    shipment = open_shipment(paid, admin_user)

    for response in (
        api_client.get("/shipments"),
        api_client.get(f"/shipments/{shipment.pk}"),
        api_client.post("/shipments", {"order_id": str(paid.pk)}),
        api_client.post(f"/shipments/{shipment.pk}/ship"),
        api_client.post(f"/shipments/{shipment.pk}/cancel"),
    ):
        assert error_body(response, 401)["code"] == "not_authenticated"


# --- POST /shipments/{id}/ship and /cancel


def test_shipping_a_shipment_ships_the_order_and_commits_its_stock(manager_client, paid, widget, inventory_manager):
    shipment = open_shipment(paid, inventory_manager, carrier="DHL")

    response = manager_client.post(f"/shipments/{shipment.pk}/ship", {"tracking_number": "JD42"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["carrier"], body["tracking_number"]) == ("SHIPPED", "DHL", "JD42")
    assert body["shipped_at"] is not None
    order = Order.objects.get(pk=paid.pk)
    assert (order.status, order.shipped_at is not None) == (OrderStatus.SHIPPED, True)
    assert reservation_statuses(paid) == {"COMMITTED"}
    assert rows_of(only_variant(widget)) == {"MAIN/DEFAULT": (6, 0)}
    commits = StockMovement.objects.filter(order_id=paid.pk, kind=MovementKind.COMMIT)
    assert list(commits.values_list("on_hand_delta", "reserved_delta", "actor_id")) == [(-4, -4, inventory_manager.pk)]


def test_ship_records_carrier_and_tracking_number_when_given(admin_client, paid, admin_user):
    shipment = open_shipment(paid, admin_user, carrier="DHL", tracking_number="OLD")

    response = admin_client.post(f"/shipments/{shipment.pk}/ship", {"carrier": "UPS", "tracking_number": "1Z1"})

    assert (response.json()["carrier"], response.json()["tracking_number"]) == ("UPS", "1Z1")


def test_cancelling_a_shipment_keeps_the_order_paid(admin_client, paid, widget, admin_user):
    shipment = open_shipment(paid, admin_user)

    response = admin_client.post(f"/shipments/{shipment.pk}/cancel")

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["cancelled_at"] is not None) == ("CANCELLED", True)
    assert Order.objects.get(pk=paid.pk).status == OrderStatus.PAID
    assert reservation_statuses(paid) == {"ALLOCATED"}
    assert stock_of(widget) == (6, 4)


@pytest.mark.parametrize("action", ["ship", "cancel"])
def test_customers_cannot_ship_or_cancel_shipments(customer_client, paid, admin_user, action):
    shipment = open_shipment(paid, admin_user)
    before = written()

    response = customer_client.post(f"/shipments/{shipment.pk}/{action}")

    assert error_body(response, 403)["code"] == "staff_required"
    assert written() == before


@pytest.mark.parametrize("first", ["ship", "cancel"])
@pytest.mark.parametrize("then", ["ship", "cancel"])
def test_a_shipped_or_cancelled_shipment_is_final(admin_client, paid, admin_user, first, then):
    shipment = open_shipment(paid, admin_user)
    assert admin_client.post(f"/shipments/{shipment.pk}/{first}").status_code == 200
    status = Shipment.objects.get(pk=shipment.pk).status
    before = written()

    response = admin_client.post(f"/shipments/{shipment.pk}/{then}")

    assert error_body(response, 409) == {
        "code": "invalid_transition",
        "message": f"Cannot {then} a shipment that is {status}.",
        "details": {"shipment_id": shipment.pk, "status": status, "action": then},
    }
    assert written() == before


@pytest.mark.parametrize("action", ["ship", "cancel"])
def test_an_unknown_shipment_is_404(admin_client, action):
    assert error_body(admin_client.post(f"/shipments/987654321/{action}"), 404)["code"] == "not_found"


def test_cancelling_a_paid_order_cancels_its_open_shipment(admin_client, paid, widget, admin_user):
    shipment = open_shipment(paid, admin_user)

    assert admin_client.post(f"/orders/{paid.pk}/cancel").status_code == 200

    shipment.refresh_from_db()
    assert (shipment.status, shipment.cancelled_at is not None) == (ShipmentStatus.CANCELLED, True)
    assert error_body(admin_client.post(f"/shipments/{shipment.pk}/ship"), 409)["details"]["status"] == "CANCELLED"
    assert stock_of(widget) == (10, 0)


# --- POST /orders/{id}/ship, the one-call path


def test_order_ship_creates_a_shipped_flat_rate_shipment(admin_client, paid):
    response = admin_client.post(f"/orders/{paid.pk}/ship")

    assert response.json()["status"] == "SHIPPED"
    shipment = Shipment.objects.get(order=paid)
    assert (shipment.status, shipment.carrier) == (ShipmentStatus.SHIPPED, "flat-rate")
    assert shipment.tracking_number.startswith("FR")
    assert shipment.cost == paid.shipping_amount


def test_order_ship_records_a_given_carrier(admin_client, paid):
    response = admin_client.post(f"/orders/{paid.pk}/ship", {"carrier": "DHL", "tracking_number": "JD7"})

    assert response.status_code == 200, response.content
    assert Shipment.objects.filter(order=paid).values_list("carrier", "tracking_number").get() == ("DHL", "JD7")


def test_order_ship_ships_the_open_shipment(admin_client, paid, admin_user):
    shipment = open_shipment(paid, admin_user, carrier="UPS", tracking_number="1Z5")

    assert admin_client.post(f"/orders/{paid.pk}/ship").status_code == 200

    assert list(Shipment.objects.values_list("pk", "status", "carrier", "tracking_number")) == [
        (shipment.pk, "SHIPPED", "UPS", "1Z5")
    ]


def test_order_ship_refuses_bad_bodies(admin_client, paid):
    before = written()

    response = admin_client.post(f"/orders/{paid.pk}/ship", {"carrier": "c" * 51}, format="json")

    assert list(error_body(response, 400)["details"]["fields"]) == ["carrier"]
    assert written() == before


# --- the services and their events


def test_shipment_services_check_the_policy(paid, customer, admin_user):
    from orders.exceptions import TransitionForbidden

    shipment = open_shipment(paid, admin_user)

    with pytest.raises(TransitionForbidden):
        shipment_create(order_id=paid.pk, actor=customer)
    with pytest.raises(TransitionForbidden):
        shipment_ship(shipment_id=shipment.pk, actor=customer)
    with pytest.raises(TransitionForbidden):
        shipment_cancel(shipment_id=shipment.pk, actor=customer)
    assert Shipment.objects.get().status == ShipmentStatus.PENDING


@pytest.mark.django_db(transaction=True)
def test_shipment_events_are_logged_after_commit(paid, place_order, customer, widget, admin_user):
    shipped = open_shipment(paid, admin_user, carrier="DHL", tracking_number="JD1")
    other = place_order(customer, [(widget, 1)])
    order_pay(order_id=other.pk, actor=customer)
    cancelled = open_shipment(other, admin_user)

    with capture_logs() as logs:
        shipment_ship(shipment_id=shipped.pk, actor=admin_user)
        shipment_cancel(shipment_id=cancelled.pk, actor=admin_user)

    assert [(line["event"], line.get("shipment_id")) for line in logs] == [
        ("shipment_shipped", shipped.pk),
        ("order_shipped", None),
        ("email_sent", None),
        ("shipment_cancelled", cancelled.pk),
    ]
    assert logs[0] | {"log_level": None} == {
        "event": "shipment_shipped",
        "shipment_id": shipped.pk,
        "order_id": str(paid.pk),
        "status": "SHIPPED",
        "carrier": "DHL",
        "tracking_number": "JD1",
        "log_level": None,
    }
    assert logs[2]["template"] == "shipping_notice"


def test_shipment_list_query_count_does_not_grow_with_shipments(
    customer_client, place_order, customer, widget, admin_user, django_assert_max_num_queries
):
    counts = []
    for _ in range(2):
        for _ in range(3):
            order = place_order(customer, [(widget, 1)])
            order_pay(order_id=order.pk, actor=customer)
            open_shipment(order, admin_user)
        with django_assert_max_num_queries(12) as captured:
            assert customer_client.get("/shipments", {"page_size": 100}).json()["count"] in (3, 6)
        counts.append(len(captured))

    assert counts[0] == counts[1]
