from django.contrib import admin

from accounts.models import User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    """Accounts are created through ``POST /auth/register`` or ``createsuperuser`` (which hash the password)."""

    list_display = ["email", "role", "is_active", "date_joined", "last_login"]
    list_filter = ["role", "is_active"]
    search_fields = ["email"]
    ordering = ["email"]
    fields = ["id", "email", "role", "is_active", "date_joined", "last_login"]
    readonly_fields = ["id", "email", "date_joined", "last_login"]

    def has_add_permission(self, request) -> bool:
        return False
