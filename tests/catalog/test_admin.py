"""The catalog in the admin console: pages load for staff, and every write goes through the catalog services."""

import csv
import io
import json
from decimal import Decimal

import openpyxl
import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.admin import ProductForm
from catalog.models import Brand, Category, Product, ProductStatus, Variant
from catalog.services.products import product_archive, product_publish, product_update
from catalog.services.variants import VariantIn, variant_create
from tests.admin_helpers import (
    CSV_FORMAT,
    XLSX_FORMAT,
    ImportExport,
    csv_file,
    listed,
    messages_of,
    row_errors,
    xlsx_file,
)
from tests.locking import BUSY, held_in_another_transaction

pytestmark = pytest.mark.django_db

BRANDS = "/admin/catalog/brand/"
CATEGORIES = "/admin/catalog/category/"
PRODUCTS = "/admin/catalog/product/"
VARIANTS = "/admin/catalog/variant/"
# The header row of the product import and export files.
HEADER = ["product", "product_slug", "status", "sku", "variant", "price", "is_active", "options"]
PRODUCT_FILES = ImportExport(PRODUCTS, resource="productvariantresource", columns=HEADER)


def catalog_state() -> tuple[list, list, list, list]:
    return (
        list(Brand.objects.order_by("pk").values()),
        list(Category.objects.order_by("pk").values()),
        list(Product.objects.order_by("pk").values()),
        list(Variant.objects.order_by("pk").values()),
    )


def product_with_variants(draft_product_factory, *variants: tuple[str, str], **fields) -> Product:
    product = draft_product_factory(**fields)
    for sku, price in variants:
        variant_create(product_id=product.pk, variant=VariantIn(sku=sku, price=Decimal(price)), actor=None)
    return Product.objects.get(pk=product.pk)


def variant_rows(product: Product) -> dict:
    """The inline's management form and one row per variant of ``product``, as the change page posts them."""
    variants = list(product.variants.order_by("pk"))
    data = {
        "variants-TOTAL_FORMS": str(len(variants)),
        "variants-INITIAL_FORMS": str(len(variants)),
        "variants-MIN_NUM_FORMS": "0",
        "variants-MAX_NUM_FORMS": "1000",
    }
    for index, variant in enumerate(variants):
        options = json.dumps(variant.options)
        data.update(
            {
                f"variants-{index}-id": str(variant.pk),
                f"variants-{index}-product": str(product.pk),
                f"variants-{index}-name": variant.name,
                f"variants-{index}-options": options,
                f"initial-variants-{index}-options": options,  # the hidden initial of a field with a callable default
                f"variants-{index}-price": str(variant.price),
                f"variants-{index}-is_active": "on" if variant.is_active else "",
            }
        )
    return data


def new_variant_row(data: dict, *, sku: str, price: str, name: str = "", options: str = "", active: bool = True):
    index = int(data["variants-TOTAL_FORMS"])
    data.update(
        {
            f"variants-{index}-sku": sku,
            f"variants-{index}-name": name,
            f"variants-{index}-options": options,
            f"variants-{index}-price": price,
            f"variants-{index}-is_active": "on" if active else "",
            "variants-TOTAL_FORMS": str(index + 1),
        }
    )
    return data


def change_form(product: Product, **changes) -> dict:
    data = {
        "name": product.name,
        "description": product.description,
        "brand": str(product.brand_id or ""),
        "category": str(product.category_id or ""),
        "edited_version": str(product.version),
        **variant_rows(product),
    }
    data.update(changes)
    return data


def add_form(**changes) -> dict:
    data = {
        "name": "Desk lamp",
        "slug": "",
        "description": "Warm light",
        "brand": "",
        "category": "",
        "variants-TOTAL_FORMS": "0",
        "variants-INITIAL_FORMS": "0",
        "variants-MIN_NUM_FORMS": "0",
        "variants-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


# --- who gets in


@pytest.mark.parametrize("url", [BRANDS, CATEGORIES, PRODUCTS, f"{PRODUCTS}import/", f"{PRODUCTS}export/"])
def test_customers_cannot_reach_the_catalog_admin(client, customer, url):
    client.force_login(customer)

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get(PRODUCTS)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


# --- brands


def test_brand_changelist_lists_and_searches(staff_browser, brand_factory):
    acme, _ = brand_factory(name="Acme"), brand_factory(name="Globex")

    page = staff_browser.get(BRANDS)
    found = staff_browser.get(BRANDS, {"q": "acm"})

    assert page.status_code == 200
    assert [b.name for b in listed(page)] == ["Acme", "Globex"]
    assert [b.pk for b in listed(found)] == [acme.pk]


def test_brand_add_goes_through_the_service(staff_browser):
    generated = staff_browser.post(f"{BRANDS}add/", {"name": "  Acme Tools ", "slug": ""})
    explicit = staff_browser.post(f"{BRANDS}add/", {"name": "Globex", "slug": " GLOBEX-Corp "})

    assert generated.status_code == explicit.status_code == 302
    assert list(Brand.objects.order_by("name").values_list("name", "slug")) == [
        ("Acme Tools", "acme-tools"),
        ("Globex", "globex-corp"),
    ]


def test_brand_add_refuses_a_taken_slug_whatever_its_case(staff_browser, brand_factory):
    brand_factory(name="Acme", slug="acme")
    before = catalog_state()

    response = staff_browser.post(f"{BRANDS}add/", {"name": "Other", "slug": "ACME"})

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"slug": ["Brand with this Slug already exists."]}
    assert catalog_state() == before


# --- categories


def test_category_changelist_shows_the_tree(staff_browser, category_factory):
    tools = category_factory(name="Tools", sort_order=1)
    garden = category_factory(name="Garden", sort_order=0)
    saws = category_factory(name="Saws", parent=tools, sort_order=5)
    drills = category_factory(name="Drills", parent=tools, sort_order=5)
    cordless = category_factory(name="Cordless", parent=drills)
    hoses = category_factory(name="Hoses", parent=garden)

    response = staff_browser.get(CATEGORIES)

    assert response.status_code == 200
    rows = listed(response)
    # depth-first; siblings by sort order, then name
    assert [c.pk for c in rows] == [garden.pk, hoses.pk, tools.pk, drills.pk, cordless.pk, saws.pk]
    assert [(c.tree_path, c.tree_depth) for c in rows] == [
        ("Garden", 0),
        ("Garden / Hoses", 1),
        ("Tools", 0),
        ("Tools / Drills", 1),
        ("Tools / Drills / Cordless", 2),
        ("Tools / Saws", 1),
    ]
    assert "Tools / Drills / Cordless" in response.content.decode()


def test_category_add_and_change_go_through_the_services(staff_browser, category_factory):
    root = category_factory(name="Root")

    added = staff_browser.post(
        f"{CATEGORIES}add/",
        {
            "name": " Lamps ",
            "slug": "",
            "parent": str(root.pk),
            "description": "",
            "sort_order": "3",
            "is_active": "on",
        },
    )
    lamps = Category.objects.get(name="Lamps")
    changed = staff_browser.post(
        f"{CATEGORIES}{lamps.pk}/change/",
        {"name": "Lighting", "parent": "", "description": "All lights", "sort_order": "1", "is_active": ""},
    )

    assert added.status_code == changed.status_code == 302
    lamps.refresh_from_db()
    assert (lamps.name, lamps.slug, lamps.parent_id, lamps.description, lamps.sort_order, lamps.is_active) == (
        "Lighting",
        "lamps",
        None,
        "All lights",
        1,
        False,
    )


def test_category_cannot_move_under_its_own_descendant(staff_browser, category_factory):
    root = category_factory(name="Root")
    child = category_factory(name="Child", parent=root)
    before = catalog_state()

    response = staff_browser.post(
        f"{CATEGORIES}{root.pk}/change/",
        {"name": "Root", "parent": str(child.pk), "description": "", "sort_order": "0", "is_active": "on"},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "parent": ["A category cannot be moved under itself or one of its descendants."]
    }
    assert catalog_state() == before


def test_category_refuses_a_negative_sort_order(staff_browser):
    response = staff_browser.post(
        f"{CATEGORIES}add/", {"name": "X", "slug": "", "parent": "", "description": "", "sort_order": "-1"}
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "sort_order": ["Ensure this value is greater than or equal to 0."]
    }
    assert not Category.objects.exists()


# --- products: lists and forms


def test_product_changelist_lists_and_searches_by_name_and_sku(staff_browser, draft_product_factory):
    lamp = product_with_variants(draft_product_factory, ("LAMP-1", "10"), ("LAMP-2", "12"), name="Blue lamp")
    chair = product_with_variants(draft_product_factory, ("CHAIR-1", "40"), name="Red chair")

    page = staff_browser.get(PRODUCTS)
    by_sku = staff_browser.get(PRODUCTS, {"q": "lamp-2"})
    by_name = staff_browser.get(PRODUCTS, {"q": "chair"})

    assert page.status_code == 200
    assert [p.pk for p in listed(page)] == [lamp.pk, chair.pk]
    assert "LAMP-1, LAMP-2" in page.content.decode()
    assert [p.pk for p in listed(by_sku)] == [lamp.pk]
    assert [p.pk for p in listed(by_name)] == [chair.pk]


def test_product_change_page_shows_the_variants(staff_browser, draft_product_factory):
    product = product_with_variants(draft_product_factory, ("LAMP-1", "10"), ("LAMP-2", "12"))

    response = staff_browser.get(f"{PRODUCTS}{product.pk}/change/")

    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert [form.instance.sku for form in formset.initial_forms] == ["LAMP-1", "LAMP-2"]
    assert response.context["adminform"].form.fields["edited_version"].initial == product.version
    assert "/admin/inventory/stock/?q=LAMP-1" in response.content.decode()


def test_product_add_creates_a_draft_with_its_variants_through_the_services(staff_browser, brand_factory):
    brand = brand_factory(name="Acme")
    data = add_form(brand=str(brand.pk))
    new_variant_row(data, sku="lamp-s", price="10.50", name="Small", options='{"size": "S"}')
    new_variant_row(data, sku="lamp-l", price="12", name="Large", active=False)

    response = staff_browser.post(f"{PRODUCTS}add/", data)

    assert response.status_code == 302
    product = Product.objects.get()
    assert (product.name, product.slug, product.status, product.brand_id) == (
        "Desk lamp",
        "desk-lamp",
        ProductStatus.DRAFT,
        brand.pk,
    )
    assert product.version == 3  # created, then one bump per variant added
    assert list(product.variants.order_by("sku").values_list("sku", "name", "options", "price", "is_active")) == [
        ("LAMP-L", "Large", {}, Decimal("12.00"), False),
        ("LAMP-S", "Small", {"size": "S"}, Decimal("10.50"), True),
    ]
    assert LogEntry.objects.filter(object_id=str(product.pk)).count() == 1


def test_product_change_goes_through_the_services_and_bumps_the_version(staff_browser, draft_product_factory):
    product = product_with_variants(draft_product_factory, ("LAMP-1", "10"), name="Lamp")
    first = product.variants.get()
    data = change_form(product, name="Lamp II", description="Brighter")
    data["variants-0-price"] = "11.25"
    data["variants-0-is_active"] = ""
    new_variant_row(data, sku="lamp-2", price="14", name="Big")

    response = staff_browser.post(f"{PRODUCTS}{product.pk}/change/", data)

    assert response.status_code == 302
    fresh = Product.objects.get(pk=product.pk)
    assert (fresh.name, fresh.description, fresh.status) == ("Lamp II", "Brighter", ProductStatus.DRAFT)
    assert fresh.version == product.version + 3  # product_update, variant_update, variant_create
    first.refresh_from_db()
    assert (first.sku, first.price, first.is_active) == ("LAMP-1", Decimal("11.25"), False)
    assert Variant.objects.get(sku="LAMP-2").name == "Big"


def test_product_sku_of_an_existing_variant_cannot_change(staff_browser, draft_product_factory):
    product = product_with_variants(draft_product_factory, ("LAMP-1", "10"))
    data = change_form(product)
    data["variants-0-sku"] = "OTHER"

    response = staff_browser.post(f"{PRODUCTS}{product.pk}/change/", data)

    assert response.status_code == 302
    assert list(Variant.objects.values_list("sku", flat=True)) == ["LAMP-1"]
    assert Product.objects.get(pk=product.pk).version == product.version  # nothing changed, nothing bumped


def test_product_change_refuses_a_stale_version(staff_browser, draft_product_factory):
    product = product_with_variants(draft_product_factory, ("LAMP-1", "10"), name="Lamp")
    loaded = change_form(product, name="Mine")  # the page as the editor loaded it
    product_update(product_id=product.pk, changes={"description": "someone else's"}, actor=None)
    before = catalog_state()

    response = staff_browser.post(f"{PRODUCTS}{product.pk}/change/", loaded)

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "Someone else changed this product while you were editing it: reload the page and try again."
    ]
    assert catalog_state() == before


def test_product_change_losing_the_race_after_the_form_check_writes_nothing(
    staff_browser, draft_product_factory, monkeypatch
):
    product = product_with_variants(draft_product_factory, ("LAMP-1", "10"), name="Lamp")
    data = change_form(product, name="Mine")
    data["variants-0-price"] = "99"
    form_clean = ProductForm.clean

    def clean_then_someone_else_saves(form):
        cleaned = form_clean(form)  # the form saw the current version...
        product_update(product_id=product.pk, changes={"description": "theirs"}, actor=None)  # ...then it moved on
        return cleaned

    monkeypatch.setattr(ProductForm, "clean", clean_then_someone_else_saves)
    before = catalog_state()

    response = staff_browser.post(f"{PRODUCTS}{product.pk}/change/", data, follow=True)

    assert response.redirect_chain == [(f"{PRODUCTS}{product.pk}/change/", 302)]
    assert messages_of(response) == [
        (
            "error",
            "Nothing was saved: The product was changed by someone else; reload it and try again. "
            f"(product_id: {product.pk}; expected_version: {product.version}; current_version: {product.version + 1})",
        )
    ]
    assert catalog_state() == before  # the whole save, the rival's write with it in this test, rolled back


def test_product_change_refuses_a_taken_sku_in_any_case(staff_browser, draft_product_factory):
    product = product_with_variants(draft_product_factory, ("LAMP-1", "10"))
    product_with_variants(draft_product_factory, ("TAKEN-1", "5"))
    data = new_variant_row(change_form(product), sku="taken-1", price="3")
    before = catalog_state()

    response = staff_browser.post(f"{PRODUCTS}{product.pk}/change/", data)

    assert response.status_code == 200
    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.errors[1] == {"sku": ["Variant with this Sku already exists."]}
    assert catalog_state() == before


@pytest.mark.parametrize(
    ("row", "errors"),
    [
        ({"price": "-1"}, {"price": ["Ensure this value is greater than or equal to 0."]}),
        ({"price": "1.234"}, {"price": ["Ensure that there are no more than 2 decimal places."]}),
        ({"sku": "a b"}, {"sku": ["A SKU starts with a letter or digit and holds only letters, digits and . _ / -"]}),
        ({"options": "[1, 2]"}, {"options": ['Options are a JSON object, e.g. {"size": "M"}.']}),
    ],
)
def test_product_add_refuses_bad_variant_rows(staff_browser, row, errors):
    data = add_form()
    new_variant_row(data, **{"sku": "LAMP-1", "price": "10", **row})

    response = staff_browser.post(f"{PRODUCTS}add/", data)

    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.errors == [errors]
    assert not Product.objects.exists()
    assert not Variant.objects.exists()


def test_archived_product_takes_no_new_variants(staff_browser, draft_product_factory):
    product = product_with_variants(draft_product_factory, ("LAMP-1", "10"))
    product = product_archive(product_id=product.pk)

    page = staff_browser.get(f"{PRODUCTS}{product.pk}/change/")
    posted = staff_browser.post(
        f"{PRODUCTS}{product.pk}/change/", new_variant_row(change_form(product), sku="NEW-1", price="3")
    )

    formset = page.context["inline_admin_formsets"][0].formset
    assert (formset.max_num, [form.instance.sku for form in formset.forms]) == (0, ["LAMP-1"])
    assert posted.status_code == 302
    assert list(Variant.objects.values_list("sku", flat=True)) == ["LAMP-1"]
    assert Product.objects.get(pk=product.pk).version == product.version


def test_products_cannot_be_deleted_in_the_admin(staff_browser, draft_product_factory):
    product = product_with_variants(draft_product_factory, ("LAMP-1", "10"))

    response = staff_browser.post(f"{PRODUCTS}{product.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert Product.objects.filter(pk=product.pk).exists()


def test_variants_are_read_only_on_their_own_admin_pages(staff_browser, draft_product_factory):
    product = product_with_variants(draft_product_factory, ("LAMP-1", "10"))
    variant = product.variants.get()
    before = catalog_state()

    add = staff_browser.get(f"{VARIANTS}add/")
    change = staff_browser.post(f"{VARIANTS}{variant.pk}/change/", {"sku": "LAMP-2", "price": "1"})
    delete = staff_browser.post(f"{VARIANTS}{variant.pk}/delete/", {"post": "yes"})
    view = staff_browser.get(f"{VARIANTS}{variant.pk}/change/")

    assert (add.status_code, change.status_code, delete.status_code, view.status_code) == (403, 403, 403, 200)
    assert catalog_state() == before


# --- a lock held elsewhere: a message, never a 500


@pytest.mark.django_db(transaction=True)
def test_product_change_of_a_locked_product_says_busy_and_writes_nothing(
    settings, client, admin_user, draft_product_factory
):
    settings.STOCK_LOCK_TIMEOUT_MS = 200
    client.force_login(admin_user)
    product = product_with_variants(draft_product_factory, ("LAMP-1", "10"), name="Lamp")
    before = catalog_state()

    with held_in_another_transaction(lambda: Product.objects.select_for_update().get(pk=product.pk)):
        response = client.post(f"{PRODUCTS}{product.pk}/change/", change_form(product, name="Mine"), follow=True)

    assert response.redirect_chain == [(f"{PRODUCTS}{product.pk}/change/", 302)]
    assert messages_of(response) == [("error", f"Nothing was saved: {BUSY}")]
    assert catalog_state() == before


@pytest.mark.django_db(transaction=True)
def test_publish_action_on_a_locked_product_says_busy(settings, client, admin_user, draft_product_factory):
    settings.STOCK_LOCK_TIMEOUT_MS = 200
    client.force_login(admin_user)
    product = product_with_variants(draft_product_factory, ("LAMP-1", "10"), name="Lamp")

    with held_in_another_transaction(lambda: Product.objects.select_for_update().get(pk=product.pk)):
        response = run_action(client, "publish_products", product)

    assert messages_of(response) == [("error", f"Lamp: {BUSY}")]
    assert Product.objects.get(pk=product.pk).status == ProductStatus.DRAFT


# --- actions


def run_action(browser, action: str, *products):
    return browser.post(PRODUCTS, {"action": action, "_selected_action": [str(p.pk) for p in products]}, follow=True)


def test_publish_action_publishes_and_reports_refusals(staff_browser, draft_product_factory):
    ready = product_with_variants(draft_product_factory, ("READY-1", "10"), name="Ready")
    empty = draft_product_factory(name="Empty")
    live = product_with_variants(draft_product_factory, ("LIVE-1", "10"), name="Live")
    product_publish(product_id=live.pk, actor=None)

    response = run_action(staff_browser, "publish_products", ready, empty, live)

    assert response.status_code == 200
    assert dict(Product.objects.values_list("name", "status")) == {
        "Ready": ProductStatus.PUBLISHED,
        "Empty": ProductStatus.DRAFT,
        "Live": ProductStatus.PUBLISHED,
    }
    assert Product.objects.get(pk=ready.pk).published_at is not None
    assert messages_of(response) == [
        (
            "error",
            "Empty: A product needs at least one active variant to be published. "
            f"(product_id: {empty.pk}; status: DRAFT; action: publish)",
        ),
        (
            "error",
            f"Live: Cannot publish a product that is PUBLISHED. (product_id: {live.pk}; status: PUBLISHED; "
            "action: publish)",
        ),
        ("success", "1 product(s) published."),
    ]


def test_archive_action_archives_and_reports_refusals(staff_browser, draft_product_factory):
    draft = product_with_variants(draft_product_factory, ("D-1", "10"), name="Draft")
    gone = draft_product_factory(name="Gone")
    product_archive(product_id=gone.pk)

    response = run_action(staff_browser, "archive_products", draft, gone)

    assert dict(Product.objects.values_list("name", "status")) == {
        "Draft": ProductStatus.ARCHIVED,
        "Gone": ProductStatus.ARCHIVED,
    }
    assert messages_of(response) == [
        (
            "error",
            f"Gone: Cannot archive a product that is ARCHIVED. (product_id: {gone.pk}; status: ARCHIVED; "
            "action: archive)",
        ),
        ("success", "1 product(s) archived."),
    ]


# --- import and export


def test_import_and_export_pages_load(staff_browser):
    import_page = staff_browser.get(f"{PRODUCTS}import/")
    export_page = staff_browser.get(f"{PRODUCTS}export/")

    assert import_page.status_code == export_page.status_code == 200
    assert "One row per variant." in import_page.content.decode()
    assert import_page.context["fields_list"] == [("Products with variants and prices (one row per variant)", HEADER)]
    assert [label for _, label in import_page.context["form"].fields["format"].choices] == ["---", "csv", "xlsx"]


def test_import_preview_lists_every_bad_row_and_writes_nothing(staff_browser, draft_product_factory):
    product_with_variants(draft_product_factory, ("LAMP-1", "10"), name="Lamp", slug="lamp")
    product_with_variants(draft_product_factory, ("CHAIR-1", "10"), name="Chair", slug="chair")
    rows = [
        HEADER,
        ["Table", "", "DRAFT", "TABLE-1", "", "abc", "", ""],  # 1: not a price
        ["Table", "", "", "TABLE-2", "", "-3", "", ""],  # 2: negative
        ["Table", "", "", "TABLE-3", "", "1.999", "maybe", ""],  # 3: decimals, bad flag
        ["Table", "", "", "table-1", "", "5", "", ""],  # 4: duplicate SKU in the file
        ["", "", "", "NEW-9", "", "5", "", ""],  # 5: new SKU, no product
        ["Lamp", "chair", "", "LAMP-1", "", "5", "", ""],  # 6: SKU of another product
        ["Lamp", "lamp", "SOLD", "a b", "", "5", "", "[1]"],  # 7: status, SKU pattern, options
        ["Stool", "", "", "STOOL-1", "", "", "", ""],  # 8: new SKU without a price
    ]
    before = catalog_state()

    response = PRODUCT_FILES.preview(staff_browser, csv_file(rows))

    assert response.status_code == 200
    assert "confirm_form" not in response.context
    assert row_errors(response) == {
        1: {"price": ["Not a price: 'abc'."]},
        2: {"price": ["A price cannot be negative (-3)."]},
        3: {
            "price": ["A price has at most 2 decimal places (1.999)."],
            "is_active": ["Not a yes/no value: 'maybe' (use 1/0, true/false or yes/no)."],
        },
        4: {"sku": ["SKU TABLE-1 is also on row 1."]},
        5: {"product": ["A new product needs a name."]},
        6: {"product_slug": ["SKU LAMP-1 belongs to product 'lamp'; a variant cannot move to another product."]},
        7: {
            "sku": ["A SKU starts with a letter or digit and holds only letters, digits and . _ / -"],
            "status": ["Unknown status 'SOLD': use DRAFT, PUBLISHED, ARCHIVED."],
            "options": ['Options are a JSON object, e.g. {"size": "M"}.'],
        },
        8: {"price": ["A price is required for the new SKU STOOL-1."]},
    }
    page = response.content.decode()
    assert "Some rows failed to validate" in page
    assert "SKU TABLE-1 is also on row 1." in page
    assert catalog_state() == before


def test_import_preview_refuses_lifecycle_steps_the_services_refuse(staff_browser, draft_product_factory):
    live = product_with_variants(draft_product_factory, ("LIVE-1", "10"), name="Live", slug="live")
    product_publish(product_id=live.pk, actor=None)
    gone = product_with_variants(draft_product_factory, ("GONE-1", "10"), name="Gone", slug="gone")
    product_archive(product_id=gone.pk)
    rows = [
        HEADER,
        ["Live", "live", "DRAFT", "LIVE-1", "", "10", "", ""],
        ["Gone", "gone", "", "GONE-2", "", "10", "", ""],
        ["Dark", "dark", "PUBLISHED", "DARK-1", "", "10", "0", ""],
        ["Twice", "", "DRAFT", "TW-1", "", "1", "", ""],
        ["Twice", "", "PUBLISHED", "TW-2", "", "1", "", ""],
    ]
    before = catalog_state()

    response = PRODUCT_FILES.preview(staff_browser, csv_file(rows))

    assert row_errors(response) == {
        1: {"status": ["A PUBLISHED product cannot become DRAFT."]},
        2: {"sku": ["Product 'gone' is ARCHIVED: no variant can be added to it."]},
        3: {"status": ["A product needs at least one active variant to be published."]},
        5: {"status": ["Row 4 gives this product the status DRAFT."]},
    }
    assert catalog_state() == before


def test_import_preview_shows_what_will_change_and_writes_nothing(staff_browser, draft_product_factory):
    product_with_variants(draft_product_factory, ("LAMP-1", "10"), name="Lamp", slug="lamp")
    rows = [
        HEADER,
        ["Lamp", "lamp", "", "LAMP-1", "", "10.00", "1", ""],  # unchanged
        ["Lamp", "lamp", "", "LAMP-2", "Big", "15", "1", ""],  # new variant
    ]
    before = catalog_state()

    response = PRODUCT_FILES.preview(staff_browser, csv_file(rows))

    assert response.status_code == 200
    assert "confirm_form" in response.context
    result = response.context["result"]
    assert [row.import_type for row in result.rows] == ["skip", "new"]
    assert catalog_state() == before


def test_confirmed_import_writes_through_the_services(staff_browser, draft_product_factory, staff_user):
    lamp = product_with_variants(draft_product_factory, ("LAMP-1", "10"), ("LAMP-2", "11"), name="Lamp", slug="lamp")
    rows = [
        HEADER,
        ["Lamp deluxe", "lamp", "PUBLISHED", "lamp-1", "Small", "12.5", "yes", '{"size": "S"}'],
        ["Lamp deluxe", "lamp", "PUBLISHED", "LAMP-3", "Large", "20", "", ""],
        ["Chair", "", "PUBLISHED", "CHAIR-1", "Oak", "40", "1", ""],
        ["Chair", "", "", "CHAIR-2", "Pine", "30", "0", ""],
        ["Stool", "stool", "", "STOOL-1", "", "9.99", "", ""],
    ]
    previewed = PRODUCT_FILES.preview(staff_browser, csv_file(rows))
    assert [row.import_type for row in previewed.context["result"].rows] == ["update", "new", "new", "new", "new"]

    response = PRODUCT_FILES.confirm(staff_browser, previewed)

    assert response.status_code == 200
    assert messages_of(response) == [("success", "Import finished: 4 new, 1 updated, 0 unchanged row(s).")]
    lamp_now = Product.objects.get(pk=lamp.pk)
    assert (lamp_now.name, lamp_now.status) == ("Lamp deluxe", ProductStatus.PUBLISHED)
    # rename, variant_update, variant_create, publish: one bump each
    assert lamp_now.version == lamp.version + 4
    chair = Product.objects.get(name="Chair")
    assert (chair.slug, chair.status) == ("chair", ProductStatus.PUBLISHED)
    stool = Product.objects.get(slug="stool")
    assert (stool.name, stool.status) == ("Stool", ProductStatus.DRAFT)
    assert list(
        Variant.objects.order_by("sku").values_list("sku", "product__slug", "name", "price", "is_active", "options")
    ) == [
        ("CHAIR-1", "chair", "Oak", Decimal("40.00"), True, {}),
        ("CHAIR-2", "chair", "Pine", Decimal("30.00"), False, {}),
        ("LAMP-1", "lamp", "Small", Decimal("12.50"), True, {"size": "S"}),
        ("LAMP-2", "lamp", "", Decimal("11.00"), True, {}),
        ("LAMP-3", "lamp", "Large", Decimal("20.00"), True, {}),
        ("STOOL-1", "stool", "", Decimal("9.99"), True, {}),
    ]
    assert LogEntry.objects.filter(user=staff_user).count() == 5


def test_confirmed_import_of_a_file_that_went_stale_writes_nothing(staff_browser, draft_product_factory):
    lamp = product_with_variants(draft_product_factory, ("LAMP-1", "10"), name="Lamp", slug="lamp")
    rows = [HEADER, ["Lamp", "lamp", "", "LAMP-1", "", "12", "", ""], ["Lamp", "lamp", "", "LAMP-2", "", "5", "", ""]]
    previewed = PRODUCT_FILES.preview(staff_browser, csv_file(rows))
    product_archive(product_id=lamp.pk)  # after the preview: an archived product takes no new variant
    before = catalog_state()

    response = PRODUCT_FILES.confirm(staff_browser, previewed)

    assert messages_of(response) == [
        ("error", "Row 2: sku: Product 'lamp' is ARCHIVED: no variant can be added to it."),
        ("error", "Nothing was imported: the data changed since the preview. Import the file again."),
    ]
    assert catalog_state() == before


def test_import_reads_xlsx_with_numeric_cells(staff_browser):
    rows = [HEADER, ["Bolt", "", "PUBLISHED", 1001, "M6", 0.25, 1, None], ["Bolt", "", None, 1002, "M8", 3, 0, None]]

    response = PRODUCT_FILES.confirm(staff_browser, PRODUCT_FILES.preview(staff_browser, xlsx_file(rows), XLSX_FORMAT))

    assert messages_of(response) == [("success", "Import finished: 2 new, 0 updated, 0 unchanged row(s).")]
    bolt = Product.objects.get(name="Bolt")
    assert bolt.status == ProductStatus.PUBLISHED
    assert list(bolt.variants.order_by("sku").values_list("sku", "name", "price", "is_active")) == [
        ("1001", "M6", Decimal("0.25"), True),
        ("1002", "M8", Decimal("3.00"), False),
    ]


def test_export_csv_has_one_row_per_variant(staff_browser, draft_product_factory, brand_factory):
    lamp = product_with_variants(draft_product_factory, ("LAMP-1", "10"), ("LAMP-2", "12.5"), name="Lamp", slug="lamp")
    variant_create(
        product_id=lamp.pk,
        variant=VariantIn(sku="LAMP-3", price=Decimal("7"), name="Tiny", options={"size": "XS"}),
        actor=None,
    )
    product_publish(product_id=lamp.pk, actor=None)
    product_with_variants(draft_product_factory, ("CHAIR-1", "40"), name="Chair", slug="chair")

    response = PRODUCT_FILES.export(staff_browser, CSV_FORMAT)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(response.content.decode()))) == [
        HEADER,
        ["Chair", "chair", "DRAFT", "CHAIR-1", "", "40.00", "1", ""],
        ["Lamp", "lamp", "PUBLISHED", "LAMP-1", "", "10.00", "1", ""],
        ["Lamp", "lamp", "PUBLISHED", "LAMP-2", "", "12.50", "1", ""],
        ["Lamp", "lamp", "PUBLISHED", "LAMP-3", "Tiny", "7.00", "1", '{"size": "XS"}'],
    ]


def test_export_xlsx_follows_the_changelist_search(staff_browser, draft_product_factory):
    product_with_variants(draft_product_factory, ("LAMP-1", "10"), ("LAMP-2", "12.5"), name="Lamp", slug="lamp")
    product_with_variants(draft_product_factory, ("CHAIR-1", "40"), name="Chair", slug="chair")

    response = PRODUCT_FILES.export(staff_browser, XLSX_FORMAT, "?q=lamp")

    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == [
        HEADER,
        ["Lamp", "lamp", "DRAFT", "LAMP-1", None, 10, True, None],
        ["Lamp", "lamp", "DRAFT", "LAMP-2", None, 12.5, True, None],
    ]


def test_an_export_imports_back_unchanged(staff_browser, draft_product_factory):
    lamp = product_with_variants(draft_product_factory, ("LAMP-1", "10"), name="Lamp", slug="lamp")
    variant_create(
        product_id=lamp.pk,
        variant=VariantIn(sku="LAMP-2", price=Decimal("7"), name="Tiny", options={"size": "XS"}),
        actor=None,
    )
    exported = PRODUCT_FILES.export(staff_browser, CSV_FORMAT).content
    before = catalog_state()

    previewed = PRODUCT_FILES.preview(staff_browser, SimpleUploadedFile("export.csv", exported))
    response = PRODUCT_FILES.confirm(staff_browser, previewed)

    assert [row.import_type for row in previewed.context["result"].rows] == ["skip", "skip"]
    assert messages_of(response) == [("success", "Import finished: 0 new, 0 updated, 2 unchanged row(s).")]
    assert catalog_state() == before
