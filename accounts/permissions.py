"""One small permission class per role rule; combine them with ``&``, ``|`` and ``~``."""

from rest_framework.permissions import BasePermission

from accounts.models import STAFF_ROLES, Role


class _HasRole(BasePermission):
    roles: frozenset[str] = frozenset()
    code = "permission_denied"

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.role in self.roles)


class IsAdmin(_HasRole):
    roles = frozenset({Role.ADMIN})
    message = "Only admins may do this."
    code = "admin_required"


class IsInventoryManager(_HasRole):
    roles = frozenset({Role.INVENTORY_MANAGER})
    message = "Only inventory managers may do this."
    code = "inventory_manager_required"


class IsStaff(_HasRole):
    """Admins and inventory managers: the people who run the stock."""

    roles = STAFF_ROLES
    message = "Only staff (admins or inventory managers) may do this."
    code = "staff_required"


class IsCustomer(_HasRole):
    roles = frozenset({Role.CUSTOMER})
    message = "Only customers may do this."
    code = "customer_required"
