from rest_framework import serializers

from carts.models import MAX_LINE_QUANTITY, CartStatus
from carts.services.carts import ID_MAX
from config.serializers import StrictInputSerializer

TRUSTED = "A cart holds variant ids and quantities only: names, SKUs, prices and stock come from the catalog."


class WholeNumberField(serializers.IntegerField):
    """A JSON integer only: ``"2"``, ``2.0``, ``2.5`` and ``true`` are refused (DRF's IntegerField takes
    the first two)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class CartCreateInputSerializer(StrictInputSerializer):
    """``POST /carts`` takes no fields: a cart starts empty."""

    not_writable = dict.fromkeys(("items", "currency", "total", "status"), TRUSTED)


class CartItemAddInputSerializer(StrictInputSerializer):
    not_writable = dict.fromkeys(
        ("sku", "product_name", "variant_name", "unit_price", "price", "line_total", "currency", "available"), TRUSTED
    )

    variant_id = WholeNumberField(min_value=1, max_value=ID_MAX)
    quantity = WholeNumberField(min_value=1, max_value=MAX_LINE_QUANTITY)


class CartItemUpdateInputSerializer(StrictInputSerializer):
    not_writable = {**CartItemAddInputSerializer.not_writable, "variant_id": "The variant is named by the URL."}

    quantity = WholeNumberField(min_value=1, max_value=MAX_LINE_QUANTITY)


class CheckoutInputSerializer(StrictInputSerializer):
    """``POST /carts/{id}/checkout`` takes no fields: the order is made of the cart's lines."""

    not_writable = {"items": "The order is made of the cart's lines."}


class CartLineOutputSerializer(serializers.Serializer):
    variant_id = serializers.IntegerField()
    quantity = serializers.IntegerField()
    sku = serializers.CharField()
    product_name = serializers.CharField()
    variant_name = serializers.CharField(allow_blank=True)
    unit_price = serializers.DecimalField(max_digits=None, decimal_places=2)
    line_total = serializers.DecimalField(max_digits=None, decimal_places=2)
    available = serializers.IntegerField(help_text="Units available now (may be less than quantity).")
    sellable = serializers.BooleanField(help_text="The product is PUBLISHED and the variant active.")


class CartOutputSerializer(serializers.Serializer):
    """A ``carts.selectors.CartView``: the cart with every line read live from the catalog and stock."""

    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=CartStatus.choices)
    currency = serializers.CharField()
    total = serializers.DecimalField(
        max_digits=None, decimal_places=2, help_text="Sum of the sellable lines (shipping is added at checkout)."
    )
    items = CartLineOutputSerializer(many=True)
    order_id = serializers.UUIDField(allow_null=True, help_text="The order the checkout placed.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    checked_out_at = serializers.DateTimeField(allow_null=True)
