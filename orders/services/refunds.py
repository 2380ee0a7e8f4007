"""Refunds through the gateway: requested in a transaction, made after it commits, then settled.

A refund is requested (``refund_requested_at``, committed with whatever ended the payment),
the gateway is called outside any transaction with the key ``refund-<payment id>``, and its
answer is settled in a transaction of its own: made (``refunded_at``; a SUCCEEDED payment becomes
REFUNDED) or declined (``refund_failed_at`` and the gateway's reason, for a person to settle: the
same key would be declined again). A refund the gateway did not answer stays requested for
``reconcile_payments``.
"""

from collections.abc import Sequence

import structlog
from django.db import transaction
from django.utils import timezone

from config.db import retry_on_conflict
from orders.exceptions import PaymentGatewayUnavailable
from orders.gateway import GatewayResult, charge_key, gateway_call, payment_gateway, refund_key
from orders.locks import payment_lock
from orders.models import Order, Payment, PaymentStatus
from orders.notifications import payment_event_emit
from orders.services.payments import DECLINED, payment_fail_locked, refund_request_locked

logger = structlog.get_logger(__name__)


def payments_end_with_order(*, order: Order, payments: Sequence[Payment], reason: str) -> list[int]:
    """The order is ending (cancelled or expired), its ``payments`` locked: settle what it leaves behind.

    A SUCCEEDED payment gets its refund requested; a PENDING one fails with ``reason``, unless
    its charge is in flight (``charge_requested_at``): that one ends with the gateway's answer
    (``payment_settle`` then fails it with ``reason`` and refunds whatever was taken). Returns
    the ids of the payments to refund once the transaction commits (``payments_refund``).
    """
    refunds = []
    for payment in payments:
        if payment.status == PaymentStatus.SUCCEEDED and refund_request_locked(payment):
            refunds.append(payment.pk)
        elif payment.status == PaymentStatus.PENDING and not payment.charge_in_flight:
            payment_fail_locked(payment=payment, reason=reason)
    return refunds


@retry_on_conflict
@transaction.atomic(durable=True)
def _payment_refund_settle(*, payment_id: int, result: GatewayResult) -> Payment:
    payment = payment_lock(payment_id=payment_id).payment
    if not payment.refund_due:  # settled meanwhile by a concurrent call with the same key
        return payment
    if not result.succeeded:
        payment.refund_failed_at = timezone.now()
        payment.refund_failure_reason = (result.message or DECLINED)[
            : Payment._meta.get_field("refund_failure_reason").max_length
        ]
        payment.save(update_fields=["refund_failed_at", "refund_failure_reason"])
        logger.warning("payment_refund_declined", payment_id=payment.pk, message=result.message)
        payment_event_emit(payment=payment, event="payment_refund_declined")
        return payment
    payment.refunded_at = timezone.now()
    if payment.status == PaymentStatus.SUCCEEDED:
        payment.status = PaymentStatus.REFUNDED
    payment.save(update_fields=["status", "refunded_at"])
    payment_event_emit(payment=payment, event="payment_refunded")
    return payment


def payments_refund(*, payment_ids: Sequence[int]) -> list[Payment]:
    """Make the refunds requested for ``payment_ids``, outside any transaction: call, then settle.

    A SUCCEEDED payment becomes REFUNDED (a FAILED one gets ``refunded_at``); a declined refund is
    recorded (``refund_failed_at``) and not asked again; a gateway that fails leaves the refund
    requested for ``reconcile_payments``. Returns the payments as they are afterwards.
    """
    gateway = payment_gateway()
    done = []
    for payment in Payment.objects.filter(pk__in=list(payment_ids)).order_by("pk"):
        if not payment.refund_due:
            done.append(payment)
            continue
        try:
            result = gateway_call(
                lambda payment=payment: gateway.refund(
                    idempotency_key=refund_key(payment.pk),
                    charge_key=charge_key(payment.pk),
                    reference=payment.provider_reference,
                    amount=payment.amount,
                    currency=payment.currency,
                ),
                operation="refund",
                payment=payment,
            )
        except PaymentGatewayUnavailable:
            done.append(payment)
            continue
        done.append(_payment_refund_settle(payment_id=payment.pk, result=result))
    return done
