"""Cart events: structured log lines, written only after commit (as ``orders.notifications``)."""

import structlog
from django.db import transaction

from carts.models import Cart

logger = structlog.get_logger("carts")


def cart_event_emit(*, cart: Cart, event: str) -> None:
    """Log ``event`` for ``cart`` once the transaction commits (nothing if it rolls back)."""
    fields = {
        "cart_id": str(cart.pk),
        "customer_id": cart.owner_id,
        "status": cart.status,
        "order_id": str(cart.order_id) if cart.order_id else None,
    }
    transaction.on_commit(lambda: logger.info(event, **fields))
