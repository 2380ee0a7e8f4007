"""Orders, payments and shipments in the admin console: read-only records; every status change is an
action that calls the ``orders.services`` entry point for each selected row, one at a time.

Actions run outside any transaction (each service owns its own, and ``order_cancel`` calls the
payment gateway for refunds after its transaction commits); a refused step is reported as a
message naming the row, and the other rows go on. ``orders.policies`` decides who sees which action:
admins record a payment's outcome, staff ship, cancel and expire.
"""

from collections.abc import Callable, Iterable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db import models
from django.urls import reverse
from django.utils.html import format_html

from config.admin import ReadOnlyAdmin
from config.exceptions import DomainError
from orders import policies
from orders.models import CHARGE_IN_FLIGHT, REFUND_DUE, Order, OrderItem, Payment, Shipment
from orders.services.expiry import order_expire
from orders.services.payments import payment_fail, payment_succeed
from orders.services.shipments import shipment_cancel, shipment_create, shipment_ship
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
    "id",
    "created_at",
    "status",
    "amount",
    "currency",
    "provider",
    "provider_reference",
    "failure_reason",
    "charge_requested_at",
    "completed_at",
    "refund_requested_at",
    "refunded_at",
    "refund_failed_at",
    "refund_failure_reason",
]
SHIPMENT_FIELDS = [
    "id",
    "created_at",
    "status",
    "carrier",
    "tracking_number",
    "cost",
    "shipped_at",
    "cancelled_at",
]


def _max_length(model: type[models.Model], field: str) -> int:
    return model._meta.get_field(field).max_length


def _apply(
    modeladmin: admin.ModelAdmin, request, ids: Iterable, call: Callable[[object], object], label: str, verb: str
) -> int:
    """``call(id)`` for each id, each in its service's own transaction; a refusal is a message naming the row."""
    done = 0
    for pk in ids:
        try:
            call(pk)
        except DomainError as exc:
            modeladmin.message_user(request, f"{label} {pk}: {exc.message}", messages.ERROR)
        else:
            done += 1
    if done:
        modeladmin.message_user(request, f"{done} {label.lower()}(s) {verb}.", messages.SUCCESS)
    return done


def _text_field(label: str, model: type[models.Model], field: str, what: str) -> forms.CharField:
    """An action form's text input, stripped; a bad one is refused before any action runs (``response_action``)."""
    max_length = _max_length(model, field)
    return forms.CharField(
        required=False,
        label=label,
        max_length=max_length,
        error_messages={
            "max_length": f"the {what} has at most {max_length} characters.",
            "null_characters_not_allowed": f"the {what} may not contain NUL characters.",
        },
    )


def _text_of(modeladmin: admin.ModelAdmin, request, name: str) -> str:
    """The action form's ``name`` input as the form cleans it (stripped); ``response_action`` checked it already."""
    form = modeladmin.action_form(request.POST, auto_id=None)
    form.is_valid()  # its ``action`` choices are not set here: only the text inputs are read
    return form.cleaned_data.get(name, "")


def _one_selected(modeladmin: admin.ModelAdmin, request, ids: list, label: str) -> bool:
    """A value that names one record (a reference, a tracking number) applies to one selected row only."""
    if len(ids) == 1:
        return True
    modeladmin.message_user(
        request, f"Nothing was changed: a {label} belongs to one record; select exactly one.", messages.ERROR
    )
    return False


def _order_link(order_id) -> str:
    return format_html('<a href="{}">{}</a>', reverse("admin:orders_order_change", args=[order_id]), order_id)


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class _OrderRecordAdmin(ReadOnlyAdmin):
    """Payments and shipments: each row links its order and names its customer; the action form's text
    inputs are checked before the action runs, so a bad one is named instead of "No action selected"."""

    list_select_related = ["order__user"]
    search_fields = ["=id", "=order__id", "order__user__email"]
    ordering = ["-created_at", "-id"]

    @admin.display(description="Order", ordering="order_id")
    def order_link(self, obj) -> str:
        return _order_link(obj.order_id)

    @admin.display(description="Customer", ordering="order__user__email")
    def customer(self, obj) -> str:
        return obj.order.user.email

    def response_action(self, request, queryset):
        form = self.action_form(request.POST, auto_id=None)
        form.is_valid()
        problems = [
            error for name, errors in form.errors.items() if name not in ("action", "select_across") for error in errors
        ]
        if problems:
            self.message_user(request, f"Nothing was changed: {problems[0]}", messages.ERROR)
            return None
        return super().response_action(request, queryset)


# --- orders


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


class ShipmentInline(_ReadOnlyInline):
    model = Shipment
    fields = SHIPMENT_FIELDS
    readonly_fields = SHIPMENT_FIELDS


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "status", "total_amount", "currency", "created_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["=id", "user__email"]
    list_select_related = ["user"]
    ordering = ["-created_at"]
    readonly_fields = [
        "id",
        "user",
        "status",
        "currency",
        "subtotal",
        "shipping_amount",
        "total_amount",
        "created_at",
        "paid_at",
        "shipped_at",
        "cancelled_at",
        "expired_at",
        "idempotency_key",
    ]
    fields = readonly_fields
    inlines = [OrderItemInline, PaymentInline, ShipmentInline]
    actions = ["open_shipments", "ship_orders", "cancel_orders", "expire_orders"]

    def has_ship_permission(self, request) -> bool:
        return policies.may_ship(request.user)

    def has_cancel_permission(self, request) -> bool:
        return policies.may_cancel(request.user)

    def has_expire_permission(self, request) -> bool:
        return policies.may_expire(request.user)

    def _apply(self, request, queryset, service, verb: str) -> None:
        ids = queryset.order_by("created_at", "pk").values_list("pk", flat=True)
        _apply(self, request, ids, lambda pk: service(order_id=pk, actor=request.user), "Order", verb)

    @admin.action(description="Open a shipment for selected paid orders", permissions=["ship"])
    def open_shipments(self, request, queryset):
        self._apply(request, queryset, shipment_create, "given a shipment")

    @admin.action(description="Ship selected paid orders", permissions=["ship"])
    def ship_orders(self, request, queryset):
        self._apply(request, queryset, order_ship, "shipped")

    @admin.action(description="Cancel selected orders (stock is released, payments refunded)", permissions=["cancel"])
    def cancel_orders(self, request, queryset):
        self._apply(request, queryset, order_cancel, "cancelled")

    @admin.action(description="Expire selected unpaid orders (stock is released)", permissions=["expire"])
    def expire_orders(self, request, queryset):
        self._apply(request, queryset, order_expire, "expired")


# --- payments


class GatewayWaitFilter(admin.SimpleListFilter):
    """What ``reconcile_payments`` still has to settle (a charge sent but unanswered, a refund not made), and
    the refunds the gateway declined, which a person settles with the provider."""

    title = "awaiting the gateway"
    parameter_name = "awaiting"

    def lookups(self, request, model_admin):
        return [
            ("charge", "Charge sent, no answer"),
            ("refund", "Refund requested, not made"),
            ("refund_declined", "Refund declined (settle it with the provider)"),
        ]

    def queryset(self, request, queryset):
        if self.value() == "charge":
            return queryset.filter(CHARGE_IN_FLIGHT)
        if self.value() == "refund":
            return queryset.filter(REFUND_DUE)
        if self.value() == "refund_declined":
            return queryset.filter(refund_failed_at__isnull=False, refunded_at__isnull=True)
        return queryset


class PaymentActionForm(helpers.ActionForm):
    provider_reference = _text_field(
        "Provider reference (succeed, one payment):", Payment, "provider_reference", "provider reference"
    )
    reason = _text_field("Reason (fail):", Payment, "failure_reason", "reason")


@admin.register(Payment)
class PaymentAdmin(_OrderRecordAdmin):
    """Payments and the provider's answers: admins record a success or a failure (``payment_succeed``/``_fail``)."""

    list_display = [
        "id",
        "order_link",
        "customer",
        "status",
        "amount",
        "currency",
        "provider",
        "provider_reference",
        "failure_reason",
        "created_at",
        "charge_requested_at",
        "completed_at",
        "refund_requested_at",
        "refunded_at",
    ]
    list_filter = ["status", GatewayWaitFilter, "provider", "created_at"]
    search_fields = [*_OrderRecordAdmin.search_fields, "provider_reference"]
    search_help_text = "Payment id, order id, provider reference or customer email."
    fields = ["order", *PAYMENT_FIELDS]
    readonly_fields = fields
    action_form = PaymentActionForm
    actions = ["succeed_payments", "fail_payments"]

    def has_settle_permission(self, request) -> bool:
        return policies.may_settle_payments(request.user)

    @admin.action(description="Succeed selected pending payments (the order becomes paid)", permissions=["settle"])
    def succeed_payments(self, request, queryset):
        ids = list(queryset.order_by("pk").values_list("pk", flat=True))
        reference = _text_of(self, request, "provider_reference")
        if reference and not _one_selected(self, request, ids, "provider reference"):
            return
        _apply(
            self,
            request,
            ids,
            lambda pk: payment_succeed(payment_id=pk, actor=request.user, provider_reference=reference or None),
            "Payment",
            "succeeded",
        )

    @admin.action(description="Fail selected pending payments (give a reason)", permissions=["settle"])
    def fail_payments(self, request, queryset):
        reason = _text_of(self, request, "reason")
        if not reason:
            self.message_user(request, "Nothing was changed: give the reason the payment failed.", messages.ERROR)
            return
        ids = queryset.order_by("pk").values_list("pk", flat=True)
        _apply(
            self,
            request,
            ids,
            lambda pk: payment_fail(payment_id=pk, actor=request.user, reason=reason),
            "Payment",
            "failed",
        )


# --- shipments


class ShipmentActionForm(helpers.ActionForm):
    carrier = _text_field("Carrier (ship):", Shipment, "carrier", "carrier")
    tracking_number = _text_field(
        "Tracking number (ship, one shipment):", Shipment, "tracking_number", "tracking number"
    )


@admin.register(Shipment)
class ShipmentAdmin(_OrderRecordAdmin):
    """Shipments: staff ship (the order ships, its stock is committed) or cancel the pending ones."""

    list_display = [
        "id",
        "order_link",
        "customer",
        "status",
        "carrier",
        "tracking_number",
        "cost",
        "created_at",
        "shipped_at",
        "cancelled_at",
    ]
    list_filter = ["status", "carrier", "created_at"]
    search_fields = [*_OrderRecordAdmin.search_fields, "tracking_number"]
    search_help_text = "Shipment id, tracking number, order id or customer email."
    fields = ["order", *SHIPMENT_FIELDS]
    readonly_fields = fields
    action_form = ShipmentActionForm
    actions = ["ship_shipments", "cancel_shipments"]

    def has_ship_permission(self, request) -> bool:
        return policies.may_ship(request.user)

    @admin.action(description="Ship selected pending shipments (the order ships)", permissions=["ship"])
    def ship_shipments(self, request, queryset):
        ids = list(queryset.order_by("pk").values_list("pk", flat=True))
        carrier = _text_of(self, request, "carrier")
        tracking = _text_of(self, request, "tracking_number")
        if tracking and not _one_selected(self, request, ids, "tracking number"):
            return
        _apply(
            self,
            request,
            ids,
            lambda pk: shipment_ship(
                shipment_id=pk, actor=request.user, carrier=carrier or None, tracking_number=tracking or None
            ),
            "Shipment",
            "shipped",
        )

    @admin.action(description="Cancel selected pending shipments (the order stays paid)", permissions=["ship"])
    def cancel_shipments(self, request, queryset):
        ids = queryset.order_by("pk").values_list("pk", flat=True)
        _apply(
            self, request, ids, lambda pk: shipment_cancel(shipment_id=pk, actor=request.user), "Shipment", "cancelled"
        )
