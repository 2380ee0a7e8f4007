from collections.abc import Mapping

from rest_framework import serializers

from catalog.validators import SKU_MAX_LENGTH, sku_validator
from orders.exceptions import MAX_ORDER_LINES, TooManyLines
from orders.models import OrderStatus, Payment, PaymentStatus, Shipment, ShipmentStatus

LINE_KEYS = ("product_id", "variant_id", "sku")


class OrderLineInputSerializer(serializers.Serializer):
    """One line: exactly one of ``variant_id``, ``sku`` or (for a one-variant product) ``product_id``."""

    product_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)
    variant_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)
    sku = serializers.CharField(max_length=SKU_MAX_LENGTH, validators=[sku_validator], required=False)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)

    def validate(self, attrs):
        named = [key for key in LINE_KEYS if key in attrs]
        if len(named) != 1:
            raise serializers.ValidationError("Name the item by exactly one of product_id, variant_id or sku.")
        return attrs


class OrderCreateInputSerializer(serializers.Serializer):
    items = OrderLineInputSerializer(many=True, allow_empty=False, max_length=MAX_ORDER_LINES)

    def to_internal_value(self, data):
        """400 ``too_many_lines`` for more than ``MAX_ORDER_LINES`` items as sent (repeated variants counted
        apart), before any line is validated: a huge list is refused without reading its lines."""
        items = data.get("items") if isinstance(data, Mapping) else None
        if isinstance(items, list) and len(items) > MAX_ORDER_LINES:
            raise TooManyLines(
                f"An order takes at most {MAX_ORDER_LINES} lines; this one has {len(items)}.",
                max_lines=MAX_ORDER_LINES,
                lines=len(items),
            )
        return super().to_internal_value(data)


class OrderItemOutputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    variant_id = serializers.IntegerField()
    reservation_id = serializers.IntegerField(allow_null=True)
    product_name = serializers.CharField()
    variant_name = serializers.CharField(allow_blank=True)
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price_at_purchase = serializers.DecimalField(max_digits=12, decimal_places=2)
    line_total = serializers.DecimalField(max_digits=14, decimal_places=2)


class OrderOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    subtotal = serializers.DecimalField(max_digits=14, decimal_places=2)
    shipping_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    total_amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    customer_email = serializers.EmailField(source="user.email")
    created_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    shipped_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    expired_at = serializers.DateTimeField(allow_null=True)
    items = OrderItemOutputSerializer(many=True, source="items.all")


def order_as_placed(order) -> dict:
    """The body ``POST /orders`` answered when ``order`` was placed, for Idempotency-Key replays.

    Amounts and items never change after placement; the status and the step timestamps are
    rendered as they were at that moment (PENDING, none yet), so a replay repeats the original body.
    """
    return {
        **OrderOutputSerializer(order).data,
        "status": OrderStatus.PENDING,
        "paid_at": None,
        "shipped_at": None,
        "cancelled_at": None,
        "expired_at": None,
    }


def _max_length(model, field: str) -> int:
    return model._meta.get_field(field).max_length


# --- payments


class PaymentCreateInputSerializer(serializers.Serializer):
    """``amount`` and ``currency`` are not read: they come from the order."""

    order_id = serializers.UUIDField()
    provider = serializers.CharField(max_length=_max_length(Payment, "provider"), required=False, default="mock")


class PaymentSucceedInputSerializer(serializers.Serializer):
    provider_reference = serializers.CharField(
        max_length=_max_length(Payment, "provider_reference"), required=False, allow_blank=True
    )


class PaymentFailInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=_max_length(Payment, "failure_reason"))


class PaymentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    order_id = serializers.UUIDField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    currency = serializers.CharField()
    status = serializers.ChoiceField(choices=PaymentStatus.choices)
    provider = serializers.CharField()
    provider_reference = serializers.CharField(allow_blank=True)
    failure_reason = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)


# --- shipments


class ShipmentCreateInputSerializer(serializers.Serializer):
    order_id = serializers.UUIDField()
    carrier = serializers.CharField(
        max_length=_max_length(Shipment, "carrier"), required=False, allow_blank=True, default=""
    )
    tracking_number = serializers.CharField(
        max_length=_max_length(Shipment, "tracking_number"), required=False, allow_blank=True, default=""
    )


class ShipmentShipInputSerializer(serializers.Serializer):
    """Both optional: what is given is recorded, what is not stays as it was."""

    carrier = serializers.CharField(max_length=_max_length(Shipment, "carrier"), required=False, allow_blank=True)
    tracking_number = serializers.CharField(
        max_length=_max_length(Shipment, "tracking_number"), required=False, allow_blank=True
    )


class ShipmentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    order_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=ShipmentStatus.choices)
    carrier = serializers.CharField(allow_blank=True)
    tracking_number = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    shipped_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
