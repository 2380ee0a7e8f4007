"""Domain errors of carts, each with a stable ``code``."""

from config.exceptions import DomainError


class CartNotFound(DomainError):
    """No cart with this id belongs to the caller (another customer's cart included). details: cart_id."""

    code = "not_found"
    status = 404


class CartItemNotFound(DomainError):
    """The cart has no line for this variant. details: cart_id, variant_id."""

    code = "not_found"
    status = 404


class CartCheckedOut(DomainError):
    """The cart became an order: it takes no more changes and no second checkout. details: cart_id, order_id."""

    code = "cart_checked_out"
    status = 409


class EmptyCart(DomainError):
    """Checkout of a cart without lines. details: cart_id."""

    code = "empty_cart"
    status = 400


class CartFull(DomainError):
    """A new line would take the cart past ``MAX_CART_LINES`` distinct variants. details: cart_id, max_lines."""

    code = "cart_full"
    status = 400


class CustomerRequired(DomainError):
    """Only customers keep carts (``orders.policies.may_place_orders``)."""

    code = "customer_required"
    status = 403
