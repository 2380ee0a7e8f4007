"""Products with their stock, in seed 001's shape plus variants."""

from django.conf import settings
from rest_framework import serializers

from catalog.models import ProductStatus
from catalog.serializers import NAME_MAX, ProductImageOutputSerializer
from config.serializers import StrictInputSerializer
from inventory.serializers.stock import ID_FIELD, StockMovementOutputSerializer, sku_field

# --- products and variants (with their stock)


class VariantOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    product_id = serializers.IntegerField()
    sku = serializers.CharField()
    name = serializers.CharField(allow_blank=True)
    options = serializers.DictField(child=serializers.CharField(allow_blank=True))
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    is_active = serializers.BooleanField()
    available = serializers.IntegerField()


class ProductOutputSerializer(serializers.Serializer):
    """A product with its variants and stock; a product with one variant also has seed-001's top-level fields.

    ``sku`` and ``price`` are those of the only variant (null when there are several or none);
    ``stock_quantity`` is the units available over every variant in active locations of active
    warehouses, ``reserved_quantity`` the units held; ``is_active`` means on sale (PUBLISHED with
    an active variant).
    """

    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=ProductStatus.choices)
    brand_id = serializers.IntegerField(allow_null=True)
    category_id = serializers.IntegerField(allow_null=True)
    version = serializers.IntegerField()
    currency = serializers.SerializerMethodField()
    sku = serializers.SerializerMethodField()
    price = serializers.SerializerMethodField()
    stock_quantity = serializers.IntegerField()
    reserved_quantity = serializers.IntegerField()
    is_active = serializers.SerializerMethodField()
    variants = VariantOutputSerializer(many=True, source="variants.all")
    images = ProductImageOutputSerializer(many=True, source="images.all")
    published_at = serializers.DateTimeField(allow_null=True)
    archived_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def _only_variant(self, product):
        variants = product.variants.all()
        return variants[0] if len(variants) == 1 else None

    def get_currency(self, product) -> str:
        return settings.CURRENCY

    def get_sku(self, product) -> str | None:
        variant = self._only_variant(product)
        return variant.sku if variant else None

    def get_price(self, product) -> str | None:
        variant = self._only_variant(product)
        return f"{variant.price:.2f}" if variant else None

    def get_is_active(self, product) -> bool:
        return product.status == ProductStatus.PUBLISHED and any(v.is_active for v in product.variants.all())


class ProductCreateInputSerializer(serializers.Serializer):
    """Without ``sku``: a DRAFT product with no variants. With ``sku`` and ``price``: one variant, PUBLISHED
    unless ``status`` is DRAFT, with ``stock_quantity`` received into ``MAIN/DEFAULT`` (seed 001)."""

    name = serializers.CharField(max_length=NAME_MAX)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000, default="")
    slug = serializers.SlugField(max_length=220, required=False)
    brand_id = serializers.IntegerField(**ID_FIELD, required=False, allow_null=True)
    category_id = serializers.IntegerField(**ID_FIELD, required=False, allow_null=True)
    sku = sku_field(required=False)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False)
    stock_quantity = serializers.IntegerField(min_value=0, max_value=1_000_000_000, required=False)
    is_active = serializers.BooleanField(required=False)
    status = serializers.ChoiceField(choices=[ProductStatus.DRAFT, ProductStatus.PUBLISHED], required=False)

    def validate(self, attrs):
        if "sku" in attrs and "price" not in attrs:
            raise serializers.ValidationError({"price": ["A product created with a sku needs its price."]})
        if "sku" not in attrs:
            variant_only = sorted(set(attrs) & {"price", "stock_quantity", "is_active"})
            if variant_only:  # seed 001's body without its sku: the sku is what is missing
                raise serializers.ValidationError(
                    {"sku": [f"Required with {', '.join(variant_only)} (the product's first variant)."]}
                )
            if attrs.get("status") == ProductStatus.PUBLISHED:
                raise serializers.ValidationError(
                    {"status": ["A product without variants is created as DRAFT; add a variant, then publish."]}
                )
        return attrs


class ProductUpdateInputSerializer(StrictInputSerializer):
    """PATCH body. ``price`` and ``is_active`` change the only variant of a one-variant product."""

    name = serializers.CharField(max_length=NAME_MAX, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    brand_id = serializers.IntegerField(**ID_FIELD, required=False, allow_null=True)
    category_id = serializers.IntegerField(**ID_FIELD, required=False, allow_null=True)
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False)
    is_active = serializers.BooleanField(required=False)
    version = serializers.IntegerField(
        min_value=1, max_value=2**31 - 1, required=False, help_text="The version you edited."
    )
    not_writable = {
        "stock_quantity": (
            "Stock is not editable here: use POST /products/{id}/stock-adjustments, which writes the ledger."
        ),
        "reserved_quantity": "Reserved stock changes only through orders and reservations.",
        "sku": "The SKU of an existing variant cannot change.",
        "status": "Use POST /products/{id}/publish or /archive.",
        "variants": "Use POST /products/{id}/variants and PATCH /variants/{id}.",
    }


class StockAdjustmentOutputSerializer(serializers.Serializer):
    movement = StockMovementOutputSerializer()
    product = ProductOutputSerializer()
