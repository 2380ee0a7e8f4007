from django.contrib import admin
from django.http import HttpResponseNotAllowed
from simple_history.admin import SimpleHistoryAdmin

from accounts.models import User


class AuditTrailAdmin(SimpleHistoryAdmin):
    """An object's "History" page is its audit trail: who changed what, when, old -> new values.

    Read-only: history rows are never changed or deleted (PostgreSQL refuses it too), and nothing is
    reverted from a past version (its page shows the values, without a form that saves).
    """

    def revert_disabled(self, request, obj=None) -> bool:
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        return super().history_form_view(request, object_id, version_id, extra_context)


@admin.register(User)
class UserAdmin(AuditTrailAdmin):
    """Accounts are created through ``POST /auth/register`` or ``createsuperuser`` (which hash the password).

    Role and activity changes are in the account's history (who, when, old and new values). Accounts
    are deactivated, never deleted: the stock ledger and the audit trail name them.
    """

    list_display = ["email", "role", "is_active", "date_joined", "last_login"]
    list_filter = ["role", "is_active"]
    search_fields = ["email"]
    ordering = ["email"]
    fields = ["id", "email", "role", "is_active", "date_joined", "last_login"]
    readonly_fields = ["id", "email", "date_joined", "last_login"]
    history_list_display = ["role", "is_active"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        """Save only what the form changed (nothing changed: no write and no history row), naming the editor."""
        obj._history_user = request.user
        obj.save(update_fields=form.changed_data if change else None)
