"""Carts in the admin console, read-only: each cart's lines with their current names, prices and
availability, and its total now, as ``GET /carts/{id}`` shows them (``carts.selectors.cart_view``).

A cart stores variant ids and quantities only; nothing here changes a cart (customers change their
own through the API). The changelist reads every line of a page in a fixed number of queries.
"""

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from carts.models import Cart
from carts.selectors import CartView, cart_lines_prefetch, cart_view
from config.admin import ReadOnlyAdmin


@admin.register(Cart)
class CartAdmin(ReadOnlyAdmin):
    list_display = ["id", "owner", "status", "line_count", "total", "order", "created_at", "updated_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["=id", "owner__email", "=order__id"]
    search_help_text = "Cart id, customer email or order id."
    list_select_related = ["owner", "order"]
    ordering = ["-created_at", "-pk"]
    fields = ["id", "owner", "status", "order", "created_at", "updated_at", "checked_out_at", "total", "lines"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related(cart_lines_prefetch())

    @staticmethod
    def _view(obj: Cart) -> CartView:
        """The cart as its owner sees it now (computed once per row, from the prefetched lines)."""
        if not hasattr(obj, "_admin_view"):
            obj._admin_view = cart_view(obj)
        return obj._admin_view

    @admin.display(description="Lines")
    def line_count(self, obj: Cart) -> int:
        return len(self._view(obj).items)

    @admin.display(description="Total now")
    def total(self, obj: Cart) -> str:
        view = self._view(obj)
        return f"{view.total} {view.currency}"

    @admin.display(description="Lines (current names, prices and availability)")
    def lines(self, obj: Cart) -> str:
        view = self._view(obj)
        if not view.items:
            return "-"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    line.sku,
                    line.product_name,
                    line.variant_name,
                    line.quantity,
                    line.unit_price,
                    line.line_total,
                    line.available,
                    "yes" if line.sellable else "no (left out of the total)",
                )
                for line in view.items
            ),
        )
        return format_html(
            "<table><thead><tr><th>SKU</th><th>Product</th><th>Variant</th><th>Quantity</th><th>Unit price</th>"
            "<th>Line total</th><th>Available</th><th>Sellable</th></tr></thead><tbody>{}</tbody></table>",
            rows,
        )
