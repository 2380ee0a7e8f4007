import django_filters
from django.db.models import Q

from inventory.models import Product


class ProductFilter(django_filters.FilterSet):
    in_stock = django_filters.BooleanFilter(method="filter_in_stock", help_text="Available stock above zero.")
    search = django_filters.CharFilter(method="filter_search", help_text="Part of the name or SKU.")
    sku = django_filters.CharFilter(field_name="sku", lookup_expr="iexact")
    min_price = django_filters.NumberFilter(field_name="price", lookup_expr="gte")
    max_price = django_filters.NumberFilter(field_name="price", lookup_expr="lte")
    is_active = django_filters.BooleanFilter(field_name="is_active")
    ordering = django_filters.OrderingFilter(fields=["name", "price", "stock_quantity", "created_at"])

    class Meta:
        model = Product
        fields: list[str] = []

    def filter_in_stock(self, queryset, name, value):
        return queryset.filter(stock_quantity__gt=0) if value else queryset.filter(stock_quantity=0)

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(sku__icontains=value))
