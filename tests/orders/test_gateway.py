"""Record, commit, call, settle: the gateway is called outside transactions, and nothing is charged twice."""

from datetime import timedelta
from decimal import Decimal

import psycopg
import pytest
from django.db import OperationalError, transaction
from structlog.testing import capture_logs

from orders import locks
from orders.exceptions import InvalidTransition, PaymentDeclined, PaymentGatewayUnavailable
from orders.models import Order, OrderStatus, Payment, PaymentStatus
from orders.payments import payment_gateway
from orders.services import payments as payment_services
from orders.services.expiry import order_expire
from orders.services.payments import payment_fail, payments_reconcile
from orders.services.workflow import order_cancel, order_pay
from tests.commands import command_failure, command_output
from tests.orders.helpers import error_body, reservation_statuses
from tests.stock import stock_of

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
    return [key for key in gateway.charged() if key in keys]


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
    payment = payment_services.payment_create(order_id=order.pk, actor=customer)

    with transaction.atomic(), pytest.raises(RuntimeError, match="never called inside a database transaction"):
        payment_services._gateway_call(lambda: None, operation="charge", payment=payment)


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

    assert fresh == "0 succeeded, 0 failed, 0 refunded, 0 unreachable\n"
    assert output == "1 succeeded, 0 failed, 0 refunded, 0 unreachable\n"
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

    monkeypatch.setattr(payment_services, "order_lock", order_lock_once_deadlocked)

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
    assert gateway.charged() == []


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
    order.refresh_from_db()
    if meanwhile == "admin_fail":
        assert excinfo.value.code == "payment_declined"
        assert order.status == OrderStatus.PENDING
        assert stock_of(widget) == (7, 3)
    else:
        assert excinfo.value.details == {"order_id": str(order.pk), "status": order.status, "action": "pay"}
        assert order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED)
        assert stock_of(widget) == (10, 0)


def test_reconcile_fails_a_charge_the_gateway_never_received(order, customer, gateway):
    payment = payment_services._payment_charge_record(order_id=order.pk, actor=customer, provider="mock")
    # ... and the process died before calling the gateway.

    output = command_output("reconcile_payments", "--older-than-seconds", "0")

    assert output == "0 succeeded, 1 failed, 0 refunded, 0 unreachable\n"
    payment.refresh_from_db()
    assert (payment.status, payment.failure_reason) == (PaymentStatus.FAILED, "charge_not_received")
    assert Order.objects.get(pk=order.pk).status == OrderStatus.PENDING
    assert gateway.calls == {}


def test_reconcile_settles_a_declined_charge_left_pending(order, customer, gateway, settings):
    settings.MOCK_PAYMENT_FAIL = True
    payment = payment_services._payment_charge_record(order_id=order.pk, actor=customer, provider="mock")
    gateway.charge(idempotency_key=f"pay-{payment.pk}", amount=payment.amount, currency="USD", order_id=order.pk)
    # ... and the process died before settling the answer.

    counts = payments_reconcile(older_than=timedelta(0))

    assert counts == {"failed": 1}
    payment.refresh_from_db()
    assert (payment.status, payment.failure_reason) == (PaymentStatus.FAILED, "Card declined (mock gateway).")


def test_reconcile_leaves_payments_without_a_charge_alone(order, customer):
    payment_services.payment_create(order_id=order.pk, actor=customer)

    assert command_output("reconcile_payments", "--older-than-seconds", "0").startswith("0 succeeded, 0 failed")
    assert payment_of(order).status == PaymentStatus.PENDING


def test_reconcile_reports_a_gateway_that_does_not_answer(scripted, order, customer):
    payment_services._payment_charge_record(order_id=order.pk, actor=customer, provider="mock")
    scripted.failures["lookup"] = [ConnectionError("down")]

    out, message = command_failure("reconcile_payments", "--older-than-seconds", "0")

    assert out == "0 succeeded, 0 failed, 0 refunded, 1 unreachable\n"
    assert message == "the gateway did not answer for 1 payment(s); run again later"
    assert payment_of(order).status == PaymentStatus.PENDING


def test_reconcile_payments_refuses_a_negative_grace():
    assert command_failure("reconcile_payments", "--older-than-seconds", "-1")[1] == (
        "--older-than-seconds must not be negative"
    )


@pytest.mark.parametrize("trouble", ["raises", "declines"])
def test_a_refund_left_half_way_is_finished_by_reconcile_payments(
    settings, client_for, admin_user, customer, order, widget, trouble
):
    order_pay(order_id=order.pk, actor=customer)
    payment = payment_of(order)
    if trouble == "raises":
        settings.PAYMENT_GATEWAY = "tests.orders.gateways.ScriptedGateway"
        payment_gateway().reset()
        payment_gateway().failures["refund"] = [TimeoutError("read timed out")]
    else:
        settings.PAYMENT_GATEWAY = "tests.orders.gateways.DecliningRefundsGateway"
        payment_gateway().reset()

    cancelled = client_for(admin_user).post(f"/orders/{order.pk}/cancel")

    assert cancelled.json()["status"] == "CANCELLED"
    assert stock_of(widget) == (10, 0)
    payment.refresh_from_db()
    assert (payment.status, payment.refund_requested_at is not None, payment.refunded_at) == (
        PaymentStatus.SUCCEEDED,
        True,
        None,
    )

    settings.PAYMENT_GATEWAY = "orders.payments.MockGateway"
    output = command_output("reconcile_payments", "--older-than-seconds", "0")
    again = command_output("reconcile_payments", "--older-than-seconds", "0")

    assert output == "0 succeeded, 0 failed, 1 refunded, 0 unreachable\n"
    assert again == "0 succeeded, 0 failed, 0 refunded, 0 unreachable\n"
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_at is not None) == (PaymentStatus.REFUNDED, True)
    assert payment_gateway().calls == {f"pay-{payment.pk}": 1, f"refund-{payment.pk}": 1}
