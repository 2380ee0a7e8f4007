"""Admin console for products and the ledger. Every write goes through ``inventory.services``."""

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from inventory.exceptions import StockWouldGoNegative, VersionConflict
from inventory.models import Product, StockMovement
from inventory.services import EDITABLE_FIELDS, product_create, product_update, stock_adjust

MOVEMENT_FIELDS = [
    "created_at",
    "kind",
    "available_delta",
    "reserved_delta",
    "available_after",
    "reserved_after",
    "order_id",
    "actor",
    "reason",
]


class StockAdjustmentForm(forms.Form):
    delta = forms.IntegerField(help_text="Signed change of the available stock, e.g. -3 or 12.")
    reason = forms.CharField(max_length=255)

    def clean_delta(self):
        if self.cleaned_data["delta"] == 0:
            raise forms.ValidationError("A zero adjustment changes nothing.")
        return self.cleaned_data["delta"]


class ProductAdminForm(forms.ModelForm):
    """Also carries the version the editor loaded, so two people editing at once cannot overwrite each other."""

    edited_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Product
        fields = ["sku", "name", "description", "price", "stock_quantity", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["edited_version"].initial = self.instance.version

    def clean_sku(self):
        return self.cleaned_data["sku"].strip().upper()  # stored upper-case; uniqueness is then checked as such

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and cleaned.get("edited_version") != self.instance.version:
            raise forms.ValidationError(STALE_EDIT)
        return cleaned


STALE_EDIT = "Someone else changed this product while you were editing it: reload the page and try again."


class _ReadOnlyMixin:
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class StockMovementInline(_ReadOnlyMixin, admin.TabularInline):
    model = StockMovement
    fields = MOVEMENT_FIELDS
    readonly_fields = MOVEMENT_FIELDS
    ordering = ["-id"]
    extra = 0
    can_delete = False


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductAdminForm
    list_display = ["sku", "name", "price", "stock_quantity", "reserved_quantity", "is_active", "adjust_stock_link"]
    list_filter = ["is_active"]
    search_fields = ["sku", "name"]
    ordering = ["sku"]
    inlines = [StockMovementInline]
    actions = ["deactivate"]

    def get_inlines(self, request, obj=None):
        return self.inlines if obj is not None else []  # a new product has no ledger yet

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["sku", "name", "description", "price", "stock_quantity", "is_active"]
        return [
            "sku",
            "name",
            "description",
            "price",
            "is_active",
            "stock_quantity",
            "reserved_quantity",
            "version",
            "edited_version",
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["sku", "stock_quantity", "reserved_quantity", "version"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # DELETE /products/{id} deletes or deactivates; here, use the "deactivate" action

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        # ModelAdmin wraps this view in transaction.atomic(); the services own their (durable) transactions.
        try:
            return self._changeform_view(request, object_id, form_url, extra_context)
        except VersionConflict:  # lost the race between the form's check and the locked update
            messages.error(request, STALE_EDIT)
            return redirect("admin:inventory_product_change", object_id)

    def save_model(self, request, obj, form, change):
        if change:
            changes = {field: form.cleaned_data[field] for field in form.changed_data if field in EDITABLE_FIELDS}
            expected = form.cleaned_data["edited_version"]
            product_update(product_id=obj.pk, actor=request.user, changes=changes, expected_version=expected)
        else:
            fields = {field: form.cleaned_data[field] for field in self.get_fields(request)}
            obj.pk = product_create(actor=request.user, **fields).pk
        obj.refresh_from_db()

    @admin.action(description="Deactivate selected products", permissions=["change"])
    def deactivate(self, request, queryset):
        for product_id in queryset.filter(is_active=True).values_list("pk", flat=True):
            product_update(product_id=product_id, actor=request.user, changes={"is_active": False})

    @admin.display(description="Stock")
    def adjust_stock_link(self, obj):
        url = reverse("admin:inventory_product_adjust_stock", args=[obj.pk])
        return format_html('<a href="{}">Adjust stock</a>', url)

    def get_urls(self):
        adjust = path(
            "<int:product_id>/adjust-stock/",
            self.admin_site.admin_view(self.adjust_stock_view),
            name="inventory_product_adjust_stock",
        )
        return [adjust, *super().get_urls()]

    def adjust_stock_view(self, request, product_id: int):
        product = self.get_object(request, str(product_id))
        if product is None or not self.has_change_permission(request, product):
            return self._get_obj_does_not_exist_redirect(request, self.opts, str(product_id))
        form = StockAdjustmentForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                movement = stock_adjust(product_id=product.pk, actor=request.user, **form.cleaned_data)
            except StockWouldGoNegative as exc:
                form.add_error("delta", exc.message)
            else:
                messages.success(request, f"Stock of {product.sku} is now {movement.available_after}.")
                return redirect("admin:inventory_product_change", product.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Adjust stock: {product}",
            "product": product,
            "form": form,
        }
        return TemplateResponse(request, "admin/inventory/product/adjust_stock.html", context)


@admin.register(StockMovement)
class StockMovementAdmin(_ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["created_at", "product", *MOVEMENT_FIELDS[1:]]
    list_filter = ["kind"]
    search_fields = ["product__sku", "reason"]
    list_select_related = ["product", "actor"]
    ordering = ["-id"]

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_staff
