from rest_framework import serializers

from catalog.validators import SKU_MAX_LENGTH, sku_validator
from config.serializers import StrictInputSerializer

NAME_MAX = 200
OPTIONS_MAX = 20


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


def options_validate(value: dict) -> dict:
    """Option values: up to 20 names, each a short string, e.g. {"size": "M", "colour": "red"}."""
    if len(value) > OPTIONS_MAX:
        raise serializers.ValidationError(f"At most {OPTIONS_MAX} options.")
    for name, option in value.items():
        if not (isinstance(name, str) and 0 < len(name) <= 50):
            raise serializers.ValidationError("Option names are strings of 1 to 50 characters.")
        if not (isinstance(option, str) and len(option) <= 100):
            raise serializers.ValidationError(f"The value of {name!r} must be a string of at most 100 characters.")
    return value


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
    position = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)
