"""The catalog in the admin console: brands, the category tree, products with their variants.

Every write goes through ``catalog.services``. The forms check shapes (and what they can see,
such as a stale version or a taken SKU) first, so a refused change is a form error; when someone
else changes the data between that check and the locked write, the service refuses it, nothing
is written, and the page says why.

Each brand, category, product and variant has a "History" page: its audit trail (who changed
which value, when, old -> new), read-only. A variant's is its price history; its stock changes
are in the stock ledger (linked from the variants list).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.views.main import ORDER_VAR, ChangeList
from django.core.exceptions import ValidationError
from django.db.models import Count, IntegerField
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils.html import format_html

from accounts.admin import AuditTrailAdmin
from catalog.models import Brand, Category, Product, ProductStatus, Variant
from catalog.resources import ProductVariantResource
from catalog.selectors import category_descendant_ids
from catalog.services.brands import brand_create
from catalog.services.categories import category_create, category_update
from catalog.services.products import product_archive, product_create, product_publish, product_update
from catalog.services.slugs import slug_normalize
from catalog.services.variants import EDITABLE_FIELDS as VARIANT_FIELDS
from catalog.services.variants import VariantIn, variant_create, variant_update
from catalog.validators import SKU_MAX_LENGTH, options_validate, sku_normalize, sku_validator
from config.admin import ReadOnlyAdmin, ServiceErrorsMixin, ServiceImportExportMixin
from config.db import entry_point
from config.exceptions import DomainError
from config.importing import error_text

STALE_EDIT = "Someone else changed this product while you were editing it: reload the page and try again."
SORT_ORDER_MAX = 2**31 - 1


# --- brands


class BrandForm(forms.ModelForm):
    class Meta:
        model = Brand
        fields = ["name", "slug"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        self.fields["slug"].help_text = "Made from the name when left blank."

    def clean_name(self):
        return self.cleaned_data["name"].strip()

    def clean_slug(self):
        return slug_normalize(self.cleaned_data["slug"] or "")


@admin.register(Brand)
class BrandAdmin(ServiceErrorsMixin, AuditTrailAdmin):
    """Brands are created through ``brand_create``; there is no service to rename one yet."""

    form = BrandForm
    list_display = ["name", "slug", "product_count"]
    search_fields = ["name", "slug"]
    ordering = ["name", "id"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(product_count=Count("products"))

    @admin.display(description="Products", ordering="product_count")
    def product_count(self, obj) -> int:
        return obj.product_count

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        brand = brand_create(name=form.cleaned_data["name"], slug=form.cleaned_data["slug"] or None, actor=request.user)
        obj.pk = brand.pk
        obj.refresh_from_db()


# --- categories

# For each category, walking up to the root: its path of names, its depth, and a key that orders
# the tree depth-first with siblings by (sort_order, name). One correlated recursive query each.
_CATEGORY_WALK_UP = """
    WITH RECURSIVE up(id, parent_id, depth, name, key) AS (
        SELECT c.id, c.parent_id, 0, c.name,
               lpad(c.sort_order::text, 10, '0') || lower(c.name) || chr(1) || lpad(c.id::text, 19, '0')
        FROM catalog_category c WHERE c.id = catalog_category.id
        UNION ALL
        SELECT p.id, p.parent_id, up.depth + 1, p.name,
               lpad(p.sort_order::text, 10, '0') || lower(p.name) || chr(1) || lpad(p.id::text, 19, '0')
        FROM catalog_category p JOIN up ON p.id = up.parent_id
        WHERE up.depth < 100
    )
"""
CATEGORY_PATH = RawSQL(f"({_CATEGORY_WALK_UP} SELECT string_agg(name, ' / ' ORDER BY depth DESC) FROM up)", [])
CATEGORY_DEPTH = RawSQL(f"({_CATEGORY_WALK_UP} SELECT max(depth) FROM up)", [], output_field=IntegerField())
CATEGORY_TREE_KEY = RawSQL(
    f"({_CATEGORY_WALK_UP} SELECT string_agg(key, '/' ORDER BY depth DESC) COLLATE \"C\" FROM up)", []
)


class CategoryTreeChangeList(ChangeList):
    """Lists the tree depth-first unless a column was clicked (other lists of categories keep sort order, name)."""

    def get_ordering(self, request, queryset):
        if ORDER_VAR in self.params:
            return super().get_ordering(request, queryset)
        return ["tree_key", "pk"]


class CategoryForm(forms.ModelForm):
    sort_order = forms.IntegerField(min_value=0, max_value=SORT_ORDER_MAX, initial=0)

    class Meta:
        model = Category
        fields = ["name", "slug", "parent", "description", "sort_order", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "slug" in self.fields:
            self.fields["slug"].required = False
            self.fields["slug"].help_text = "Made from the name when left blank."

    def clean_name(self):
        return self.cleaned_data["name"].strip()

    def clean_slug(self):
        return slug_normalize(self.cleaned_data["slug"] or "")

    def clean_parent(self):
        parent = self.cleaned_data["parent"]
        if self.instance.pk and parent is not None:
            below = {self.instance.pk, *category_descendant_ids(category_id=self.instance.pk)}
            if parent.pk in below:
                raise ValidationError(
                    "A category cannot be moved under itself or one of its descendants.", code="category_cycle"
                )
        return parent


@admin.register(Category)
class CategoryAdmin(ServiceErrorsMixin, AuditTrailAdmin):
    """The tree, depth-first (siblings by sort order, then name), each name indented under its parent."""

    form = CategoryForm
    list_display = ["name_in_tree", "path", "slug", "sort_order", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug"]
    list_select_related = ["parent"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(tree_path=CATEGORY_PATH, tree_depth=CATEGORY_DEPTH, tree_key=CATEGORY_TREE_KEY)
        )

    def get_changelist(self, request, **kwargs):
        return CategoryTreeChangeList

    @admin.display(description="Name", ordering="tree_key")
    def name_in_tree(self, obj) -> str:
        return format_html("{}{}", "\u2003" * (obj.tree_depth or 0), obj.name)

    @admin.display(description="Path", ordering="tree_path")
    def path(self, obj) -> str:
        return obj.tree_path

    def get_readonly_fields(self, request, obj=None):
        return ["slug"] if obj is not None else []

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            changes = {}
            for name in form.changed_data:
                if name == "parent":
                    changes["parent_id"] = data["parent"].pk if data["parent"] else None
                elif name in {"name", "description", "sort_order", "is_active"}:
                    changes[name] = data[name]
            category = category_update(category_id=obj.pk, changes=changes, actor=request.user) if changes else obj
        else:
            category = category_create(
                name=data["name"],
                slug=data["slug"] or None,
                parent_id=data["parent"].pk if data["parent"] else None,
                description=data["description"],
                sort_order=data["sort_order"],
                is_active=data["is_active"],
                actor=request.user,
            )
        obj.pk = category.pk
        obj.refresh_from_db()


# --- products and variants


class VariantForm(forms.ModelForm):
    """A variant row. Its SKU is fixed once created (the services change name, options, price, activity)."""

    sku = forms.CharField(max_length=SKU_MAX_LENGTH, validators=[sku_validator])
    price = forms.DecimalField(max_digits=12, decimal_places=2, min_value=0)

    class Meta:
        model = Variant
        fields = ["sku", "name", "options", "price", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["options"].required = False
        self.fields["options"].help_text = 'e.g. {"size": "M", "colour": "red"}'
        if self.instance.pk:
            self.fields["sku"].disabled = True

    def clean_sku(self):
        return sku_normalize(self.cleaned_data["sku"])

    def clean_name(self):
        return self.cleaned_data["name"].strip()

    def clean_options(self):
        return options_validate(self.cleaned_data["options"] or {})


class VariantInline(admin.TabularInline):
    model = Variant
    form = VariantForm
    fields = ["sku", "name", "options", "price", "is_active", "stock", "history"]
    readonly_fields = ["stock", "history"]
    extra = 1
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        if obj is not None and obj.status == ProductStatus.ARCHIVED:
            return False  # an ARCHIVED product takes no new variants
        return super().has_add_permission(request, obj)

    @admin.display(description="Stock")
    def stock(self, obj) -> str:
        if not obj.pk:
            return "-"
        url = reverse("admin:inventory_stock_changelist")
        return format_html('<a href="{}?q={}">Stock by location</a>', url, obj.sku)

    @admin.display(description="History")
    def history(self, obj) -> str:
        if not obj.pk:
            return "-"
        return format_html('<a href="{}">Price history</a>', reverse("admin:catalog_variant_history", args=[obj.pk]))


class ProductForm(forms.ModelForm):
    """Also carries the version the editor loaded, so two people editing at once cannot overwrite each other."""

    edited_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Product
        fields = ["name", "slug", "description", "brand", "category"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "slug" in self.fields:
            self.fields["slug"].required = False
            self.fields["slug"].help_text = "Made from the name when left blank."
        if self.instance.pk:
            self.fields["edited_version"].initial = self.instance.version

    def clean_name(self):
        return self.cleaned_data["name"].strip()

    def clean_slug(self):
        return slug_normalize(self.cleaned_data["slug"] or "")

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and cleaned.get("edited_version") != self.instance.version:
            raise ValidationError(STALE_EDIT, code="version_conflict")
        return cleaned


@admin.register(Product)
class ProductAdmin(ServiceErrorsMixin, ServiceImportExportMixin, AuditTrailAdmin):
    form = ProductForm
    inlines = [VariantInline]
    list_display = ["name", "slug", "status", "brand", "category", "variant_count", "skus", "version", "updated_at"]
    list_filter = ["status", "brand", "category"]
    search_fields = ["name", "slug", "variants__sku"]
    search_help_text = "Name, slug or SKU."
    list_select_related = ["brand", "category"]
    ordering = ["name", "id"]
    actions = ["publish_products", "archive_products"]
    resource_classes = [ProductVariantResource]
    import_template_name = "admin/catalog/product/import.html"
    import_failure_note = "Nothing was imported (the import is all rows or none)."
    history_list_display = ["status"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(variant_count=Count("variants")).prefetch_related("variants")

    @admin.display(description="Variants", ordering="variant_count")
    def variant_count(self, obj) -> int:
        return obj.variant_count

    @admin.display(description="SKUs")
    def skus(self, obj) -> str:
        return ", ".join(variant.sku for variant in obj.variants.all())

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "slug", "description", "brand", "category"]
        return [
            "name",
            "slug",
            "description",
            "brand",
            "category",
            "status",
            "published_at",
            "archived_at",
            "version",
            "edited_version",
        ]

    def get_readonly_fields(self, request, obj=None):
        return ["slug", "status", "published_at", "archived_at", "version"] if obj is not None else []

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # products that sold stay; use the "archive" action

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            changes = {}
            for name in form.changed_data:
                if name in {"name", "description"}:
                    changes[name] = data[name]
                elif name in {"brand", "category"}:
                    changes[f"{name}_id"] = data[name].pk if data[name] else None
            # Also with no product change: it locks the product and checks the version for the variant edits.
            product = product_update(
                product_id=obj.pk, changes=changes, expected_versions=[data["edited_version"]], actor=request.user
            )
        else:
            product = product_create(
                name=data["name"],
                description=data["description"],
                slug=data["slug"] or None,
                brand_id=data["brand"].pk if data["brand"] else None,
                category_id=data["category"].pk if data["category"] else None,
                actor=request.user,
            )
        obj.pk = product.pk
        obj.refresh_from_db()

    def save_formset(self, request, form, formset, change):
        """Variants are created and changed through the services (each bumps the product's version)."""
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for variant_form in formset.forms:
            if not variant_form.has_changed():
                continue
            data = variant_form.cleaned_data
            if variant_form.instance.pk is None:
                new = VariantIn(
                    sku=data["sku"],
                    price=data["price"],
                    name=data["name"],
                    options=data["options"],
                    is_active=data["is_active"],
                )
                formset.new_objects.append(variant_create(product_id=form.instance.pk, variant=new, actor=request.user))
            else:
                changed = [name for name in variant_form.changed_data if name in VARIANT_FIELDS]
                if changed:
                    variant = variant_update(
                        variant_id=variant_form.instance.pk,
                        changes={name: data[name] for name in changed},
                        actor=request.user,
                    )
                    formset.changed_objects.append((variant, changed))

    def _transition(self, request, queryset, service, verb: str) -> None:
        done = 0
        for product_id, name in queryset.order_by("pk").values_list("pk", "name"):
            try:
                entry_point(service, product_id=product_id, actor=request.user)
            except DomainError as exc:
                self.message_user(request, f"{name}: {error_text(exc)}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, f"{done} product(s) {verb}.", messages.SUCCESS)

    @admin.action(description="Publish selected products", permissions=["change"])
    def publish_products(self, request, queryset):
        self._transition(request, queryset, product_publish, "published")

    @admin.action(description="Archive selected products (for good)", permissions=["change"])
    def archive_products(self, request, queryset):
        self._transition(request, queryset, product_archive, "archived")


@admin.register(Variant)
class VariantAdmin(ReadOnlyAdmin, AuditTrailAdmin):
    """Every variant, read-only (they change on their product's page), each with its history: the price history.

    Its stock changes are not repeated in the trail: they are the stock ledger's rows (the "Ledger" link).
    """

    list_display = ["sku", "product", "name", "price", "is_active", "links"]
    list_filter = ["is_active"]
    search_fields = ["sku", "product__name"]
    search_help_text = "SKU or product name."
    list_select_related = ["product"]
    ordering = ["sku"]
    fields = ["sku", "product", "name", "options", "price", "is_active", "created_at", "updated_at"]
    readonly_fields = fields
    history_list_display = ["price", "is_active"]

    def get_model_perms(self, request) -> dict:
        return {}  # not in the index: they are edited on their product's page, which links here

    @admin.display(description="")
    def links(self, obj) -> str:
        return format_html(
            '<a href="{}">Price history</a> · <a href="{}?q={}">Ledger</a>',
            reverse("admin:catalog_variant_history", args=[obj.pk]),
            reverse("admin:inventory_stockmovement_changelist"),
            obj.sku,
        )
