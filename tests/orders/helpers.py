"""Helpers shared by the tests of payments, shipments and expiry."""

from inventory.models import Reservation, StockMovement
from orders.models import Order, Payment, Shipment
from tests.assertions import error_of


def error_body(response, status: int) -> dict:
    """The whole error of a response (its request id aside), after checking the status and the error shape."""
    assert response.status_code == status, response.content
    return {key: value for key, value in error_of(response).items() if key != "request_id"}


def written() -> tuple:
    """Everything a payment, shipment or order step may write: compare before and after a refused step."""
    return (
        sorted(Order.objects.values_list("pk", "status", "paid_at", "shipped_at", "cancelled_at", "expired_at")),
        sorted(Payment.objects.values_list("pk", "status", "provider_reference", "failure_reason", "completed_at")),
        sorted(Shipment.objects.values_list("pk", "status", "carrier", "tracking_number", "shipped_at")),
        sorted(Reservation.objects.values_list("pk", "status")),
        StockMovement.objects.count(),
    )


def reservation_statuses(order) -> set[str]:
    return set(Reservation.objects.filter(order_id=order.pk).values_list("status", flat=True))
