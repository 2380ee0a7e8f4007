"""The one row lock of carts: every change and the checkout of a cart queue on its row."""

import uuid

from accounts.models import User
from carts.exceptions import CartNotFound
from carts.models import Cart
from config.db import lock_timeout_set


def cart_lock(*, cart_id: uuid.UUID, owner: User) -> Cart:
    """Lock ``owner``'s cart ``cart_id`` until the transaction ends; ``CartNotFound`` if it is not theirs.

    Sets the transaction's lock timeout first, so a cart held too long answers 503 ``database_busy``.
    Lock order: the cart, then whatever its checkout locks (stock rows, through ``order_place``).
    """
    lock_timeout_set()
    cart = Cart.objects.select_for_update().filter(pk=cart_id, owner=owner).first()
    if cart is None:
        raise CartNotFound("Cart not found.", cart_id=str(cart_id))
    return cart
