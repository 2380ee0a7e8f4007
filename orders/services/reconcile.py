"""Settling what a crash (or a gateway that did not answer) left half-way: ``manage.py reconcile_payments``."""

from collections import Counter
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from orders.exceptions import PaymentGatewayUnavailable
from orders.gateway import charge_key, gateway_call, payment_gateway
from orders.models import CHARGE_IN_FLIGHT, REFUND_DUE, Payment
from orders.services.charges import payment_settle
from orders.services.refunds import payments_refund


def charges_due(*, cutoff: datetime) -> QuerySet[Payment]:
    """PENDING payments whose charge was sent at or before ``cutoff`` (``payment_charge_due_idx``)."""
    return Payment.objects.filter(CHARGE_IN_FLIGHT, charge_requested_at__lte=cutoff).order_by("pk")


def refunds_due(*, cutoff: datetime) -> QuerySet[Payment]:
    """Refunds requested at or before ``cutoff``, neither made nor declined (``payment_refund_due_idx``)."""
    return Payment.objects.filter(REFUND_DUE, refund_requested_at__lte=cutoff).order_by("pk")


def payments_reconcile(*, older_than: timedelta, now: datetime | None = None) -> Counter[str]:
    """Settle what a crash (or a gateway that did not answer) left half-way, by asking the gateway.

    PENDING payments whose charge was requested more than ``older_than`` ago: the gateway's
    answer to ``pay-<id>`` is settled as ``payment_settle`` does; a charge the gateway never
    received fails (``charge_not_received``) and its refund is requested, made by the next run in
    case the charge lands meanwhile. Refunds requested more than ``older_than`` ago and not made
    are asked again (``refund-<id>``: the gateway refunds once); one the gateway declines is
    recorded for a person and not asked again. Returns counts of what happened: ``succeeded``,
    ``failed``, ``refunded``, ``refund_declined``, ``unreachable`` (asked again next run).
    """
    cutoff = (now or timezone.now()) - older_than
    gateway = payment_gateway()
    counts: Counter[str] = Counter()
    for payment in charges_due(cutoff=cutoff):
        try:
            result = gateway_call(
                lambda payment=payment: gateway.lookup(idempotency_key=charge_key(payment.pk)),
                operation="lookup",
                payment=payment,
            )
        except PaymentGatewayUnavailable:
            counts["unreachable"] += 1
            continue
        counts[payment_settle(payment_id=payment.pk, result=result).payment.status.lower()] += 1
    for payment in payments_refund(payment_ids=list(refunds_due(cutoff=cutoff).values_list("pk", flat=True))):
        if payment.refunded_at is not None:
            counts["refunded"] += 1
        elif payment.refund_failed_at is not None:
            counts["refund_declined"] += 1
        else:
            counts["unreachable"] += 1
    return counts
