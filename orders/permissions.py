"""Permission classes for orders, payments and shipments, each asking one rule of ``orders.policies``."""

from collections.abc import Callable

from rest_framework.permissions import BasePermission

from accounts.models import User
from orders import policies


def _rule(rule: Callable[[User], bool], message: str, code: str) -> type[BasePermission]:
    class Rule(BasePermission):
        def has_permission(self, request, view) -> bool:
            return rule(request.user)

    Rule.message, Rule.code, Rule.__name__ = message, code, f"Can{rule.__name__.removeprefix('may')}"
    return Rule


CanPlaceOrders = _rule(policies.may_place_orders, "Only customers may do this.", "customer_required")
CanPay = _rule(policies.may_pay, "Only the customer who placed the order, or an admin, may pay.", "permission_denied")
CanSettlePayments = _rule(policies.may_settle_payments, "Only admins may do this.", "admin_required")
CanShip = _rule(policies.may_ship, "Only staff (admins or inventory managers) may do this.", "staff_required")
CanExpire = _rule(policies.may_expire, "Only staff (admins or inventory managers) may do this.", "staff_required")
