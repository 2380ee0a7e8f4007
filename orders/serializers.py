from rest_framework import serializers

from orders.models import OrderStatus


class OrderLineInputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1)
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)


class OrderCreateInputSerializer(serializers.Serializer):
    items = OrderLineInputSerializer(many=True, allow_empty=False, max_length=500)


class OrderItemOutputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    product_name = serializers.CharField()
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
    created_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    shipped_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
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
    }
