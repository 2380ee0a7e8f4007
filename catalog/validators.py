"""Shapes the catalog accepts, shared by the API serializers, the admin forms and the imports."""

from django.core.validators import RegexValidator

SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/-]*$"
SKU_MAX_LENGTH = 64

sku_validator = RegexValidator(
    SKU_PATTERN, "A SKU starts with a letter or digit and holds only letters, digits and . _ / -"
)


def sku_normalize(sku: str) -> str:
    """SKUs are compared and stored upper-case, wherever they come from."""
    return sku.strip().upper()
