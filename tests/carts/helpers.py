"""What cart tests compare before and after a call."""

from inventory.models import Reservation, Stock, StockMovement


def stock_books() -> tuple:
    """Every stock row, ledger row and reservation: what a cart must never change."""
    return (
        sorted(Stock.objects.values_list("pk", "on_hand", "reserved")),
        sorted(StockMovement.objects.values_list("pk", flat=True)),
        sorted(Reservation.objects.values_list("pk", "status")),
    )


def cart_state(cart) -> tuple:
    """A cart row and its lines as stored: what a refused call must leave as it was."""
    cart.refresh_from_db()
    lines = list(cart.items.order_by("variant_id").values_list("variant_id", "quantity"))
    return (cart.status, cart.order_id, cart.checked_out_at, cart.updated_at, lines)
