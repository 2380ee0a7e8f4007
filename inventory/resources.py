"""Import and export of stock counts per location (django-import-export).

Columns: ``sku``, ``warehouse`` (code), ``location`` (code), ``on_hand`` (the units counted).
A count never writes a stock row: it becomes one ledger ADJUSTMENT of (count - on_hand), taken
on the locked row by ``inventory.services.adjustments.stock_count`` (reason "stock count"), so the ledger
still sums to every row. Every row is checked before anything is written, and the dry-run
preview lists each bad row and why (unknown SKU or location, negative count, a count below
the units reserved there, the same place counted twice...).

``stock_count`` owns its transaction (durable), so the confirmed import runs each row in its
own: a row refused while writing (units reserved since the check) is reported, the others stay.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import QuerySet
from import_export import fields, resources, widgets

from catalog.models import Variant
from catalog.validators import sku_normalize
from config.exceptions import DomainError
from config.importing import cell_text, error_text
from inventory.exceptions import StockWouldGoNegative, UnknownLocation, UnknownSku
from inventory.models import MAX_UNITS, Location, Stock, Warehouse
from inventory.services.adjustments import stock_count
from inventory.services.warehouses import code_normalize

COUNT_REASON = "stock count"
REASON_MAX = 255


def parse_count(value: object) -> int:
    """A counted number of units: a whole number from 0 to the column's limit."""
    text = cell_text(value)
    if text == "":
        raise ValueError("A count is required.")
    try:
        count = int(text)
    except ValueError:
        raise ValueError(f"Not a whole number of units: {text!r}.") from None
    if count < 0:
        raise ValueError(f"A count cannot be negative ({count}).")
    if count > MAX_UNITS:
        raise ValueError(f"A count is at most {MAX_UNITS}.")
    return count


@dataclass
class CountPlan:
    number: int
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    blank: bool = False
    sku: str = ""
    warehouse: str = ""
    location_code: str = ""
    count: int | None = None
    variant: Variant | None = None
    location: Location | None = None
    stock: Stock | None = None  # the row as it was when the file was checked

    def error(self, column: str, message: str) -> None:
        self.errors[column].append(message)


class StockCountResource(resources.ModelResource):
    """Units counted per SKU per location."""

    sku = fields.Field(attribute="variant__sku", column_name="sku", widget=widgets.CharWidget())
    warehouse = fields.Field(
        attribute="location__warehouse__code", column_name="warehouse", widget=widgets.CharWidget()
    )
    location = fields.Field(attribute="location__code", column_name="location", widget=widgets.CharWidget())
    on_hand = fields.Field(attribute="on_hand", column_name="on_hand", widget=widgets.IntegerWidget())

    class Meta:
        model = Stock
        name = "Stock counts per location"
        fields = ("sku", "warehouse", "location", "on_hand")
        export_order = fields
        import_id_fields = ()  # rows find their stock row by (sku, warehouse, location) in get_or_init_instance
        use_transactions = False  # stock_count owns a durable transaction per row (the dry run is still rolled back)
        clean_model_instances = False
        report_skipped = True

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.plans: dict[int, CountPlan] = {}
        self.row_number = 0

    # --- export

    def filter_export(self, queryset: QuerySet, **kwargs) -> QuerySet:
        return queryset.select_related("variant", "location__warehouse").order_by(
            "location__warehouse__code", "location__code", "variant__sku"
        )

    # --- import: every row is checked first (a few queries for the whole file)

    def before_import(self, dataset, **kwargs):
        dataset.headers = [cell_text(header).lower() for header in dataset.headers or []]
        missing = [column for column in ("sku", "warehouse", "location", "on_hand") if column not in dataset.headers]
        rows = [dict(zip(dataset.headers, values, strict=False)) for values in dataset]
        self.plans = {number: self._parse(number, row, missing) for number, row in enumerate(rows, 1)}
        plans = [plan for plan in self.plans.values() if not plan.blank and not plan.errors.get(NON_FIELD_ERRORS)]
        self._resolve(plans)

    @staticmethod
    def _parse(number: int, row: dict, missing: list[str]) -> CountPlan:
        plan = CountPlan(number=number)
        if all(cell_text(value) == "" for value in row.values()):
            plan.blank = True
            return plan
        if missing:
            plan.error(NON_FIELD_ERRORS, f"The file has no {', '.join(repr(c) for c in missing)} column.")
            return plan
        plan.sku = sku_normalize(cell_text(row["sku"]))
        plan.warehouse = code_normalize(cell_text(row["warehouse"]))
        plan.location_code = code_normalize(cell_text(row["location"]))
        for column, value in (("sku", plan.sku), ("warehouse", plan.warehouse), ("location", plan.location_code)):
            if not value:
                plan.error(column, f"A {column} is required.")
        try:
            plan.count = parse_count(row["on_hand"])
        except ValueError as exc:
            plan.error("on_hand", str(exc))
        return plan

    def _resolve(self, plans: list[CountPlan]) -> None:
        variants = {v.sku: v for v in Variant.objects.filter(sku__in={plan.sku for plan in plans})}
        locations = {
            (loc.warehouse.code, loc.code): loc
            for loc in Location.objects.select_related("warehouse").filter(
                warehouse__code__in={plan.warehouse for plan in plans},
                code__in={plan.location_code for plan in plans},
            )
        }
        known_warehouses = set(
            Warehouse.objects.filter(code__in={plan.warehouse for plan in plans}).values_list("code", flat=True)
        )
        first_row_of: dict[tuple[str, str, str], int] = {}
        for plan in plans:
            plan.variant = variants.get(plan.sku)
            plan.location = locations.get((plan.warehouse, plan.location_code))
            if plan.sku and plan.variant is None:
                plan.error("sku", f"Unknown SKU {plan.sku}.")
            if plan.warehouse and plan.warehouse not in known_warehouses:
                plan.error("warehouse", f"Unknown warehouse {plan.warehouse}.")
            elif plan.location_code and plan.location is None:
                plan.error("location", f"Warehouse {plan.warehouse} has no location {plan.location_code}.")
            place = (plan.sku, plan.warehouse, plan.location_code)
            if place in first_row_of:
                plan.error(
                    NON_FIELD_ERRORS,
                    f"{'/'.join(place[1:])} is counted for {plan.sku} on row {first_row_of[place]} too.",
                )
            first_row_of.setdefault(place, plan.number)
        counted = [plan for plan in plans if plan.variant is not None and plan.location is not None]
        stocks = {
            (row.variant_id, row.location_id): row
            for row in Stock.objects.filter(
                variant_id__in={plan.variant.pk for plan in counted},
                location_id__in={plan.location.pk for plan in counted},
            )
        }
        for plan in counted:
            plan.stock = stocks.get((plan.variant.pk, plan.location.pk))
            reserved = plan.stock.reserved if plan.stock is not None else 0
            if plan.count is not None and plan.count < reserved:
                plan.error(
                    "on_hand",
                    f"{reserved} units of {plan.sku} are reserved at {plan.warehouse}/{plan.location_code}: "
                    "release them first, a count cannot go below them.",
                )

    # --- import: one row

    def import_row(self, row, instance_loader, **kwargs):
        self.row_number = kwargs["row_number"]
        return super().import_row(row, instance_loader, **kwargs)

    @property
    def plan(self) -> CountPlan:
        return self.plans[self.row_number]

    def get_or_init_instance(self, instance_loader, row):
        plan = self.plan
        if plan.stock is not None:
            stock = Stock.objects.select_related("variant", "location__warehouse").get(pk=plan.stock.pk)
            return stock, False
        stock = Stock(on_hand=0, reserved=0)
        if plan.variant is not None and plan.location is not None:
            stock.variant, stock.location = plan.variant, plan.location
        return stock, True

    def import_instance(self, instance, row, **kwargs):
        plan = self.plan
        if plan.errors:
            raise ValidationError(dict(plan.errors))
        if not plan.blank:
            instance.on_hand = plan.count

    def skip_row(self, instance, original, row, import_validation_errors=None):
        if import_validation_errors:
            return False
        return self.plan.blank or instance.on_hand == original.on_hand

    def save_instance(self, instance, is_create, row, **kwargs):
        """One ADJUSTMENT through ``stock_count`` (the difference is taken under the row lock); nothing in a dry run."""
        if self._is_dry_run(kwargs):
            return
        plan = self.plan
        reason = f"{COUNT_REASON}: {kwargs['file_name']}" if kwargs.get("file_name") else COUNT_REASON
        try:
            stock_count(
                sku=plan.sku,
                location_id=plan.location.pk,
                counted=plan.count,
                reason=reason[:REASON_MAX],
                actor=kwargs.get("user"),
            )
        except DomainError as exc:
            raise ValidationError({_column_of(exc): [error_text(exc)]}) from exc
        stock = Stock.objects.get(variant=plan.variant, location=plan.location)
        instance.pk, instance.on_hand, instance.reserved = stock.pk, stock.on_hand, stock.reserved
        instance._state.adding = False


def _column_of(exc: DomainError) -> str:
    if isinstance(exc, StockWouldGoNegative):
        return "on_hand"
    if isinstance(exc, UnknownSku):
        return "sku"
    if isinstance(exc, UnknownLocation):
        return "location"
    return NON_FIELD_ERRORS
