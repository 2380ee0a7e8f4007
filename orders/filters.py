import django_filters

from orders.models import Order, OrderStatus


class OrderFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=[*OrderStatus.choices, *[(value.lower(), label) for value, label in OrderStatus.choices]],
        method="filter_status",
    )
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lte")

    class Meta:
        model = Order
        fields: list[str] = []

    def filter_status(self, queryset, name, value):
        return queryset.filter(status=value.upper())
