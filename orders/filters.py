from datetime import UTC

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField

from orders.models import Order, OrderStatus


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 datetime, converted to UTC here: PostgreSQL refuses offsets beyond +/-15:59."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except (OverflowError, ValueError) as exc:
            raise forms.ValidationError("Date and time out of range.", code="invalid") from exc


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class OrderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=[*OrderStatus.choices, *[(value.lower(), label) for value, label in OrderStatus.choices]],
        method="filter_status",
    )
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lte")

    class Meta:
        model = Order
        fields: list[str] = []

    def filter_status(self, queryset, name, value):
        return queryset.filter(status=value.upper())
