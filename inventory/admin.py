"""Inventory in the admin console: warehouses and locations, stock per location, receipts,
adjustments, transfers, reservations and the ledger.

Numbers are read-only here: stock moves only through ``inventory.services`` (the receive,
adjust and transfer forms, the release action, the stock count import), which lock the rows
and write the ledger. A refused operation is shown as a form error or a message, and writes nothing.

Warehouses and locations have a "History" page: their audit trail (who changed the name, priority,
activity..., when, old -> new). Stock changes are not in it: the ledger is their trail.
"""

from django import forms
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, F, IntegerField, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.forms import formset_factory
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from accounts.admin import AuditTrailAdmin
from catalog.validators import SKU_MAX_LENGTH, sku_normalize, sku_validator
from config.admin import ReadOnlyAdmin, ServiceErrorsMixin, ServiceImportExportMixin
from config.exceptions import DomainError
from config.importing import error_text
from inventory.exceptions import (
    InsufficientStock,
    LocationInactive,
    LocationWarehouseMismatch,
    SameLocation,
    StockLimitExceeded,
    StockWouldGoNegative,
    UnknownLocation,
    UnknownSku,
)
from inventory.models import (
    DEFAULT_LOCATION_CODE,
    MAX_UNITS,
    Allocation,
    Location,
    Reservation,
    Stock,
    StockMovement,
    Warehouse,
)
from inventory.resources import StockCountResource
from inventory.services.adjustments import stock_adjust
from inventory.services.receipts import ReceiptLine, stock_receipt_create
from inventory.services.reservations import reservation_release
from inventory.services.transfers import stock_transfer
from inventory.services.warehouses import (
    LOCATION_FIELDS,
    WAREHOUSE_FIELDS,
    code_normalize,
    location_create,
    location_update,
    warehouse_create,
    warehouse_update,
)

SELLABLE = Q(location__is_active=True, location__warehouse__is_active=True)
# Units that can be sold from a row: none in an inactive location or warehouse (as GET /stock/{sku}).
AVAILABLE = Case(When(SELLABLE, then=F("on_hand") - F("reserved")), default=Value(0), output_field=IntegerField())


class _ReadOnlyInlineMixin:
    """``ReadOnlyAdmin`` for an inline (which cannot derive from a ``ModelAdmin``)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# --- warehouses and locations


class WarehouseForm(forms.ModelForm):
    class Meta:
        model = Warehouse
        fields = ["code", "name", "address", "priority", "is_active"]

    def clean_code(self):
        return code_normalize(self.cleaned_data["code"])

    def clean_name(self):
        return self.cleaned_data["name"].strip()


class LocationForm(forms.ModelForm):
    class Meta:
        model = Location
        fields = ["code", "is_active"]

    def clean_code(self):
        code = code_normalize(self.cleaned_data["code"])
        if self.instance.pk and self.instance.code == DEFAULT_LOCATION_CODE and code != DEFAULT_LOCATION_CODE:
            raise ValidationError("The DEFAULT location receives goods and keeps its code.", code="default_fixed")
        return code


class LocationFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if self.instance.pk is None:  # a new warehouse gets its DEFAULT location from warehouse_create
            for form in self.forms:
                if form.has_changed() and form.cleaned_data.get("code") == DEFAULT_LOCATION_CODE:
                    form.add_error("code", "The DEFAULT location is created with the warehouse.")


class LocationInline(admin.TabularInline):
    model = Location
    form = LocationForm
    formset = LocationFormSet
    fields = ["code", "is_active", "stock", "history"]
    readonly_fields = ["stock", "history"]
    extra = 1
    can_delete = False

    @admin.display(description="Stock")
    def stock(self, obj) -> str:
        if not obj.pk:
            return "-"
        url = reverse("admin:inventory_stock_changelist")
        return format_html('<a href="{}?location={}">Stock here</a>', url, obj.pk)

    @admin.display(description="History")
    def history(self, obj) -> str:
        if not obj.pk:
            return "-"
        return format_html('<a href="{}">History</a>', reverse("admin:inventory_location_history", args=[obj.pk]))


@admin.register(Warehouse)
class WarehouseAdmin(ServiceErrorsMixin, AuditTrailAdmin):
    form = WarehouseForm
    inlines = [LocationInline]
    list_display = ["code", "name", "priority", "is_active", "stock"]
    history_list_display = ["priority", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "name"]
    ordering = ["code"]

    @admin.display(description="Stock")
    def stock(self, obj) -> str:
        url = reverse("admin:inventory_stock_changelist")
        return format_html('<a href="{}?warehouse={}">Stock</a>', url, obj.pk)

    def get_fields(self, request, obj=None):
        return (
            ["code", "name", "address", "priority"]
            if obj is None
            else ["code", "name", "address", "priority", "is_active"]
        )

    def get_readonly_fields(self, request, obj=None):
        return ["code"] if obj is not None else []

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # deactivate instead: stock history points at it

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            changes = {name: data[name] for name in form.changed_data if name in WAREHOUSE_FIELDS}
            warehouse = warehouse_update(warehouse_id=obj.pk, changes=changes, actor=request.user) if changes else obj
        else:
            warehouse = warehouse_create(
                code=data["code"],
                name=data["name"],
                address=data["address"],
                priority=data["priority"],
                actor=request.user,
            )
        obj.pk = warehouse.pk
        obj.refresh_from_db()

    def save_formset(self, request, form, formset, change):
        """Locations are created and changed through the services."""
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for location_form in formset.forms:
            if not location_form.has_changed():
                continue
            data = location_form.cleaned_data
            if location_form.instance.pk is None:
                location = location_create(warehouse_id=form.instance.pk, code=data["code"], actor=request.user)
                if not data["is_active"]:
                    location = location_update(
                        location_id=location.pk, changes={"is_active": False}, actor=request.user
                    )
                formset.new_objects.append(location)
            else:
                changed = [name for name in location_form.changed_data if name in LOCATION_FIELDS]
                location = location_update(
                    location_id=location_form.instance.pk,
                    changes={name: data[name] for name in changed},
                    actor=request.user,
                )
                formset.changed_objects.append((location, changed))


@admin.register(Location)
class LocationAdmin(ReadOnlyAdmin, AuditTrailAdmin):
    """Every location, read-only (they change on their warehouse's page), each with its history page."""

    list_display = ["code", "warehouse", "is_active"]
    list_filter = ["is_active", "warehouse"]
    search_fields = ["code", "warehouse__code"]
    list_select_related = ["warehouse"]
    ordering = ["warehouse__code", "code"]
    fields = ["warehouse", "code", "is_active", "created_at"]
    readonly_fields = fields
    history_list_display = ["code", "is_active"]

    def get_model_perms(self, request) -> dict:
        return {}  # not in the index: they are edited on their warehouse's page, which links here


# --- operation forms: receive, adjust, transfer


class LocationChoiceField(forms.ModelChoiceField):
    def __init__(self, **kwargs):
        queryset = Location.objects.select_related("warehouse").order_by("warehouse__code", "code")
        super().__init__(queryset=queryset, **kwargs)

    def label_from_instance(self, obj) -> str:
        inactive = "" if obj.is_active and obj.warehouse.is_active else " (inactive)"
        return f"{obj.warehouse.code}/{obj.code}{inactive}"


class SkuField(forms.CharField):
    def __init__(self, **kwargs):
        super().__init__(max_length=SKU_MAX_LENGTH, validators=[sku_validator], **kwargs)

    def clean(self, value):
        return sku_normalize(super().clean(value) or "")


class ReceiptForm(forms.Form):
    warehouse = forms.ModelChoiceField(queryset=Warehouse.objects.order_by("code"))
    reference = forms.CharField(max_length=255, help_text="Delivery note, purchase order...")
    reason = forms.CharField(max_length=255, required=False)


class ReceiptLineForm(forms.Form):
    sku = SkuField()
    quantity = forms.IntegerField(min_value=1, max_value=MAX_UNITS)
    location = forms.CharField(
        max_length=64, required=False, help_text="Location code in the warehouse; blank: DEFAULT."
    )

    def clean_location(self):
        return code_normalize(self.cleaned_data["location"])


class BaseReceiptLineFormSet(forms.BaseFormSet):
    def clean(self):
        super().clean()
        if not any(form.has_changed() for form in self.forms):
            raise ValidationError("A receipt needs at least one line.")

    def lines(self) -> list[forms.Form]:
        return [form for form in self.forms if form.has_changed()]


ReceiptLineFormSet = formset_factory(ReceiptLineForm, formset=BaseReceiptLineFormSet, extra=5)


class AdjustmentForm(forms.Form):
    sku = SkuField()
    location = LocationChoiceField()
    delta = forms.IntegerField(
        min_value=-MAX_UNITS, max_value=MAX_UNITS, help_text="Signed change of the units on hand, e.g. -3 or 12."
    )
    reason = forms.CharField(max_length=255, help_text="Count, damage, loss...")

    def clean_delta(self):
        if self.cleaned_data["delta"] == 0:
            raise ValidationError("A zero adjustment changes nothing.")
        return self.cleaned_data["delta"]


class TransferForm(forms.Form):
    sku = SkuField()
    from_location = LocationChoiceField()
    to_location = LocationChoiceField()
    quantity = forms.IntegerField(min_value=1, max_value=MAX_UNITS)
    reference = forms.CharField(max_length=255, required=False)
    reason = forms.CharField(max_length=255, required=False)

    def clean(self):
        cleaned = super().clean()
        source, destination = cleaned.get("from_location"), cleaned.get("to_location")
        if source is not None and source == destination:
            self.add_error("to_location", "A transfer needs two different locations.")
        return cleaned


# Which field of the adjust or transfer form a refused operation concerns: the first the form has.
ERROR_FIELDS = (
    (UnknownSku, ("sku",)),
    (StockWouldGoNegative, ("delta",)),
    (StockLimitExceeded, ("delta", "quantity")),
    (InsufficientStock, ("quantity",)),
    (SameLocation, ("to_location",)),
    (LocationInactive, ("to_location", "location")),
    (UnknownLocation, ("location",)),
)


def add_domain_error(form: forms.Form, exc: DomainError) -> None:
    """Show a refused operation on the field it concerns (or on the whole form)."""
    names = next((names for kind, names in ERROR_FIELDS if isinstance(exc, kind)), ())
    name = next((name for name in names if name in form.fields), None)
    if isinstance(exc, InsufficientStock):
        line = (exc.details.get("lines") or [{}])[0]
        message = f"{exc.message} Requested {line.get('requested')}, available {line.get('available')}."
    else:
        message = error_text(exc)
    form.add_error(name, message)


# --- stock per location


class IdListFilter(admin.SimpleListFilter):
    """A filter on an id: ``lookup`` names the field; a value that is not an id is refused (Django shows
    its "invalid lookup" page) instead of raising ValueError in the queryset."""

    lookup = ""

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        if not self.value().isdigit():
            raise IncorrectLookupParameters(f"{self.parameter_name} must be an id")
        return queryset.filter(**{self.lookup: self.value()})


class WarehouseFilter(IdListFilter):
    title = "warehouse"
    parameter_name = "warehouse"
    lookup = "location__warehouse_id"

    def lookups(self, request, model_admin):
        return [(str(pk), code) for pk, code in Warehouse.objects.order_by("code").values_list("pk", "code")]


class LocationFilter(IdListFilter):
    """Locations of the chosen warehouse (all of them when none is chosen)."""

    title = "location"
    parameter_name = "location"
    lookup = "location_id"

    def lookups(self, request, model_admin):
        locations = Location.objects.select_related("warehouse").order_by("warehouse__code", "code")
        warehouse = request.GET.get(WarehouseFilter.parameter_name)
        if warehouse and warehouse.isdigit():
            locations = locations.filter(warehouse_id=warehouse)
        return [(str(loc.pk), f"{loc.warehouse.code}/{loc.code}") for loc in locations]


def stock_totals(rows) -> dict:
    """Units on hand, reserved and available over ``rows``, in all and per warehouse (two queries)."""
    sums = {
        "total_on_hand": Coalesce(Sum("on_hand"), 0),
        "total_reserved": Coalesce(Sum("reserved"), 0),
        "total_available": Coalesce(Sum(AVAILABLE), 0),
    }
    rows = rows.order_by()
    per_warehouse = rows.values("location__warehouse__code").annotate(**sums).order_by("location__warehouse__code")

    def plain(totals: dict) -> dict:
        return {name.removeprefix("total_"): value for name, value in totals.items()}

    return {
        "stock_totals": plain(rows.aggregate(**sums)),
        "warehouse_totals": [
            {"warehouse": row.pop("location__warehouse__code"), **plain(row)} for row in per_warehouse
        ],
    }


@admin.register(Stock)
class StockAdmin(ServiceImportExportMixin, ReadOnlyAdmin):
    """Stock per SKU per location, read-only. Search a SKU to see it in every warehouse, with totals."""

    list_display = ["sku", "product", "warehouse", "location_code", "on_hand", "reserved", "available", "links"]
    list_display_links = None
    list_filter = [WarehouseFilter, LocationFilter]
    search_fields = ["variant__sku", "variant__product__name"]
    search_help_text = "SKU or product name."
    list_select_related = ["variant__product", "location__warehouse"]
    import_export_change_list_template = "admin/inventory/stock/change_list.html"
    operation_template = "admin/inventory/stock/operation.html"
    resource_classes = [StockCountResource]
    import_template_name = "admin/inventory/stock/import.html"
    import_failure_note = (
        "The rows listed were not applied; the {applied} other changed row(s) were (each count is its own "
        "adjustment). Check the stock and import the rows listed again."
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(available_units=AVAILABLE)

    def get_ordering(self, request):
        return ["variant__sku", "location__warehouse__code", "location__code"]

    def has_import_permission(self, request) -> bool:
        return self.may_move_stock(request)

    @staticmethod
    def may_move_stock(request) -> bool:
        return request.user.is_active and request.user.has_perm("inventory.change_stock")

    @admin.display(description="SKU", ordering="variant__sku")
    def sku(self, obj) -> str:
        url = reverse("admin:catalog_product_change", args=[obj.variant.product_id])
        return format_html('<a href="{}">{}</a>', url, obj.variant.sku)

    @admin.display(description="Product", ordering="variant__product__name")
    def product(self, obj) -> str:
        name = obj.variant.name
        return f"{obj.variant.product.name} ({name})" if name else obj.variant.product.name

    @admin.display(description="Warehouse", ordering="location__warehouse__code")
    def warehouse(self, obj) -> str:
        return (
            obj.location.warehouse.code
            if obj.location.warehouse.is_active
            else f"{obj.location.warehouse.code} (inactive)"
        )

    @admin.display(description="Location", ordering="location__code")
    def location_code(self, obj) -> str:
        return obj.location.code if obj.location.is_active else f"{obj.location.code} (inactive)"

    @admin.display(description="Available", ordering="available_units")
    def available(self, obj) -> int:
        return obj.available_units

    @admin.display(description="")
    def links(self, obj) -> str:
        sku = obj.variant.sku
        adjust = urlencode({"sku": sku, "location": obj.location_id})
        transfer = urlencode({"sku": sku, "from_location": obj.location_id})
        ledger = urlencode({"q": sku, "warehouse": obj.location.warehouse_id})
        return format_html(
            '<a href="{}?{}">Adjust</a> · <a href="{}?{}">Transfer</a> · <a href="{}?{}">Ledger</a>',
            reverse("admin:inventory_stock_adjust"),
            adjust,
            reverse("admin:inventory_stock_transfer"),
            transfer,
            reverse("admin:inventory_stockmovement_changelist"),
            ledger,
        )

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "may_move_stock": self.may_move_stock(request)}
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            response.context_data.update(stock_totals(changelist.queryset))
        return response

    # the operations

    def get_urls(self):
        views = [
            ("receive/", self.receive_view, "inventory_stock_receive"),
            ("adjust/", self.adjust_view, "inventory_stock_adjust"),
            ("transfer/", self.transfer_view, "inventory_stock_transfer"),
        ]
        return [
            path(route, self.admin_site.admin_view(view), name=name) for route, view, name in views
        ] + super().get_urls()

    def _operation_page(self, request, title: str, form, formset=None, intro: str = ""):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "form": form,
            "formset": formset,
            "intro": intro,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, self.operation_template, context)

    def _check_may_move_stock(self, request) -> None:
        if not self.may_move_stock(request):
            raise PermissionDenied

    def receive_view(self, request):
        """Goods in: one receipt (several lines) into a warehouse, through ``stock_receipt_create``."""
        self._check_may_move_stock(request)
        form = ReceiptForm(request.POST or None, initial=request.GET.dict())
        formset = ReceiptLineFormSet(request.POST or None, prefix="lines")
        if request.method == "POST" and form.is_valid() and formset.is_valid():
            movements = self._receive(request, form, formset)
            if movements is not None:
                units = sum(movement.on_hand_delta for movement in movements)
                self.message_user(
                    request,
                    f"Received {units} units in {len(movements)} line(s) into {form.cleaned_data['warehouse'].code} "
                    f"(reference {form.cleaned_data['reference']}).",
                    messages.SUCCESS,
                )
                ledger = reverse("admin:inventory_stockmovement_changelist")
                return HttpResponseRedirect(f"{ledger}?{urlencode({'q': form.cleaned_data['reference']})}")
        return self._operation_page(request, "Receive stock", form, formset, intro="Each line adds units on hand.")

    def _receive(self, request, form, formset):
        warehouse = form.cleaned_data["warehouse"]
        lines = formset.lines()
        codes = {line.cleaned_data["location"] for line in lines if line.cleaned_data["location"]}
        locations = dict(Location.objects.filter(warehouse=warehouse, code__in=codes).values_list("code", "pk"))
        for line in lines:
            code = line.cleaned_data["location"]
            if code and code not in locations:
                line.add_error("location", f"Warehouse {warehouse.code} has no location {code}.")
        if any(line.errors for line in lines):
            return None
        try:
            return stock_receipt_create(
                warehouse_id=warehouse.pk,
                lines=[
                    ReceiptLine(
                        sku=line.cleaned_data["sku"],
                        quantity=line.cleaned_data["quantity"],
                        location_id=locations.get(line.cleaned_data["location"]),
                    )
                    for line in lines
                ],
                actor=request.user,
                reference=form.cleaned_data["reference"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            self._receipt_error(form, lines, locations, exc)
            return None

    @staticmethod
    def _receipt_error(form, lines, locations, exc: DomainError) -> None:
        if isinstance(exc, UnknownSku):
            unknown = set(exc.details.get("skus", []))
            for line in lines:
                if line.cleaned_data["sku"] in unknown:
                    line.add_error("sku", f"Unknown SKU {line.cleaned_data['sku']}.")
            return
        if isinstance(exc, LocationInactive | LocationWarehouseMismatch):
            refused = set(exc.details.get("location_ids", []))
            named = [line for line in lines if locations.get(line.cleaned_data["location"]) in refused]
            for line in named:
                line.add_error("location", exc.message)
            if named:
                return
        form.add_error(None, error_text(exc))

    def adjust_view(self, request):
        """A signed correction at one location, through ``stock_adjust``."""
        self._check_may_move_stock(request)
        form = AdjustmentForm(request.POST or None, initial=request.GET.dict())
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                movement = stock_adjust(
                    sku=data["sku"],
                    location_id=data["location"].pk,
                    delta=data["delta"],
                    reason=data["reason"],
                    actor=request.user,
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                self.message_user(
                    request,
                    f"{data['sku']} at {data['location']}: {movement.on_hand_after} on hand "
                    f"({movement.on_hand_delta:+d}).",
                    messages.SUCCESS,
                )
                return redirect(f"{reverse('admin:inventory_stock_changelist')}?{urlencode({'q': data['sku']})}")
        return self._operation_page(
            request, "Adjust stock", form, intro="Counts and damage. Reserved units cannot be adjusted away."
        )

    def transfer_view(self, request):
        """Move available units between two locations, through ``stock_transfer``."""
        self._check_may_move_stock(request)
        form = TransferForm(request.POST or None, initial=request.GET.dict())
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                stock_transfer(
                    sku=data["sku"],
                    from_location_id=data["from_location"].pk,
                    to_location_id=data["to_location"].pk,
                    quantity=data["quantity"],
                    actor=request.user,
                    reference=data["reference"],
                    reason=data["reason"],
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                self.message_user(
                    request,
                    f"Moved {data['quantity']} units of {data['sku']} from {data['from_location']} "
                    f"to {data['to_location']}.",
                    messages.SUCCESS,
                )
                return redirect(f"{reverse('admin:inventory_stock_changelist')}?{urlencode({'q': data['sku']})}")
        return self._operation_page(request, "Transfer stock", form, intro="Only available units move.")


# --- reservations


class AllocationInline(_ReadOnlyInlineMixin, admin.TabularInline):
    model = Allocation
    fields = ["sku", "place", "quantity"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("stock__variant", "stock__location__warehouse")

    @admin.display(description="SKU")
    def sku(self, obj) -> str:
        return obj.stock.variant.sku

    @admin.display(description="Location")
    def place(self, obj) -> str:
        return f"{obj.stock.location.warehouse.code}/{obj.stock.location.code}"


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin):
    list_display = ["id", "status", "reference", "lines", "order_id", "expires_at", "created_at", "actor"]
    list_filter = ["status"]
    search_fields = ["reference", "allocations__stock__variant__sku", "=order_id"]
    search_help_text = "Reference, SKU or order id."
    list_select_related = ["actor"]
    ordering = ["-id"]
    inlines = [AllocationInline]
    actions = ["release_reservations"]
    fields = [
        "status",
        "reference",
        "order_id",
        "expires_at",
        "actor",
        "created_at",
        "released_at",
        "committed_at",
        "expired_at",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .prefetch_related("allocations__stock__variant", "allocations__stock__location__warehouse")
        )

    @admin.display(description="Lines")
    def lines(self, obj) -> str:
        return format_html_join(
            ", ",
            "{} x {} at {}/{}",
            (
                (a.quantity, a.stock.variant.sku, a.stock.location.warehouse.code, a.stock.location.code)
                for a in obj.allocations.all()
            ),
        )

    def has_release_permission(self, request) -> bool:
        return request.user.is_active and request.user.has_perm("inventory.change_reservation")

    @admin.action(description="Release selected reservations", permissions=["release"])
    def release_reservations(self, request, queryset):
        done = 0
        for reservation_id in queryset.order_by("pk").values_list("pk", flat=True):
            try:
                reservation_release(reservation_id=reservation_id, actor=request.user)
            except DomainError as exc:
                self.message_user(request, f"Reservation {reservation_id}: {error_text(exc)}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, f"{done} reservation(s) released.", messages.SUCCESS)


# --- the ledger


class MovementWarehouseFilter(WarehouseFilter):
    lookup = "stock__location__warehouse_id"


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    """The ledger: append-only, never changed here."""

    list_display = [
        "created_at",
        "kind",
        "sku",
        "place",
        "on_hand_delta",
        "reserved_delta",
        "on_hand_after",
        "reserved_after",
        "reference",
        "reservation_id",
        "order_id",
        "actor",
        "reason",
    ]
    list_filter = ["kind", MovementWarehouseFilter]
    search_fields = ["stock__variant__sku", "reference"]
    search_help_text = "SKU or reference."
    list_select_related = ["stock__variant", "stock__location__warehouse", "actor"]
    ordering = ["-id"]
    readonly_fields = [
        "created_at",
        "kind",
        "stock",
        "on_hand_delta",
        "reserved_delta",
        "on_hand_after",
        "reserved_after",
        "reference",
        "reservation",
        "order_id",
        "actor",
        "reason",
    ]
    fields = readonly_fields

    @admin.display(description="SKU", ordering="stock__variant__sku")
    def sku(self, obj) -> str:
        return obj.stock.variant.sku

    @admin.display(description="Location")
    def place(self, obj) -> str:
        return f"{obj.stock.location.warehouse.code}/{obj.stock.location.code}"
