from rest_framework import serializers

from catalog.models import IMAGE_POSITION_MAX
from catalog.validators import SKU_MAX_LENGTH, options_validate, sku_validator
from config.serializers import StrictInputSerializer

NAME_MAX = 200


class BrandOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()


class BrandCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_MAX)
    slug = serializers.SlugField(max_length=120, required=False)


class CategoryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    parent_id = serializers.IntegerField(allow_null=True)
    description = serializers.CharField(allow_blank=True)
    sort_order = serializers.IntegerField()
    is_active = serializers.BooleanField()


class CategoryCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=NAME_MAX)
    slug = serializers.SlugField(max_length=120, required=False)
    parent_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False, allow_null=True)
    description = serializers.CharField(max_length=10_000, required=False, allow_blank=True, default="")
    sort_order = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False, default=0)
    is_active = serializers.BooleanField(required=False, default=True)


class CategoryUpdateInputSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=NAME_MAX, required=False)
    parent_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False, allow_null=True)
    description = serializers.CharField(max_length=10_000, required=False, allow_blank=True)
    sort_order = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)
    is_active = serializers.BooleanField(required=False)
    not_writable = {"slug": "A category's slug does not change."}


class VariantCreateInputSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=SKU_MAX_LENGTH, validators=[sku_validator])
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    name = serializers.CharField(max_length=NAME_MAX, required=False, allow_blank=True, default="")
    options = serializers.DictField(required=False, default=dict, validators=[options_validate])
    is_active = serializers.BooleanField(required=False, default=True)


class VariantUpdateInputSerializer(StrictInputSerializer):
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, required=False)
    name = serializers.CharField(max_length=NAME_MAX, required=False, allow_blank=True)
    options = serializers.DictField(required=False, validators=[options_validate])
    is_active = serializers.BooleanField(required=False)
    not_writable = {"sku": "A variant's SKU cannot change.", "available": "Stock moves only through the ledger."}


class VariantSnapshotOutputSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    product_name = serializers.CharField()
    variant_id = serializers.IntegerField()
    variant_name = serializers.CharField(allow_blank=True)
    sku = serializers.CharField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2)
    currency = serializers.CharField()


class ProductImageOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    alt = serializers.CharField(allow_blank=True)
    position = serializers.IntegerField()

    def get_url(self, image) -> str:
        url = image.file.url
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None and url.startswith("/") else url


class ProductImageInputSerializer(serializers.Serializer):
    file = serializers.FileField()
    alt = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    position = serializers.IntegerField(min_value=0, max_value=IMAGE_POSITION_MAX, required=False)
