"""Charges through the gateway: record, commit, call, settle.

The gateway (``orders.gateway``) is never called inside a database transaction, least of all
one that holds row locks or is retried on a deadlock. A charge is recorded first (the payment
PENDING with ``charge_requested_at``, committed), then the gateway is called with the
idempotency key ``pay-<payment id>``, then a second transaction settles the answer after
checking again, under the locks, what happened meanwhile. A crash between the call and its
settlement leaves a PENDING payment that ``reconcile_payments`` settles by asking the gateway.

An order has at most one charge in flight: a new charge reuses the payment whose charge is in
flight (and so its idempotency key: the gateway answers what it answered the first time), so a
retry after a timeout never charges a second payment.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import structlog
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from config.db import retry_on_conflict
from orders.exceptions import ChargeInFlight
from orders.gateway import GatewayResult, charge_key, gateway_call, payment_gateway
from orders.locks import order_lock, payment_lock, payments_lock
from orders.models import Order, Payment, PaymentStatus
from orders.notifications import payment_event_emit
from orders.services.payments import (
    CHARGE_NOT_RECEIVED,
    DECLINED,
    SUCCEEDED_OR_REFUNDED,
    order_not_payable,
    pay_check,
    payment_fail_locked,
    payment_succeed_locked,
    refund_request_locked,
    refund_request_withdraw_locked,
    success_blocker,
)
from orders.services.refunds import payments_refund

logger = structlog.get_logger(__name__)


def _payment_to_charge(order: Order, payments: Sequence[Payment], provider: str) -> Payment | None:
    """The payment a new charge of ``order`` goes out for: the one whose charge is in flight, else the newest
    PENDING one of ``provider``; None if a new payment is needed.

    A charge in flight through another gateway cannot share its idempotency key with this one:
    the new charge waits (``ChargeInFlight``) rather than risk taking the money twice.
    """
    in_flight = [p for p in payments if p.charge_in_flight]
    if in_flight:
        payment = max(in_flight, key=lambda p: p.pk)
        if payment.provider != provider:
            raise ChargeInFlight(
                "Another charge of this order is awaiting the payment gateway's answer; retry once it is settled.",
                order_id=str(order.pk),
                payment_id=payment.pk,
            )
        return payment
    pending = [p for p in payments if p.status == PaymentStatus.PENDING and p.provider == provider]
    return max(pending, key=lambda p: (p.created_at, p.pk), default=None)


@retry_on_conflict
@transaction.atomic(durable=True)
def _payment_charge_record(*, order_id: uuid.UUID, actor: User, provider: str) -> Payment:
    """Record that a charge is about to be sent (``charge_requested_at``) for the payment it goes out for."""
    order = order_lock(order_id=order_id)
    pay_check(order, actor)
    payments = payments_lock(order_ids=[order.pk], lock_timeout_is_set=True)
    if any(p.status in SUCCEEDED_OR_REFUNDED for p in payments):
        raise order_not_payable(order)
    payment = _payment_to_charge(order, payments, provider)
    now = timezone.now()
    if payment is None:
        payment = Payment.objects.create(
            order=order, amount=order.total_amount, currency=order.currency, provider=provider, charge_requested_at=now
        )
        payment_event_emit(payment=payment, event="payment_created")
    else:  # sent (again) now: ``reconcile_payments`` leaves it to this call for its grace period
        payment.charge_requested_at = now
        payment.save(update_fields=["charge_requested_at"])
    return payment


@dataclass(frozen=True)
class Settlement:
    order: Order
    payment: Payment
    charged: bool  # the gateway took the money (kept by a SUCCEEDED payment, refunded otherwise)


@retry_on_conflict
@transaction.atomic(durable=True)
def _payment_settle(*, payment_id: int, result: GatewayResult | None) -> tuple[Settlement, bool]:
    """Settle the answer (None: the gateway never received the charge); True if a refund is to be made now."""
    locked = payment_lock(payment_id=payment_id)
    order, payment = locked.order, locked.payment
    settlement = Settlement(order=order, payment=payment, charged=result is not None and result.succeeded)
    if result is None:
        if payment.status == PaymentStatus.PENDING:
            # Not received yet is not "never": a charge still on its way could land after this. Its refund
            # is requested now and made by the next reconcile run, after any late landing.
            payment_fail_locked(payment=payment, reason=CHARGE_NOT_RECEIVED)
            refund_request_locked(payment)
        return settlement, False
    if not result.succeeded:
        if payment.status == PaymentStatus.PENDING:
            payment_fail_locked(payment=payment, reason=result.message or DECLINED, reference=result.reference)
        elif payment.status == PaymentStatus.FAILED:  # failed by an admin while in flight: it took nothing
            refund_request_withdraw_locked(payment)
        elif payment.status in SUCCEEDED_OR_REFUNDED:  # an admin recorded a success the gateway does not know
            logger.warning("payment_answer_conflict", payment_id=payment.pk, status=payment.status)
        return settlement, False
    if payment.status in SUCCEEDED_OR_REFUNDED:  # a concurrent settlement, or the provider through an admin
        return settlement, False
    blocker = success_blocker(order, locked.payments, payment)
    if payment.status == PaymentStatus.PENDING and blocker is None:
        payment_succeed_locked(order=order, payment=payment, payments=locked.payments, reference=result.reference)
        return settlement, False
    # The gateway took money for a payment that can no longer keep it (its order ended, another
    # payment won, or the provider said otherwise through an admin): it fails and is given back.
    if payment.status == PaymentStatus.PENDING:
        payment_fail_locked(payment=payment, reason=blocker or DECLINED, reference=result.reference)
    logger.warning("payment_charged_after_its_end", payment_id=payment.pk, order_id=str(order.pk))
    return settlement, refund_request_locked(payment)


def payment_settle(*, payment_id: int, result: GatewayResult | None) -> Settlement:
    """Settle the gateway's answer to ``pay-<payment_id>`` (in its own transaction, re-checked under the locks).

    Charged: the payment SUCCEEDS and its order becomes PAID, if both still may; otherwise the
    payment FAILS and the charge is refunded. Declined: a PENDING payment FAILS. None (the
    gateway never received the charge): a PENDING payment FAILS (``charge_not_received``) and its
    refund is requested, in case the charge lands later. A payment an admin or a concurrent
    settlement has settled already keeps its status.
    """
    settlement, refund_due = _payment_settle(payment_id=payment_id, result=result)
    if refund_due:
        payments_refund(payment_ids=[payment_id])
    return settlement


def payment_charge(*, order_id: uuid.UUID, actor: User) -> Settlement:
    """Charge the order through the gateway: record, commit, call, settle.

    ``PaymentGatewayUnavailable`` if the gateway fails or does not answer: the payment stays
    PENDING, and a retry charges it again with the same idempotency key (the gateway answers
    what it answered the first time) or ``reconcile_payments`` settles it.
    """
    gateway = payment_gateway()
    payment = _payment_charge_record(order_id=order_id, actor=actor, provider=gateway.provider)
    result = gateway_call(
        lambda: gateway.charge(
            idempotency_key=charge_key(payment.pk),
            amount=payment.amount,
            currency=payment.currency,
            order_id=payment.order_id,
        ),
        operation="charge",
        payment=payment,
    )
    return payment_settle(payment_id=payment.pk, result=result)
