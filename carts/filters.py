import django_filters

from carts.models import Cart, CartStatus


class CartFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        choices=[*CartStatus.choices, *[(value.lower(), label) for value, label in CartStatus.choices]],
        method="filter_status",
    )

    class Meta:
        model = Cart
        fields: list[str] = []

    def filter_status(self, queryset, name, value):
        return queryset.filter(status=value.upper())
