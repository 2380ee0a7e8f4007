"""Checking a cart out: one order placed from its lines through ``order_place``, in the cart's transaction."""

import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from carts.exceptions import CartCheckedOut, EmptyCart
from carts.locks import cart_lock
from carts.models import Cart, CartItem, CartStatus
from carts.notifications import cart_event_emit
from carts.services.carts import customer_check
from config.db import retry_on_conflict
from orders.exceptions import MAX_ORDER_LINES, IdempotencyKeyReused, TooManyLines
from orders.models import Order
from orders.selectors import order_list
from orders.services.placement import OrderLine, order_place_in_transaction, replay_on_idempotency_conflict


@dataclass(frozen=True)
class Checkout:
    cart: Cart
    order: Order
    replayed: bool  # True when the Idempotency-Key of the checkout that placed the order was given again


@replay_on_idempotency_conflict
@retry_on_conflict
@transaction.atomic(durable=True)
def cart_checkout(*, cart_id: uuid.UUID, owner: User, idempotency_key: str | None = None) -> Checkout:
    """Place an order from the cart's lines (catalog prices, inventory reservations) and mark it CHECKED_OUT.

    All or nothing: an empty cart (400 ``empty_cart``), more lines than an order takes (400
    ``too_many_lines``), an unsellable or short line (400 ``products_unavailable`` /
    ``insufficient_stock``, as ``POST /orders``) leave the cart OPEN and unchanged. A checked-out
    cart answers 409 ``cart_checked_out``, except to the ``idempotency_key`` of the checkout that
    placed its order, which gets that order (``replayed``).
    """
    customer_check(owner)
    cart = cart_lock(cart_id=cart_id, owner=owner)
    if cart.status == CartStatus.CHECKED_OUT:
        order = order_list(user=owner).get(pk=cart.order_id)
        if idempotency_key is not None and order.idempotency_key == idempotency_key:
            return Checkout(cart=cart, order=order, replayed=True)
        raise CartCheckedOut(
            "This cart has already been checked out.", cart_id=str(cart.pk), order_id=str(cart.order_id)
        )
    lines = list(CartItem.objects.filter(cart=cart).order_by("variant_id").values_list("variant_id", "quantity"))
    if not lines:
        raise EmptyCart("The cart is empty: add items before checking out.", cart_id=str(cart.pk))
    if len(lines) > MAX_ORDER_LINES:  # cart_item_add keeps a cart within MAX_CART_LINES; this holds whatever wrote it
        raise TooManyLines(
            f"An order takes at most {MAX_ORDER_LINES} lines; this cart has {len(lines)}.",
            max_lines=MAX_ORDER_LINES,
            lines=len(lines),
        )
    placement = order_place_in_transaction(
        customer=owner,
        lines=[OrderLine(quantity=quantity, variant_id=variant_id) for variant_id, quantity in lines],
        idempotency_key=idempotency_key,
    )
    if placement.replayed:
        # The key placed an order elsewhere (a POST /orders with the same lines): it is not this checkout's.
        raise IdempotencyKeyReused("This Idempotency-Key was used with a different request.", key=idempotency_key)
    cart.status, cart.order, cart.checked_out_at = CartStatus.CHECKED_OUT, placement.order, timezone.now()
    cart.save(update_fields=["status", "order", "checked_out_at", "updated_at"])
    cart_event_emit(cart=cart, event="cart_checked_out")
    return Checkout(cart=cart, order=placement.order, replayed=False)
