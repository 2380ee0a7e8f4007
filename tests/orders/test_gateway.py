"""Record, commit, call, settle: the gateway is called outside transactions, and nothing is charged twice."""

from collections import Counter
from datetime import timedelta
from decimal import Decimal

import psycopg
import pytest
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from structlog.testing import capture_logs

from orders import locks
from orders.exceptions import InvalidTransition, PaymentDeclined, PaymentGatewayUnavailable
from orders.gateway import gateway_call, payment_gateway
from orders.models import CHARGE_IN_FLIGHT, REFUND_DUE, Order, OrderStatus, Payment, PaymentStatus
from orders.services import charges
from orders.services.charges import _payment_charge_record
from orders.services.expiry import order_expire
from orders.services.payments import payment_create, payment_fail
from orders.services.reconcile import charges_due, payments_reconcile, refunds_due
from orders.services.workflow import order_cancel, order_pay
from tests.commands import command_failure, command_output
from tests.orders.gateways import charged, money_kept
from tests.orders.helpers import error_body, reservation_statuses
from tests.stock import stock_of

NOTHING = "0 succeeded, 0 failed, 0 refunded, 0 refund_declined, 0 unreachable\n"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def scripted(settings):
    settings.PAYMENT_GATEWAY = "tests.orders.gateways.ScriptedGateway"
    gateway = payment_gateway()
    gateway.reset()
    return gateway


@pytest.fixture
def widget(product_factory):
    return product_factory(sku="GW-1", price=Decimal("40.00"), stock_quantity=10)


@pytest.fixture
def order(place_order, customer, widget):
    return place_order(customer, [(widget, 3)])


def payment_of(order) -> Payment:
    return Payment.objects.get(order=order)


def charges_of(gateway, order) -> list[str]:
    """The keys of the order's payments that took money at the gateway."""
    keys = {f"pay-{pk}" for pk in Payment.objects.filter(order=order).values_list("pk", flat=True)}
    return [key for key in charged(gateway) if key in keys]


def test_the_payment_is_committed_pending_before_the_gateway_is_called(scripted, order, customer):
    def read_from_another_connection(key: str):
        payment = Payment.objects.get(pk=int(key.removeprefix("pay-")))
        return payment.status, payment.charge_requested_at is not None, Order.objects.get(pk=order.pk).status

    scripted.during_charge = read_from_another_connection

    paid = order_pay(order_id=order.pk, actor=customer)

    assert scripted.meanwhile == [(PaymentStatus.PENDING, True, OrderStatus.PENDING)]
    assert scripted.inside_transaction == [False]
    assert paid.status == OrderStatus.PAID
    payment = payment_of(order)
    assert (payment.status, payment.provider, payment.provider_reference) == (
        PaymentStatus.SUCCEEDED,
        "mock",
        scripted.charges[f"pay-{payment.pk}"].reference,
    )


def test_refunds_are_requested_and_committed_before_the_gateway_is_called(scripted, order, customer, admin_user):
    order_pay(order_id=order.pk, actor=customer)

    order_cancel(order_id=order.pk, actor=admin_user)

    assert scripted.inside_transaction == [False, False]
    payment = payment_of(order)
    assert payment.status == PaymentStatus.REFUNDED
    assert scripted.calls == {f"pay-{payment.pk}": 1, f"refund-{payment.pk}": 1}


def test_the_gateway_refuses_to_be_called_inside_a_transaction(order, customer):
    payment = payment_create(order_id=order.pk, actor=customer)

    with transaction.atomic(), pytest.raises(RuntimeError, match="never called inside a database transaction"):
        gateway_call(lambda: None, operation="charge", payment=payment)


@pytest.mark.parametrize("error", [ConnectionError("connection refused"), TimeoutError("read timed out")])
def test_a_gateway_that_fails_before_charging_leaves_the_payment_pending_and_a_retry_charges_once(
    scripted, client_for, customer, order, widget, error
):
    scripted.failures["charge"] = [error]
    client = client_for(customer)

    with capture_logs() as logs:
        failed = client.post(f"/orders/{order.pk}/pay")

    payment = payment_of(order)
    assert error_body(failed, 502) == {
        "code": "payment_gateway_unavailable",
        "message": "The payment gateway did not answer; the payment is still pending. Retry later.",
        "details": {"order_id": str(order.pk), "payment_id": payment.pk},
    }
    assert [line["error"] for line in logs if line["event"] == "payment_gateway_error"] == [repr(error)]
    assert (payment.status, Order.objects.get(pk=order.pk).status) == (PaymentStatus.PENDING, OrderStatus.PENDING)
    assert charges_of(scripted, order) == []

    retried = client.post(f"/orders/{order.pk}/pay")

    assert retried.json()["status"] == "PAID"
    assert list(Payment.objects.filter(order=order).values_list("pk", "status")) == [(payment.pk, "SUCCEEDED")]
    assert scripted.calls == {f"pay-{payment.pk}": 2}
    assert charges_of(scripted, order) == [f"pay-{payment.pk}"]
    assert stock_of(widget) == (7, 3)


def test_a_gateway_that_times_out_after_charging_is_settled_by_the_retry_with_one_charge(
    scripted, client_for, customer, order
):
    scripted.failures["charge"], scripted.lose_answer = [TimeoutError("read timed out")], True
    client = client_for(customer)

    assert error_body(client.post(f"/orders/{order.pk}/pay"), 502)["code"] == "payment_gateway_unavailable"
    payment = payment_of(order)
    assert payment.status == PaymentStatus.PENDING
    assert charges_of(scripted, order) == [f"pay-{payment.pk}"]  # the money was taken; the answer was lost

    assert client.post(f"/orders/{order.pk}/pay").json()["status"] == "PAID"

    assert scripted.calls == {f"pay-{payment.pk}": 2}
    assert charges_of(scripted, order) == [f"pay-{payment.pk}"]
    payment.refresh_from_db()
    assert (payment.status, payment.provider_reference) == (
        PaymentStatus.SUCCEEDED,
        scripted.charges[f"pay-{payment.pk}"].reference,
    )


def test_a_gateway_that_times_out_after_charging_is_settled_by_reconcile_payments(scripted, order, customer):
    scripted.failures["charge"], scripted.lose_answer = [TimeoutError("read timed out")], True
    with pytest.raises(PaymentGatewayUnavailable):
        order_pay(order_id=order.pk, actor=customer)

    fresh = command_output("reconcile_payments")  # within the grace period: left to the request
    output = command_output("reconcile_payments", "--older-than-seconds", "0")

    assert fresh == NOTHING
    assert output == "1 succeeded, 0 failed, 0 refunded, 0 refund_declined, 0 unreachable\n"
    payment = payment_of(order)
    assert payment.status == PaymentStatus.SUCCEEDED
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PAID
    assert reservation_statuses(order) == {"ALLOCATED"}
    assert scripted.calls == {f"pay-{payment.pk}": 1}
    assert charges_of(scripted, order) == [f"pay-{payment.pk}"]


def deadlock() -> OperationalError:
    try:
        raise psycopg.errors.DeadlockDetected("deadlock detected")
    except psycopg.errors.DeadlockDetected as cause:
        try:
            raise OperationalError("deadlock detected") from cause
        except OperationalError as error:
            return error


def test_a_deadlock_retry_never_charges_twice(order, customer, gateway, monkeypatch):
    """The first try of the recording transaction and of the settling one each die in a deadlock."""
    calls = []
    real_lock = locks.order_lock

    def order_lock_once_deadlocked(**kwargs):
        calls.append(kwargs["order_id"])
        if len(calls) in (1, 3):
            raise deadlock()
        return real_lock(**kwargs)

    monkeypatch.setattr(charges, "order_lock", order_lock_once_deadlocked)  # recording
    monkeypatch.setattr(locks, "order_lock", order_lock_once_deadlocked)  # settling, through ``payment_lock``

    with capture_logs() as logs:
        paid = order_pay(order_id=order.pk, actor=customer)

    payment = payment_of(order)
    assert paid.status == OrderStatus.PAID
    assert len(calls) == 4
    assert [line["function"] for line in logs if line["event"] == "transaction_retry"] == [
        "_payment_charge_record",
        "_payment_settle",
    ]
    assert gateway.calls == {f"pay-{payment.pk}": 1}
    assert Payment.objects.filter(order=order).count() == 1


def test_a_declined_charge_is_failed_with_the_gateways_message(order, customer, gateway, settings):
    settings.MOCK_PAYMENT_FAIL = True

    with pytest.raises(PaymentDeclined) as excinfo:
        order_pay(order_id=order.pk, actor=customer)

    payment = payment_of(order)
    assert (payment.status, payment.failure_reason) == (PaymentStatus.FAILED, "Card declined (mock gateway).")
    assert excinfo.value.details == {"order_id": str(order.pk), "payment_id": payment.pk}
    assert charged(gateway) == []


@pytest.mark.parametrize("meanwhile", ["cancel", "expire", "admin_fail"])
def test_a_charge_that_lands_after_its_payment_ended_is_refunded(
    scripted, order, customer, admin_user, widget, meanwhile
):
    """While the gateway charges, the order is cancelled or expired, or an admin fails the payment."""
    actions = {
        "cancel": lambda key: order_cancel(order_id=order.pk, actor=customer),
        "expire": lambda key: order_expire(order_id=order.pk, actor=admin_user),
        "admin_fail": lambda key: payment_fail(
            payment_id=int(key.removeprefix("pay-")), actor=admin_user, reason="provider says no"
        ),
    }
    scripted.during_charge = actions[meanwhile]

    with pytest.raises((InvalidTransition, PaymentDeclined)) as excinfo:
        order_pay(order_id=order.pk, actor=customer)

    assert not isinstance(scripted.meanwhile[0], Exception), scripted.meanwhile
    payment = payment_of(order)
    reasons = {"cancel": "order_cancelled", "expire": "order_expired", "admin_fail": "provider says no"}
    assert (payment.status, payment.failure_reason) == (PaymentStatus.FAILED, reasons[meanwhile])
    assert payment.refund_requested_at is not None
    assert payment.refunded_at is not None
    assert scripted.calls == {f"pay-{payment.pk}": 1, f"refund-{payment.pk}": 1}
    assert money_kept(scripted) == []  # the refund went out after the charge landed, so it gave the money back
    order.refresh_from_db()
    if meanwhile == "admin_fail":
        assert excinfo.value.code == "payment_declined"
        assert order.status == OrderStatus.PENDING
        assert stock_of(widget) == (7, 3)
    else:
        assert excinfo.value.details == {"order_id": str(order.pk), "status": order.status, "action": "pay"}
        assert order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED)
        assert stock_of(widget) == (10, 0)


def test_reconcile_fails_a_charge_the_gateway_never_received_and_refunds_it_next_run(order, customer, gateway):
    payment = _payment_charge_record(order_id=order.pk, actor=customer, provider="mock")
    # ... and the process died before calling the gateway.

    output = command_output("reconcile_payments", "--older-than-seconds", "0")

    assert output == "0 succeeded, 1 failed, 0 refunded, 0 refund_declined, 0 unreachable\n"
    payment.refresh_from_db()
    assert (payment.status, payment.failure_reason) == (PaymentStatus.FAILED, "charge_not_received")
    assert (payment.refund_requested_at is not None, payment.refunded_at) == (True, None)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING
    assert gateway.calls == {}  # the refund waits for the next run, in case the charge is still on its way

    again = command_output("reconcile_payments", "--older-than-seconds", "0")

    assert again == "0 succeeded, 0 failed, 1 refunded, 0 refund_declined, 0 unreachable\n"
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_at is not None) == (PaymentStatus.FAILED, True)
    assert gateway.calls == {f"refund-{payment.pk}": 1}
    assert command_output("reconcile_payments", "--older-than-seconds", "0") == NOTHING


def test_a_charge_that_lands_after_reconcile_found_nothing_is_refunded(scripted, order, customer):
    payment = _payment_charge_record(order_id=order.pk, actor=customer, provider="mock")
    payments_reconcile(older_than=timedelta(0))  # the gateway has not received pay-<id> (yet)
    # ... then the charge, still on its way, lands.
    scripted.charge(idempotency_key=f"pay-{payment.pk}", amount=payment.amount, currency="USD", order_id=order.pk)

    counts = payments_reconcile(older_than=timedelta(0))

    assert counts == {"refunded": 1}
    payment.refresh_from_db()
    assert (payment.status, payment.failure_reason, payment.refunded_at is not None) == (
        PaymentStatus.FAILED,
        "charge_not_received",
        True,
    )
    assert charges_of(scripted, order) == [f"pay-{payment.pk}"]
    assert money_kept(scripted) == []


def test_reconcile_settles_a_declined_charge_left_pending(order, customer, gateway, settings):
    settings.MOCK_PAYMENT_FAIL = True
    payment = _payment_charge_record(order_id=order.pk, actor=customer, provider="mock")
    gateway.charge(idempotency_key=f"pay-{payment.pk}", amount=payment.amount, currency="USD", order_id=order.pk)
    # ... and the process died before settling the answer.

    counts = payments_reconcile(older_than=timedelta(0))

    assert counts == {"failed": 1}
    payment.refresh_from_db()
    assert (payment.status, payment.failure_reason) == (PaymentStatus.FAILED, "Card declined (mock gateway).")


def test_reconcile_leaves_payments_without_a_charge_alone(order, customer):
    payment_create(order_id=order.pk, actor=customer)

    assert command_output("reconcile_payments", "--older-than-seconds", "0") == NOTHING
    assert payment_of(order).status == PaymentStatus.PENDING


def test_reconcile_reports_a_gateway_that_does_not_answer(scripted, order, customer):
    _payment_charge_record(order_id=order.pk, actor=customer, provider="mock")
    scripted.failures["lookup"] = [ConnectionError("down")]

    out, message = command_failure("reconcile_payments", "--older-than-seconds", "0")

    assert out == "0 succeeded, 0 failed, 0 refunded, 0 refund_declined, 1 unreachable\n"
    assert message == "the gateway did not answer for 1 payment(s); run again later"
    assert payment_of(order).status == PaymentStatus.PENDING


def test_reconcile_payments_refuses_a_negative_grace():
    assert command_failure("reconcile_payments", "--older-than-seconds", "-1")[1] == (
        "--older-than-seconds must not be negative"
    )


def test_a_refund_left_half_way_is_finished_by_reconcile_payments(
    scripted, settings, client_for, admin_user, customer, order, widget
):
    order_pay(order_id=order.pk, actor=customer)
    payment = payment_of(order)
    scripted.failures["refund"] = [TimeoutError("read timed out")]

    cancelled = client_for(admin_user).post(f"/orders/{order.pk}/cancel")

    assert cancelled.json()["status"] == "CANCELLED"
    assert stock_of(widget) == (10, 0)
    payment.refresh_from_db()
    assert (payment.status, payment.refund_requested_at is not None, payment.refunded_at) == (
        PaymentStatus.SUCCEEDED,
        True,
        None,
    )

    output = command_output("reconcile_payments", "--older-than-seconds", "0")
    again = command_output("reconcile_payments", "--older-than-seconds", "0")

    assert output == "0 succeeded, 0 failed, 1 refunded, 0 refund_declined, 0 unreachable\n"
    assert again == NOTHING
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_at is not None) == (PaymentStatus.REFUNDED, True)
    assert scripted.calls == {f"pay-{payment.pk}": 1, f"refund-{payment.pk}": 2}
    assert money_kept(scripted) == []


def declining_refunds(settings):
    settings.PAYMENT_GATEWAY = "tests.orders.gateways.DecliningRefundsGateway"
    payment_gateway().reset()
    return payment_gateway()


def test_a_declined_refund_is_recorded_and_not_asked_again(settings, client_for, admin_user, customer, order):
    order_pay(order_id=order.pk, actor=customer)
    payment = payment_of(order)
    gateway = declining_refunds(settings)

    with capture_logs() as logs:
        cancelled = client_for(admin_user).post(f"/orders/{order.pk}/cancel")

    assert cancelled.json()["status"] == "CANCELLED"
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_at, payment.refund_failure_reason) == (
        PaymentStatus.SUCCEEDED,
        None,
        "Refund refused (test gateway).",
    )
    assert payment.refund_requested_at <= payment.refund_failed_at
    assert [line["payment_id"] for line in logs if line["event"] == "payment_refund_declined"] == [payment.pk] * 2
    assert command_output("reconcile_payments", "--older-than-seconds", "0") == NOTHING
    assert gateway.calls == {f"refund-{payment.pk}": 1}


def test_reconcile_counts_a_declined_refund_and_does_not_fail(scripted, settings, admin_user, customer, order):
    order_pay(order_id=order.pk, actor=customer)
    payment = payment_of(order)
    scripted.failures["refund"] = [TimeoutError("read timed out")]
    order_cancel(order_id=order.pk, actor=admin_user)  # the refund is left requested
    gateway = declining_refunds(settings)

    output = command_output("reconcile_payments", "--older-than-seconds", "0")
    again = command_output("reconcile_payments", "--older-than-seconds", "0")

    assert output == "0 succeeded, 0 failed, 0 refunded, 1 refund_declined, 0 unreachable\n"
    assert again == NOTHING
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_at, payment.refund_failed_at is not None) == (
        PaymentStatus.SUCCEEDED,
        None,
        True,
    )
    assert gateway.calls == {f"refund-{payment.pk}": 1}


# --- one charge in flight per order


def test_a_retry_after_a_timeout_charges_the_payment_in_flight_not_a_newer_one(
    scripted, client_for, customer, order, widget
):
    scripted.failures["charge"], scripted.lose_answer = [TimeoutError("read timed out")], True
    client = client_for(customer)
    assert error_body(client.post(f"/orders/{order.pk}/pay"), 502)["code"] == "payment_gateway_unavailable"
    first = payment_of(order)  # its charge took the money; the answer was lost
    second = client.post("/payments", {"order_id": str(order.pk)}, format="json")
    assert second.status_code == 201

    retried = client.post(f"/orders/{order.pk}/pay")

    assert retried.json()["status"] == "PAID"
    assert charges_of(scripted, order) == [f"pay-{first.pk}"]
    assert scripted.calls == {f"pay-{first.pk}": 2}
    assert sorted(Payment.objects.filter(order=order).values_list("pk", "status", "failure_reason")) == [
        (first.pk, PaymentStatus.SUCCEEDED, ""),
        (second.json()["id"], PaymentStatus.FAILED, "order_already_paid"),
    ]
    assert stock_of(widget) == (7, 3)


def test_a_charge_through_another_gateway_waits_for_the_one_in_flight(client_for, customer, order, gateway):
    in_flight = _payment_charge_record(order_id=order.pk, actor=customer, provider="other-gateway")

    response = client_for(customer).post(f"/orders/{order.pk}/pay")

    assert error_body(response, 409) == {
        "code": "charge_in_flight",
        "message": "Another charge of this order is awaiting the payment gateway's answer; retry once it is settled.",
        "details": {"order_id": str(order.pk), "payment_id": in_flight.pk},
    }
    assert list(Payment.objects.filter(order=order).values_list("pk", "status")) == [(in_flight.pk, "PENDING")]
    assert gateway.calls == {}


# --- an admin failing a charge in flight


def test_an_admin_failing_a_charge_whose_answer_was_lost_gets_the_money_back(
    scripted, customer, admin_user, order, widget
):
    scripted.failures["charge"], scripted.lose_answer = [TimeoutError("read timed out")], True
    with pytest.raises(PaymentGatewayUnavailable):
        order_pay(order_id=order.pk, actor=customer)
    payment = payment_of(order)

    payment_fail(payment_id=payment.pk, actor=admin_user, reason="no answer from the provider")

    payment.refresh_from_db()
    assert (payment.status, payment.refund_requested_at is not None, payment.refunded_at) == (
        PaymentStatus.FAILED,
        True,
        None,
    )
    assert scripted.calls == {f"pay-{payment.pk}": 1}  # not at once: a charge still on its way would be missed

    output = command_output("reconcile_payments", "--older-than-seconds", "0")

    assert output == "0 succeeded, 0 failed, 1 refunded, 0 refund_declined, 0 unreachable\n"
    payment.refresh_from_db()
    assert (payment.status, payment.failure_reason, payment.refunded_at is not None) == (
        PaymentStatus.FAILED,
        "no answer from the provider",
        True,
    )
    assert money_kept(scripted) == []
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING
    assert stock_of(widget) == (7, 3)


def test_a_declined_charge_an_admin_failed_meanwhile_leaves_no_refund_to_make(
    scripted, settings, order, customer, admin_user
):
    settings.MOCK_PAYMENT_FAIL = True
    scripted.during_charge = lambda key: payment_fail(
        payment_id=int(key.removeprefix("pay-")), actor=admin_user, reason="provider says no"
    )

    with pytest.raises(PaymentDeclined):
        order_pay(order_id=order.pk, actor=customer)

    assert not isinstance(scripted.meanwhile[0], Exception), scripted.meanwhile
    payment = payment_of(order)
    assert (payment.status, payment.failure_reason, payment.refund_requested_at) == (
        PaymentStatus.FAILED,
        "provider says no",
        None,
    )
    assert command_output("reconcile_payments", "--older-than-seconds", "0") == NOTHING
    assert scripted.calls == {f"pay-{payment.pk}": 1}


def test_reconcile_leaves_a_retried_charge_to_its_call_for_the_grace_period(
    scripted, client_for, customer, order, widget
):
    scripted.failures["charge"] = [TimeoutError("read timed out")]
    client = client_for(customer)
    assert client.post(f"/orders/{order.pk}/pay").status_code == 502
    payment = payment_of(order)
    Payment.objects.filter(pk=payment.pk).update(charge_requested_at=timezone.now() - timedelta(minutes=10))
    scripted.during_charge = lambda key: payments_reconcile(older_than=timedelta(seconds=120))

    retried = client.post(f"/orders/{order.pk}/pay")

    assert scripted.meanwhile == [Counter()]  # the retry's charge was sent just now: not reconcile's to settle
    assert retried.json()["status"] == "PAID"
    payment.refresh_from_db()
    assert (payment.status, payment.refund_requested_at) == (PaymentStatus.SUCCEEDED, None)
    assert scripted.calls == {f"pay-{payment.pk}": 2}
    assert money_kept(scripted) == [f"pay-{payment.pk}"]
    assert stock_of(widget) == (7, 3)


def test_an_admin_failing_a_payment_never_charged_requests_no_refund(order, customer, admin_user, gateway):
    payment = payment_create(order_id=order.pk, actor=customer)

    payment_fail(payment_id=payment.pk, actor=admin_user, reason="card_expired")

    payment.refresh_from_db()
    assert (payment.status, payment.refund_requested_at) == (PaymentStatus.FAILED, None)
    assert command_output("reconcile_payments", "--older-than-seconds", "0") == NOTHING
    assert gateway.calls == {}


# --- the indexes reconcile reads through


@pytest.mark.parametrize(
    ("due", "index"), [(charges_due, "payment_charge_due_idx"), (refunds_due, "payment_refund_due_idx")]
)
def test_reconcile_reads_what_is_due_through_its_partial_index(due, index):
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
        plan = due(cutoff=timezone.now()).order_by().explain()

    assert index in plan


NOW = timezone.now()


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"charge_requested_at": NOW},
        {"status": PaymentStatus.FAILED, "completed_at": NOW, "charge_requested_at": NOW},
        {"status": PaymentStatus.FAILED, "completed_at": NOW, "refund_requested_at": NOW},
        {"status": PaymentStatus.FAILED, "completed_at": NOW, "refund_requested_at": NOW, "refunded_at": NOW},
        {"status": PaymentStatus.SUCCEEDED, "completed_at": NOW, "refund_requested_at": NOW, "refund_failed_at": NOW},
    ],
)
def test_a_payment_in_hand_and_the_queries_agree_on_what_is_in_flight_or_due(order, fields):
    payment = payment_create(order_id=order.pk, actor=order.user)
    Payment.objects.filter(pk=payment.pk).update(**fields)
    payment.refresh_from_db()

    assert payment.charge_in_flight == Payment.objects.filter(CHARGE_IN_FLIGHT, pk=payment.pk).exists()
    assert payment.refund_due == Payment.objects.filter(REFUND_DUE, pk=payment.pk).exists()
