"""Who may do what with orders, payments and shipments: one function per rule.

The permission classes (``orders.permissions``), the services and the selectors all ask these,
so a rule is decided in one place. ``may_*(user)`` answers for a role (enough to route a
request); ``may_*(user, order)`` for one order (what the service checks once the row is locked).
"""

from accounts.models import Role, User
from orders.models import Order, OrderStatus


def _is(user: User, *roles: str) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.role in roles)


def may_see_all_orders(user: User) -> bool:
    """Staff see every order, payment and shipment; a customer only those of their own orders."""
    return _is(user, Role.ADMIN, Role.INVENTORY_MANAGER)


def may_place_orders(user: User) -> bool:
    """Customers buy (and keep carts); staff do not."""
    return _is(user, Role.CUSTOMER)


def may_pay(user: User, order: Order | None = None) -> bool:
    """The customer who placed the order pays for it; an admin may pay for a customer."""
    if _is(user, Role.ADMIN):
        return True
    return _is(user, Role.CUSTOMER) and (order is None or order.user_id == user.pk)


def may_settle_payments(user: User) -> bool:
    """Admins record the payment provider's answer (succeed, fail)."""
    return _is(user, Role.ADMIN)


def may_ship(user: User) -> bool:
    """Staff create, ship and cancel shipments (customers read those of their own orders)."""
    return _is(user, Role.ADMIN, Role.INVENTORY_MANAGER)


def may_expire(user: User) -> bool:
    """Staff expire unpaid orders by hand, overdue or not (``expire_unpaid_orders`` does it on schedule).

    Expiring an order before ``ORDER_PAYMENT_TIMEOUT_MINUTES`` is a staff decision like a
    cancellation (the stock goes back either way); the status then says nobody paid in time.
    """
    return _is(user, Role.ADMIN, Role.INVENTORY_MANAGER)


def may_cancel(user: User, order: Order | None = None) -> bool:
    """Staff cancel any order they may cancel; its customer only while it is unpaid."""
    if _is(user, Role.ADMIN, Role.INVENTORY_MANAGER):
        return True
    if not _is(user, Role.CUSTOMER):
        return False
    return order is None or (order.user_id == user.pk and order.status == OrderStatus.PENDING)
