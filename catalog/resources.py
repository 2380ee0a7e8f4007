"""Import and export of products with their variants (django-import-export), one row per variant.

Columns: ``product`` (name), ``product_slug``, ``status``, ``sku``, ``variant`` (name), ``price``,
``is_active``, ``options`` (a JSON object). Every row is checked before anything is written, so
the dry-run preview lists each bad row and why; a good row is written through
``catalog.services`` only (``product_create``, ``product_update``, ``variant_create``,
``variant_update``, ``product_publish``, ``product_archive``), never by saving a model.

Which product a row belongs to: the product of its SKU when the SKU exists; otherwise the
product with ``product_slug``; otherwise a new product named ``product``, shared by the rows of
the file that name it the same way (with no slug). ``status`` moves the product through its
lifecycle (applied at its last row, once its variants are in); a blank ``price``,
``is_active`` or ``status`` leaves an existing value as it is. The audit trail names the user
who imports the file (``import_data(..., user=...)``, as the admin calls it).
"""

import json
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from django.db.models import QuerySet
from import_export import fields, resources, widgets

from accounts.models import User
from catalog.exceptions import InvalidTransition, SkuTaken, SlugTaken
from catalog.models import Product, ProductStatus, Variant
from catalog.serializers import NAME_MAX
from catalog.services.products import product_archive, product_create, product_publish, product_update
from catalog.services.slugs import slug_normalize
from catalog.services.variants import VariantIn, variant_create, variant_update
from catalog.validators import SKU_MAX_LENGTH, options_validate, sku_normalize, sku_validator
from config.exceptions import DomainError
from config.importing import cell_text, error_text

PRICE_MAX_DIGITS = 12
PRICE_DECIMALS = 2
CENT = Decimal("0.01")
SLUG_MAX = Product._meta.get_field("slug").max_length
TRUE_WORDS = {"1", "true", "yes", "y", "on"}
FALSE_WORDS = {"0", "false", "no", "n", "off"}
# Status changes a file may ask for (anything else is refused before writing).
ALLOWED_STATUS_CHANGES = {
    (ProductStatus.DRAFT, ProductStatus.PUBLISHED),
    (ProductStatus.DRAFT, ProductStatus.ARCHIVED),
    (ProductStatus.PUBLISHED, ProductStatus.ARCHIVED),
}


def parse_bool(value: object) -> bool | None:
    """True, False, or None for a blank cell; ValueError for anything else."""
    if isinstance(value, bool):
        return value
    text = cell_text(value).lower()
    if text == "":
        return None
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ValueError(f"Not a yes/no value: {cell_text(value)!r} (use 1/0, true/false or yes/no).")


def parse_price(value: object) -> Decimal | None:
    """A price (Decimal >= 0, at most two decimals, fits the column), or None for a blank cell."""
    text = cell_text(value)
    if text == "":
        return None
    try:
        price = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"Not a price: {text!r}.") from None
    if not price.is_finite():
        raise ValueError(f"Not a price: {text!r}.")
    if price < 0:
        raise ValueError(f"A price cannot be negative ({text}).")
    if price >= Decimal(10) ** (PRICE_MAX_DIGITS - PRICE_DECIMALS):
        raise ValueError(f"A price has at most {PRICE_MAX_DIGITS - PRICE_DECIMALS} digits before the point ({text}).")
    cents = price.quantize(CENT)
    if cents != price:
        raise ValueError(f"A price has at most {PRICE_DECIMALS} decimal places ({text}).")
    return cents


def parse_options(value: object) -> dict:
    text = cell_text(value)
    if text == "":
        return {}
    try:
        options = json.loads(text)
    except json.JSONDecodeError:
        raise ValueError('Options are a JSON object, e.g. {"size": "M"}.') from None
    try:
        return options_validate(options)
    except ValidationError as exc:
        raise ValueError(" ".join(exc.messages)) from None


class TextJSONWidget(widgets.Widget):
    """Options rendered as readable JSON (keys sorted, non-ASCII kept)."""

    def render(self, value, obj=None, **kwargs):
        return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""


@dataclass
class RowPlan:
    """What one row asks for, checked against the database and the rest of the file."""

    number: int
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    blank: bool = False
    sku: str = ""
    product_name: str = ""
    slug: str = ""
    status: str | None = None
    variant_name: str | None = None  # None: no such column (keep the name)
    price: Decimal | None = None
    is_active: bool | None = None
    options: dict | None = None  # None: no such column (keep the options)
    variant: Variant | None = None  # the existing variant of this SKU
    product: Product | None = None  # the existing product the row belongs to
    product_key: tuple | None = None  # the product, existing or to be created, the row belongs to
    applies_status: bool = False  # the last row of its product: the status change happens here

    def error(self, column: str, message: str) -> None:
        self.errors[column].append(message)


class ProductVariantResource(resources.ModelResource):
    """Products with their variants and prices, one row per variant."""

    product = fields.Field(attribute="product__name", column_name="product", widget=widgets.CharWidget())
    product_slug = fields.Field(attribute="product__slug", column_name="product_slug", widget=widgets.CharWidget())
    status = fields.Field(attribute="product__status", column_name="status", widget=widgets.CharWidget())
    sku = fields.Field(attribute="sku", column_name="sku", widget=widgets.CharWidget())
    variant = fields.Field(attribute="name", column_name="variant", widget=widgets.CharWidget())
    price = fields.Field(attribute="price", column_name="price", widget=widgets.DecimalWidget())
    is_active = fields.Field(attribute="is_active", column_name="is_active", widget=widgets.BooleanWidget())
    options = fields.Field(attribute="options", column_name="options", widget=TextJSONWidget())

    class Meta:
        model = Variant
        name = "Products with variants and prices (one row per variant)"
        fields = ("product", "product_slug", "status", "sku", "variant", "price", "is_active", "options")
        export_order = fields
        import_id_fields = ()  # rows find their variant by SKU in get_or_init_instance
        use_transactions = True  # the catalog services join the import's transaction: all rows or none
        clean_model_instances = False
        report_skipped = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.plans: dict[int, RowPlan] = {}
        self.created_products: dict[tuple, int] = {}
        self.row_number = 0
        self.actor: User | None = None  # the importing user

    # --- export

    def filter_export(self, queryset: QuerySet, **kwargs) -> QuerySet:
        """The variants of the products listed (the product changelist exports its filtered products)."""
        if queryset.model is Product:
            queryset = Variant.objects.filter(product_id__in=queryset.order_by().values("pk"))
        return queryset.select_related("product").order_by("product__name", "product_id", "id")

    # --- import: every row is planned and checked first

    def before_import(self, dataset, **kwargs):
        self.actor = kwargs.get("user")
        dataset.headers = [cell_text(header).lower() for header in dataset.headers or []]
        headers = set(dataset.headers)
        rows = [dict(zip(dataset.headers, values, strict=False)) for values in dataset]
        self.plans = {number: self._parse(number, row, headers) for number, row in enumerate(rows, 1)}
        plans = [plan for plan in self.plans.values() if not plan.blank]
        self._resolve(plans)
        self._check_together(plans)

    def _parse(self, number: int, row: dict, headers: set[str]) -> RowPlan:
        plan = RowPlan(number=number)
        if all(cell_text(value) == "" for value in row.values()):
            plan.blank = True
            return plan
        if "sku" not in headers:
            plan.error("sku", "The file has no 'sku' column.")
            return plan
        plan.sku = sku_normalize(cell_text(row.get("sku")))
        if not plan.sku:
            plan.error("sku", "A SKU is required.")
        elif len(plan.sku) > SKU_MAX_LENGTH:
            plan.error("sku", f"A SKU has at most {SKU_MAX_LENGTH} characters.")
        else:
            try:
                sku_validator(plan.sku)
            except ValidationError as exc:
                plan.error("sku", " ".join(exc.messages))
        plan.product_name = cell_text(row.get("product"))
        if len(plan.product_name) > NAME_MAX:
            plan.error("product", f"A product name has at most {NAME_MAX} characters.")
        plan.slug = slug_normalize(cell_text(row.get("product_slug")))
        if plan.slug:
            try:
                validate_slug(plan.slug)
                if len(plan.slug) > SLUG_MAX:
                    raise ValidationError(f"A slug has at most {SLUG_MAX} characters.")
            except ValidationError as exc:
                plan.error("product_slug", " ".join(exc.messages))
        status = cell_text(row.get("status")).upper()
        if status and status not in ProductStatus.values:
            plan.error("status", f"Unknown status {status!r}: use {', '.join(ProductStatus.values)}.")
        plan.status = status or None
        if "variant" in headers:
            plan.variant_name = cell_text(row.get("variant"))
            if len(plan.variant_name) > NAME_MAX:
                plan.error("variant", f"A variant name has at most {NAME_MAX} characters.")
        for column, parse in (("price", parse_price), ("is_active", parse_bool), ("options", parse_options)):
            if column not in headers:
                continue
            try:
                setattr(plan, column, parse(row.get(column)))
            except ValueError as exc:
                plan.error(column, str(exc))
        return plan

    def _resolve(self, plans: list[RowPlan]) -> None:
        """Find each row's variant and product (two queries for the whole file)."""
        variants = {
            variant.sku: variant
            for variant in Variant.objects.select_related("product").filter(sku__in={plan.sku for plan in plans})
        }
        products = {product.slug: product for product in Product.objects.filter(slug__in={p.slug for p in plans})}
        for plan in plans:
            if not plan.sku or "sku" in plan.errors:
                continue
            plan.variant = variants.get(plan.sku)
            if plan.variant is not None:
                plan.product = plan.variant.product
                plan.product_key = ("id", plan.product.pk)
                if plan.slug and plan.slug != plan.product.slug:
                    plan.error(
                        "product_slug",
                        f"SKU {plan.sku} belongs to product {plan.product.slug!r}; "
                        "a variant cannot move to another product.",
                    )
                continue
            if plan.price is None and "price" not in plan.errors:
                plan.error("price", f"A price is required for the new SKU {plan.sku}.")
            if plan.slug and plan.slug in products:
                plan.product = products[plan.slug]
                plan.product_key = ("id", plan.product.pk)
                if plan.product.status == ProductStatus.ARCHIVED:
                    plan.error("sku", f"Product {plan.slug!r} is ARCHIVED: no variant can be added to it.")
            elif not plan.product_name:
                plan.error("product", "A new product needs a name.")
            else:
                plan.product_key = ("slug", plan.slug) if plan.slug else ("name", plan.product_name)

    def _check_together(self, plans: list[RowPlan]) -> None:
        """What only the whole file shows: duplicate SKUs, one product named or moved two ways."""
        first_row_of_sku: dict[str, int] = {}
        for plan in plans:
            if plan.sku and plan.sku in first_row_of_sku:
                plan.error("sku", f"SKU {plan.sku} is also on row {first_row_of_sku[plan.sku]}.")
            first_row_of_sku.setdefault(plan.sku, plan.number)
        groups: dict[tuple, list[RowPlan]] = defaultdict(list)
        for plan in plans:
            if plan.product_key is not None:
                groups[plan.product_key].append(plan)
        for group in groups.values():
            self._check_group(group)

    def _check_group(self, group: list[RowPlan]) -> None:
        named = [plan for plan in group if plan.product_name]
        for plan in named[1:]:
            if plan.product_name != named[0].product_name:
                plan.error("product", f"Row {named[0].number} names this product {named[0].product_name!r}.")
        with_status = [plan for plan in group if plan.status]
        for plan in with_status[1:]:
            if plan.status != with_status[0].status:
                plan.error(
                    "status", f"Row {with_status[0].number} gives this product the status {with_status[0].status}."
                )
        if not with_status:
            return
        wanted = with_status[0].status
        existing = group[0].product
        current = existing.status if existing is not None else ProductStatus.DRAFT
        if wanted != current and (current, wanted) not in ALLOWED_STATUS_CHANGES:
            for plan in with_status:
                plan.error("status", f"A {current} product cannot become {wanted}.")
        if existing is None and wanted == ProductStatus.PUBLISHED and all(p.is_active is False for p in group):
            for plan in with_status:
                plan.error("status", "A product needs at least one active variant to be published.")
        group[-1].applies_status = True
        group[-1].status = wanted

    # --- import: one row

    def import_row(self, row, instance_loader, **kwargs):
        self.row_number = kwargs["row_number"]
        return super().import_row(row, instance_loader, **kwargs)

    @property
    def plan(self) -> RowPlan:
        return self.plans[self.row_number]

    def get_or_init_instance(self, instance_loader, row):
        plan = self.plan
        if plan.variant is not None:  # read again: an earlier row of this file may have changed it
            return Variant.objects.select_related("product").get(pk=plan.variant.pk), False
        instance = Variant(sku=plan.sku)
        product_id = self._product_id(plan)
        if product_id is not None:
            instance.product = Product.objects.get(pk=product_id)
        else:
            instance.product = Product(name=plan.product_name, slug=plan.slug, status=ProductStatus.DRAFT)
        return instance, True

    def _product_id(self, plan: RowPlan) -> int | None:
        if plan.product is not None:
            return plan.product.pk
        return self.created_products.get(plan.product_key)

    def import_instance(self, instance, row, **kwargs):
        """Show what the row will change (for the preview's diff), or refuse it with every reason."""
        plan = self.plan
        if plan.errors:
            raise ValidationError(dict(plan.errors))
        if plan.blank:
            return
        if plan.product_name:
            instance.product.name = plan.product_name
        if plan.applies_status:
            instance.product.status = plan.status
        if plan.variant_name is not None:
            instance.name = plan.variant_name
        if plan.options is not None:
            instance.options = plan.options
        if plan.price is not None:
            instance.price = plan.price
        if plan.is_active is not None:
            instance.is_active = plan.is_active
        elif instance.pk is None:
            instance.is_active = True

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if import_validation_errors:
            return False
        if self.plan.blank:
            return True
        if instance.pk is None:
            return False
        return [f.export(instance) for f in self.get_import_fields()] == [
            f.export(original) for f in self.get_import_fields()
        ]

    def save_instance(self, instance, is_create, row, **kwargs):
        """Write the row through the catalog services (in the dry run too: the import's transaction is rolled back)."""
        plan = self.plan
        try:
            with transaction.atomic():  # a refused row leaves nothing half-written
                variant = self._apply(plan)
        except DomainError as exc:
            raise ValidationError({_column_of(exc): [error_text(exc)]}) from exc
        for model_field in Variant._meta.concrete_fields:
            setattr(instance, model_field.attname, getattr(variant, model_field.attname))
        instance.product = variant.product
        instance._state.adding = False

    def _apply(self, plan: RowPlan) -> Variant:
        product_id = self._product_id(plan)
        if product_id is not None and plan.product_name:
            current_name = Product.objects.filter(pk=product_id).values_list("name", flat=True).get()
            if plan.product_name != current_name:
                product_update(product_id=product_id, changes={"name": plan.product_name}, actor=self.actor)
        if plan.variant is None:
            new = VariantIn(
                sku=plan.sku,
                price=plan.price,
                name=plan.variant_name or "",
                options=plan.options or {},
                is_active=True if plan.is_active is None else plan.is_active,
            )
            if product_id is None:
                product = product_create(
                    name=plan.product_name, slug=plan.slug or None, variants=[new], actor=self.actor
                )
                self.created_products[plan.product_key] = product_id = product.pk
            else:
                variant_create(product_id=product_id, variant=new, actor=self.actor)
        else:
            variant_update(variant_id=plan.variant.pk, changes=self._variant_changes(plan), actor=self.actor)
        if plan.applies_status:
            self._status_apply(product_id=product_id, wanted=plan.status, actor=self.actor)
        return Variant.objects.select_related("product").get(sku=plan.sku)

    @staticmethod
    def _variant_changes(plan: RowPlan) -> dict:
        current = Variant.objects.get(pk=plan.variant.pk)
        wanted = {"name": plan.variant_name, "options": plan.options, "price": plan.price, "is_active": plan.is_active}
        return {key: value for key, value in wanted.items() if value is not None and value != getattr(current, key)}

    @staticmethod
    def _status_apply(*, product_id: int, wanted: str, actor: User | None) -> None:
        current = Product.objects.filter(pk=product_id).values_list("status", flat=True).get()
        if wanted == current:
            return
        if wanted == ProductStatus.PUBLISHED:
            product_publish(product_id=product_id, actor=actor)
        elif wanted == ProductStatus.ARCHIVED:
            product_archive(product_id=product_id, actor=actor)
        else:
            raise InvalidTransition(
                f"A {current} product cannot become {wanted}.", product_id=product_id, status=current, action="draft"
            )


def _column_of(exc: DomainError) -> str:
    if isinstance(exc, SkuTaken):
        return "sku"
    if isinstance(exc, SlugTaken):
        return "product_slug"
    if isinstance(exc, InvalidTransition):
        return "sku" if exc.details.get("action") == "add_variant" else "status"
    return NON_FIELD_ERRORS
