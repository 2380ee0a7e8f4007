"""Changing a cart: its lines are variant ids and quantities, nothing else; no stock moves.

Each entry point owns one durable transaction, retried on a deadlock, and locks the cart row
first (``carts.locks.cart_lock``), so concurrent changes of one cart queue, and a checked-out
cart refuses every change with 409 ``cart_checked_out``.
"""

import uuid

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from accounts.models import User
from carts.exceptions import CartCheckedOut, CartFull, CartItemNotFound, CustomerRequired
from carts.locks import cart_lock
from carts.models import MAX_LINE_QUANTITY, Cart, CartItem, CartStatus
from catalog.exceptions import ProductsUnavailable
from catalog.models import Variant
from catalog.selectors import variant_is_sellable, variants_for_sale
from config.db import retry_on_conflict
from orders import policies

MAX_CART_LINES = 500  # as many lines as one POST /orders takes
ID_MAX = 2**63 - 1


def customer_check(owner: User) -> None:
    if not policies.may_place_orders(owner):
        raise CustomerRequired("Only customers may do this.")


def quantity_check(quantity: int) -> None:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_LINE_QUANTITY:
        raise ValidationError(
            {"quantity": [f"A line holds 1 to {MAX_LINE_QUANTITY} units; this one would hold {quantity}."]}
        )


def _open_cart_lock(*, cart_id: uuid.UUID, owner: User) -> Cart:
    customer_check(owner)
    cart = cart_lock(cart_id=cart_id, owner=owner)
    if cart.status == CartStatus.CHECKED_OUT:
        raise CartCheckedOut(
            "This cart has been checked out; it takes no more changes.",
            cart_id=str(cart.pk),
            order_id=str(cart.order_id),
        )
    return cart


def _variant_for_sale(variant_id: int) -> Variant:
    """The variant, if it exists and is sellable; ``ProductsUnavailable`` otherwise (one query).

    Unknown and unsellable variants get the same answer, as in ``POST /orders``: a customer learns
    nothing about DRAFT or ARCHIVED products by putting their variant ids in a cart.
    """
    found = variants_for_sale(variant_ids=[variant_id]) if 1 <= variant_id <= ID_MAX else []
    if not found or not variant_is_sellable(found[0]):
        raise ProductsUnavailable("Some products do not exist or are not for sale.", variant_ids=[variant_id])
    return found[0]


def _touch(cart: Cart) -> Cart:
    cart.save(update_fields=["updated_at"])
    return cart


@transaction.atomic(durable=True)
def cart_create(*, owner: User) -> Cart:
    """An empty OPEN cart for ``owner`` (a customer)."""
    customer_check(owner)
    return Cart.objects.create(owner=owner)


@retry_on_conflict
@transaction.atomic(durable=True)
def cart_item_add(*, cart_id: uuid.UUID, owner: User, variant_id: int, quantity: int) -> Cart:
    """Add ``quantity`` units of a sellable variant; a variant already in the cart has its line increased.

    The line may not go above ``MAX_LINE_QUANTITY`` (400 ``validation_error`` on ``quantity``).
    """
    quantity_check(quantity)
    cart = _open_cart_lock(cart_id=cart_id, owner=owner)
    variant = _variant_for_sale(variant_id)
    line = CartItem.objects.filter(cart=cart, variant=variant).first()
    if line is None:
        if CartItem.objects.filter(cart=cart).count() >= MAX_CART_LINES:
            raise CartFull(
                f"A cart holds at most {MAX_CART_LINES} different variants.",
                cart_id=str(cart.pk),
                max_lines=MAX_CART_LINES,
            )
        CartItem.objects.create(cart=cart, variant=variant, quantity=quantity)
    else:
        quantity_check(line.quantity + quantity)  # the cart's lock keeps the line as read until this commits
        CartItem.objects.filter(pk=line.pk).update(quantity=F("quantity") + quantity)
    return _touch(cart)


@retry_on_conflict
@transaction.atomic(durable=True)
def cart_item_update(*, cart_id: uuid.UUID, owner: User, variant_id: int, quantity: int) -> Cart:
    """Set the quantity of the line of ``variant_id`` (404 if the cart has none), sellable or not."""
    quantity_check(quantity)
    cart = _open_cart_lock(cart_id=cart_id, owner=owner)
    if not 1 <= variant_id <= ID_MAX or not CartItem.objects.filter(cart=cart, variant_id=variant_id).update(
        quantity=quantity
    ):
        raise CartItemNotFound("This variant is not in the cart.", cart_id=str(cart.pk), variant_id=variant_id)
    return _touch(cart)


@retry_on_conflict
@transaction.atomic(durable=True)
def cart_item_remove(*, cart_id: uuid.UUID, owner: User, variant_id: int) -> Cart:
    """Remove the line of ``variant_id`` (404 if the cart has none)."""
    cart = _open_cart_lock(cart_id=cart_id, owner=owner)
    deleted = 0
    if 1 <= variant_id <= ID_MAX:
        deleted, _ = CartItem.objects.filter(cart=cart, variant_id=variant_id).delete()
    if not deleted:
        raise CartItemNotFound("This variant is not in the cart.", cart_id=str(cart.pk), variant_id=variant_id)
    return _touch(cart)


@retry_on_conflict
@transaction.atomic(durable=True)
def cart_clear(*, cart_id: uuid.UUID, owner: User) -> Cart:
    """Remove every line (an empty cart stays empty: 200)."""
    cart = _open_cart_lock(cart_id=cart_id, owner=owner)
    CartItem.objects.filter(cart=cart).delete()
    return _touch(cart)
