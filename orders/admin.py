"""Orders in the admin console: read-only records; status changes go through ``orders.services``."""

from django.contrib import admin, messages

from config.exceptions import DomainError
from orders.models import Order, OrderItem, Payment, Shipment
from orders.services.workflow import order_cancel, order_ship

ITEM_FIELDS = [
    "product",
    "product_name",
    "variant",
    "variant_name",
    "sku",
    "quantity",
    "unit_price_at_purchase",
    "line_total",
    "reservation",
]
PAYMENT_FIELDS = [
    "created_at",
    "status",
    "amount",
    "currency",
    "provider_reference",
    "failure_reason",
    "completed_at",
    "refunded_at",
]


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class OrderItemInline(_ReadOnlyInline):
    """Each line with the variant it sold and the reservation holding (or that held) its units."""

    model = OrderItem
    fields = ITEM_FIELDS
    readonly_fields = ITEM_FIELDS

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product", "variant", "reservation")


class PaymentInline(_ReadOnlyInline):
    model = Payment
    fields = PAYMENT_FIELDS
    readonly_fields = PAYMENT_FIELDS


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "status", "total_amount", "created_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["=id", "user__email"]
    list_select_related = ["user"]
    ordering = ["-created_at"]
    readonly_fields = [
        "id",
        "user",
        "status",
        "subtotal",
        "shipping_amount",
        "total_amount",
        "created_at",
        "paid_at",
        "shipped_at",
        "cancelled_at",
        "idempotency_key",
    ]
    fields = readonly_fields
    inlines = [OrderItemInline, PaymentInline]
    actions = ["ship_orders", "cancel_orders"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def _apply(self, request, queryset, service, verb: str) -> None:
        done = 0
        for order_id in queryset.values_list("pk", flat=True):
            try:
                service(order_id=order_id, actor=request.user)
            except DomainError as exc:
                self.message_user(request, f"Order {order_id}: {exc.message}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, f"{done} order(s) {verb}.", messages.SUCCESS)

    @admin.action(description="Ship selected paid orders", permissions=["change"])
    def ship_orders(self, request, queryset):
        self._apply(request, queryset, order_ship, "shipped")

    @admin.action(description="Cancel selected orders (stock is released, payments refunded)", permissions=["change"])
    def cancel_orders(self, request, queryset):
        self._apply(request, queryset, order_cancel, "cancelled")


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    list_display = ["tracking_number", "order", "carrier", "cost", "shipped_at"]
    search_fields = ["tracking_number", "=order__id"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
