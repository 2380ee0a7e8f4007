"""Order events and the confirmation "emails": structured log lines, written only after commit."""

import structlog
from django.db import transaction

from orders.models import Order

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
