"""Warehouses, locations, stock operations, the ledger and reservations."""

from collections import defaultdict

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.serializers import NAME_MAX
from catalog.validators import SKU_MAX_LENGTH, sku_validator
from config.serializers import StrictInputSerializer

ID_FIELD = {"min_value": 1, "max_value": 2**63 - 1}
UNITS = {"min_value": 1, "max_value": 1_000_000_000}
LINES_MAX = 500
TTL_MAX_SECONDS = 30 * 24 * 3600


def sku_field(**kwargs) -> serializers.CharField:
    return serializers.CharField(max_length=SKU_MAX_LENGTH, validators=[sku_validator], **kwargs)


# --- the ledger


class StockMovementOutputSerializer(serializers.Serializer):
    """A ledger row. ``available_delta``/``available_after`` and ``product_id`` keep seed 001's view of it."""

    id = serializers.IntegerField()
    kind = serializers.CharField()
    sku = serializers.CharField(source="stock.variant.sku")
    product_id = serializers.IntegerField(source="stock.variant.product_id")
    variant_id = serializers.IntegerField(source="stock.variant_id")
    warehouse_id = serializers.IntegerField(source="stock.location.warehouse_id")
    location_id = serializers.IntegerField(source="stock.location_id")
    on_hand_delta = serializers.IntegerField()
    reserved_delta = serializers.IntegerField()
    on_hand_after = serializers.IntegerField()
    reserved_after = serializers.IntegerField()
    available_delta = serializers.SerializerMethodField()
    available_after = serializers.SerializerMethodField()
    reference = serializers.CharField(allow_blank=True)
    reservation_id = serializers.IntegerField(allow_null=True)
    order_id = serializers.UUIDField(allow_null=True)
    actor_id = serializers.UUIDField(allow_null=True)
    actor_email = serializers.EmailField(source="actor.email", default=None)
    reason = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()

    def get_available_delta(self, movement) -> int:
        return movement.on_hand_delta - movement.reserved_delta

    def get_available_after(self, movement) -> int:
        return movement.on_hand_after - movement.reserved_after


class MovementsOutputSerializer(serializers.Serializer):
    movements = StockMovementOutputSerializer(many=True)


class StockAdjustmentInputSerializer(serializers.Serializer):
    """A signed change of the units at one location (seed 001's stock-adjustments: at ``MAIN/DEFAULT``)."""

    delta = serializers.IntegerField(min_value=-1_000_000_000, max_value=1_000_000_000)
    reason = serializers.CharField(max_length=255)

    def validate_delta(self, value: int) -> int:
        if value == 0:
            raise serializers.ValidationError("A zero adjustment changes nothing.")
        return value


# --- warehouses and locations


class WarehouseOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    address = serializers.CharField(allow_blank=True)
    priority = serializers.IntegerField()
    is_active = serializers.BooleanField()


class WarehouseCreateInputSerializer(serializers.Serializer):
    code = serializers.RegexField(r"^\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*$", max_length=32)
    name = serializers.CharField(max_length=NAME_MAX)
    address = serializers.CharField(max_length=2_000, required=False, allow_blank=True, default="")
    priority = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False, default=100)


class WarehouseUpdateInputSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=NAME_MAX, required=False)
    address = serializers.CharField(max_length=2_000, required=False, allow_blank=True)
    priority = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)
    is_active = serializers.BooleanField(required=False)
    not_writable = {"code": "A warehouse's code does not change."}


class LocationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    warehouse_id = serializers.IntegerField()
    code = serializers.CharField()
    is_active = serializers.BooleanField()


LOCATION_CODE = r"^\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*$"


class LocationCreateInputSerializer(serializers.Serializer):
    warehouse_id = serializers.IntegerField(**ID_FIELD)
    code = serializers.RegexField(LOCATION_CODE, max_length=64)


class LocationUpdateInputSerializer(StrictInputSerializer):
    code = serializers.RegexField(LOCATION_CODE, max_length=64, required=False)
    is_active = serializers.BooleanField(required=False)
    not_writable = {"warehouse_id": "A location stays in its warehouse; create one in the other warehouse."}


# --- stock operations


class ReceiptLineInputSerializer(serializers.Serializer):
    sku = sku_field()
    quantity = serializers.IntegerField(**UNITS)
    location_id = serializers.IntegerField(**ID_FIELD, required=False, allow_null=True)


class ReceiptInputSerializer(serializers.Serializer):
    warehouse_id = serializers.IntegerField(**ID_FIELD)
    reference = serializers.CharField(max_length=255)
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    lines = ReceiptLineInputSerializer(many=True, allow_empty=False, max_length=LINES_MAX)


class AdjustmentInputSerializer(StockAdjustmentInputSerializer):
    sku = sku_field()
    location_id = serializers.IntegerField(**ID_FIELD)


class TransferInputSerializer(serializers.Serializer):
    sku = sku_field()
    from_location_id = serializers.IntegerField(**ID_FIELD)
    to_location_id = serializers.IntegerField(**ID_FIELD)
    quantity = serializers.IntegerField(**UNITS)
    reference = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    reason = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")


class StockLocationOutputSerializer(serializers.Serializer):
    warehouse_id = serializers.IntegerField()
    warehouse_code = serializers.CharField()
    location_id = serializers.IntegerField()
    location_code = serializers.CharField()
    on_hand = serializers.IntegerField()
    reserved = serializers.IntegerField()
    available = serializers.IntegerField()


class StockOutputSerializer(serializers.Serializer):
    """``GET /stock/{sku}``: totals over every location; ``available`` counts active locations only."""

    sku = serializers.CharField()
    variant_id = serializers.IntegerField()
    on_hand = serializers.IntegerField()
    reserved = serializers.IntegerField()
    available = serializers.IntegerField()
    locations = StockLocationOutputSerializer(many=True)


# --- reservations


class ReservationHoldInputSerializer(serializers.Serializer):
    sku = sku_field()
    quantity = serializers.IntegerField(**UNITS)
    location_id = serializers.IntegerField(**ID_FIELD)
    reference = serializers.CharField(max_length=255)
    ttl_seconds = serializers.IntegerField(min_value=1, max_value=TTL_MAX_SECONDS, required=False, allow_null=True)


class SkuLineInputSerializer(serializers.Serializer):
    sku = sku_field()
    quantity = serializers.IntegerField(**UNITS)


class ReservationAllocateInputSerializer(serializers.Serializer):
    lines = SkuLineInputSerializer(many=True, allow_empty=False, max_length=LINES_MAX)
    reference = serializers.CharField(max_length=255)
    ttl_seconds = serializers.IntegerField(min_value=1, max_value=TTL_MAX_SECONDS, required=False, allow_null=True)


class AllocationOutputSerializer(serializers.Serializer):
    warehouse_id = serializers.IntegerField()
    location_id = serializers.IntegerField()
    quantity = serializers.IntegerField()


class ReservationLineOutputSerializer(serializers.Serializer):
    sku = serializers.CharField()
    variant_id = serializers.IntegerField()
    quantity = serializers.IntegerField()
    allocations = AllocationOutputSerializer(many=True)


class ReservationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    reference = serializers.CharField()
    order_id = serializers.UUIDField(allow_null=True)
    expires_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    released_at = serializers.DateTimeField(allow_null=True)
    committed_at = serializers.DateTimeField(allow_null=True)
    expired_at = serializers.DateTimeField(allow_null=True)
    lines = serializers.SerializerMethodField()

    @extend_schema_field(ReservationLineOutputSerializer(many=True))
    def get_lines(self, reservation) -> list[dict]:
        lines: dict[int, dict] = {}
        allocations = defaultdict(list)
        for allocation in reservation.allocations.all():
            variant = allocation.stock.variant
            line = lines.setdefault(variant.pk, {"sku": variant.sku, "variant_id": variant.pk, "quantity": 0})
            line["quantity"] += allocation.quantity
            allocations[variant.pk].append(
                {
                    "warehouse_id": allocation.stock.location.warehouse_id,
                    "location_id": allocation.stock.location_id,
                    "quantity": allocation.quantity,
                }
            )
        return [
            ReservationLineOutputSerializer({**line, "allocations": allocations[variant_id]}).data
            for variant_id, line in sorted(lines.items(), key=lambda item: item[1]["sku"])
        ]
