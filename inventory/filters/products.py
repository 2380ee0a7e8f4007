import django_filters
from django.db.models import Exists, OuterRef, Q

from catalog.models import Product, ProductStatus, Variant
from catalog.selectors import variant_list
from config.filters import IdFilter

TRUTHY = {"true": True, "1": True, "false": False, "0": False}


class StrictBooleanFilter(django_filters.TypedChoiceFilter):
    """``true``/``false`` (or ``1``/``0``), cleaned to a bool; anything else is a 400, not silently ignored.

    The form field does the conversion: a ``method`` filter replaces ``filter()`` and receives the cleaned value.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, choices=[(value, value) for value in TRUTHY], coerce=TRUTHY.__getitem__, **kwargs)


class ProductFilter(django_filters.FilterSet):
    """Seed 001's filters over products with variants: SKU and price match any variant of the product
    the caller may see (a customer's search never matches an inactive variant)."""

    in_stock = StrictBooleanFilter(method="filter_in_stock", help_text="Units available above zero.")
    search = django_filters.CharFilter(method="filter_search", help_text="Part of the name or of a variant's SKU.")
    sku = django_filters.CharFilter(method="filter_sku", help_text="A variant's SKU (any case).")
    min_price = django_filters.NumberFilter(method="filter_price", help_text="A variant costs at least this.")
    max_price = django_filters.NumberFilter(method="filter_price", help_text="A variant costs at most this.")
    is_active = StrictBooleanFilter(method="filter_is_active", help_text="On sale: PUBLISHED with an active variant.")
    status = django_filters.ChoiceFilter(choices=ProductStatus.choices)
    brand_id = IdFilter(field_name="brand_id")
    category_id = IdFilter(field_name="category_id")
    ordering = django_filters.OrderingFilter(
        fields=[
            ("name", "name"),
            ("min_price", "price"),
            ("stock_quantity", "stock_quantity"),
            ("created_at", "created_at"),
        ]
    )

    class Meta:
        model = Product
        fields: list[str] = []

    def _variants(self, **conditions) -> Exists:
        user = getattr(self.request, "user", None)
        variants = variant_list(user=user) if user is not None else Variant.objects.all()
        return Exists(variants.filter(product=OuterRef("pk"), **conditions))

    def filter_in_stock(self, queryset, name, value: bool):
        return queryset.filter(stock_quantity__gt=0) if value else queryset.filter(stock_quantity=0)

    def filter_search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | self._variants(sku__icontains=value))

    def filter_sku(self, queryset, name, value):
        return queryset.filter(self._variants(sku__iexact=value))

    def filter_price(self, queryset, name, value):
        return queryset  # applied together in filter_queryset, so one variant must match both bounds

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        bounds = {}
        if self.form.cleaned_data.get("min_price") is not None:
            bounds["price__gte"] = self.form.cleaned_data["min_price"]
        if self.form.cleaned_data.get("max_price") is not None:
            bounds["price__lte"] = self.form.cleaned_data["max_price"]
        return queryset.filter(self._variants(**bounds)) if bounds else queryset

    def filter_is_active(self, queryset, name, value: bool):
        on_sale = Q(self._variants(is_active=True), status=ProductStatus.PUBLISHED)
        return queryset.filter(on_sale) if value else queryset.exclude(on_sale)
