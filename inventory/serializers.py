from rest_framework import serializers

from inventory.models import StockMovement

SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/-]*$"
NOT_WRITABLE = {
    "stock_quantity": "Stock is not editable here: use POST /products/{id}/stock-adjustments, which writes the ledger.",
    "reserved_quantity": "Reserved stock changes only through orders.",
    "sku": "The SKU of an existing product cannot change.",
}


class ProductOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    stock_quantity = serializers.IntegerField()
    reserved_quantity = serializers.IntegerField()
    version = serializers.IntegerField()
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ProductCreateInputSerializer(serializers.Serializer):
    sku = serializers.RegexField(SKU_PATTERN, max_length=64)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000, default="")
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    stock_quantity = serializers.IntegerField(min_value=0, max_value=1_000_000_000, default=0)
    is_active = serializers.BooleanField(required=False, default=True)


class ProductUpdateInputSerializer(serializers.Serializer):
    """PATCH body. Unknown and read-only fields are refused by name rather than ignored."""

    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False)
    is_active = serializers.BooleanField(required=False)
    version = serializers.IntegerField(min_value=1, required=False, help_text="The version you edited.")

    def validate(self, attrs):
        refused = {
            field: [NOT_WRITABLE.get(field, "Unknown or read-only field.")]
            for field in self.initial_data
            if field not in self.fields
        }
        if refused:
            raise serializers.ValidationError(refused)
        return attrs


class StockAdjustmentInputSerializer(serializers.Serializer):
    delta = serializers.IntegerField(min_value=-1_000_000_000, max_value=1_000_000_000)
    reason = serializers.CharField(max_length=255)

    def validate_delta(self, value: int) -> int:
        if value == 0:
            raise serializers.ValidationError("A zero adjustment changes nothing.")
        return value


class StockMovementOutputSerializer(serializers.ModelSerializer):
    actor_email = serializers.EmailField(source="actor.email", default=None, read_only=True)

    class Meta:
        model = StockMovement
        fields = [
            "id",
            "product_id",
            "kind",
            "available_delta",
            "reserved_delta",
            "available_after",
            "reserved_after",
            "order_id",
            "actor_email",
            "reason",
            "created_at",
        ]
        read_only_fields = fields


class StockAdjustmentOutputSerializer(serializers.Serializer):
    movement = StockMovementOutputSerializer()
    product = ProductOutputSerializer()
