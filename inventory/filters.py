import django_filters
from django.db.models import Q

from inventory.models import Product

TRUTHY = {"true": True, "1": True, "false": False, "0": False}


class StrictBooleanFilter(django_filters.ChoiceFilter):
    """``true``/``false`` (or ``1``/``0``); anything else is a 400, not silently ignored."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, choices=[(value, value) for value in TRUTHY], **kwargs)

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        return super().filter(qs, TRUTHY[value])


class ProductFilter(django_filters.FilterSet):
    in_stock = StrictBooleanFilter(method="filter_in_stock", help_text="Available stock above zero.")
    search = django_filters.CharFilter(method="filter_search", help_text="Part of the name or SKU.")
    sku = django_filters.CharFilter(field_name="sku", lookup_expr="iexact")
    min_price = django_filters.NumberFilter(field_name="price", lookup_expr="gte")
    max_price = django_filters.NumberFilter(field_name="price", lookup_expr="lte")
    is_active = StrictBooleanFilter(field_name="is_active")
    ordering = django_filters.OrderingFilter(fields=["name", "price", "stock_quantity", "created_at"])

    class Meta:
        model = Product
        fields: list[str] = []

    def filter_in_stock(self, queryset, name, value):
        return queryset.filter(stock_quantity__gt=0) if TRUTHY[value] else queryset.filter(stock_quantity=0)

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(sku__icontains=value))
