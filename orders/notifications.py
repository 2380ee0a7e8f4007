"""Order, payment and shipment events and the confirmation "emails": structured log lines, written only after commit."""

import structlog
from django.db import transaction

from orders.models import Order, Payment, Shipment

logger = structlog.get_logger("orders")

EMAIL_TEMPLATES = {
    "order_placed": "order_confirmation",
    "order_paid": "payment_receipt",
    "order_shipped": "shipping_notice",
    "order_cancelled": "cancellation_notice",
}


def order_event_emit(*, order: Order, email: str | None, event: str) -> None:
    """Log ``event`` and, for events that mail the customer, ``email_sent``, once the transaction commits."""
    order_id, status, total = str(order.pk), order.status, str(order.total_amount)
    template = EMAIL_TEMPLATES.get(event)

    def emit() -> None:
        logger.info(event, order_id=order_id, status=status, total_amount=total)
        if template and email:
            logger.info("email_sent", to=email, template=template, order_id=order_id)

    transaction.on_commit(emit)


def payment_event_emit(*, payment: Payment, event: str) -> None:
    """Log a payment's ``event`` (``payment_succeeded``, ``payment_failed``, ``payment_refunded``) after commit."""
    fields = {
        "payment_id": payment.pk,
        "order_id": str(payment.order_id),
        "status": payment.status,
        "amount": str(payment.amount),
        "currency": payment.currency,
        "provider": payment.provider,
    }
    if payment.failure_reason:
        fields["failure_reason"] = payment.failure_reason
    transaction.on_commit(lambda: logger.info(event, **fields))


def shipment_event_emit(*, shipment: Shipment, event: str) -> None:
    """Log a shipment's ``event`` (``shipment_shipped``, ``shipment_cancelled``) after commit."""
    fields = {
        "shipment_id": shipment.pk,
        "order_id": str(shipment.order_id),
        "status": shipment.status,
        "carrier": shipment.carrier,
        "tracking_number": shipment.tracking_number,
    }
    transaction.on_commit(lambda: logger.info(event, **fields))
