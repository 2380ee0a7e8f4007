from datetime import UTC

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField

from orders.models import Order, OrderStatus, Payment, PaymentStatus, Shipment, ShipmentStatus


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


def _status_filter(choices) -> django_filters.ChoiceFilter:
    """A status in any case (``paid`` or ``PAID``)."""
    return django_filters.ChoiceFilter(
        choices=[*choices, *[(value.lower(), label) for value, label in choices]], method="filter_status"
    )


class _StatusFilterSet(django_filters.FilterSet):
    def filter_status(self, queryset, name, value):
        return queryset.filter(status=value.upper())


class OrderFilter(_StatusFilterSet):
    status = _status_filter(OrderStatus.choices)
    created_after = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcIsoDateTimeFilter(field_name="created_at", lookup_expr="lte")

    class Meta:
        model = Order
        fields: list[str] = []


class PaymentFilter(_StatusFilterSet):
    order_id = django_filters.UUIDFilter(field_name="order_id")
    status = _status_filter(PaymentStatus.choices)

    class Meta:
        model = Payment
        fields: list[str] = []


class ShipmentFilter(_StatusFilterSet):
    order_id = django_filters.UUIDFilter(field_name="order_id")
    status = _status_filter(ShipmentStatus.choices)

    class Meta:
        model = Shipment
        fields: list[str] = []
