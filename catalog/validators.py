"""Shapes the catalog accepts, shared by the API serializers, the admin forms and the imports."""

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/-]*$"
SKU_MAX_LENGTH = 64

sku_validator = RegexValidator(
    SKU_PATTERN, "A SKU starts with a letter or digit and holds only letters, digits and . _ / -"
)


def sku_normalize(sku: str) -> str:
    """SKUs are compared and stored upper-case, wherever they come from."""
    return sku.strip().upper()


OPTIONS_MAX = 20


def _storable(text: str) -> bool:
    """PostgreSQL's jsonb refuses NUL and lone surrogates."""
    return "\x00" not in text and not any(0xD800 <= ord(char) <= 0xDFFF for char in text)


def options_validate(value: dict) -> dict:
    """Option values: up to 20 names, each a short string, e.g. {"size": "M", "colour": "red"}."""
    if not isinstance(value, dict):
        raise ValidationError('Options are a JSON object, e.g. {"size": "M"}.')
    if len(value) > OPTIONS_MAX:
        raise ValidationError(f"At most {OPTIONS_MAX} options.")
    for name, option in value.items():
        if not (isinstance(name, str) and 0 < len(name) <= 50 and _storable(name)):
            raise ValidationError("Option names are strings of 1 to 50 characters.")
        if not (isinstance(option, str) and len(option) <= 100 and _storable(option)):
            raise ValidationError(f"The value of {name!r} must be a string of at most 100 characters.")
    return value
