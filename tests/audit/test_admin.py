"""Staff changes in the admin are in the audit trail, and each object's trail is readable (never editable) there."""

from decimal import Decimal

import pytest
from django.contrib import admin

from accounts.models import Role, User
from catalog.admin import STALE_EDIT
from catalog.exceptions import SkuTaken
from catalog.models import Brand, Category, Product, Variant
from catalog.services.variants import variant_update
from inventory.models import DEFAULT_LOCATION_CODE
from tests.admin_helpers import csv_file, messages_of
from tests.audit.helpers import AUDITED, entries, history_rows, last_entry, trail
from tests.catalog.test_admin import HEADER, PRODUCT_FILES, change_form, new_variant_row, product_with_variants
from tests.inventory.test_admin import location_rows

pytestmark = pytest.mark.django_db

PRODUCTS = "/admin/catalog/product/"
VARIANTS = "/admin/catalog/variant/"
WAREHOUSES = "/admin/inventory/warehouse/"


def test_product_and_variant_changes_record_the_editor_and_old_and_new_values(
    staff_browser, staff_user, draft_product_factory
):
    product = product_with_variants(draft_product_factory, ("LAMP-1", "10"), name="Lamp")
    data = change_form(product, name="Lamp II")
    data["variants-0-price"] = "11.25"
    new_variant_row(data, sku="lamp-2", price="14")

    response = staff_browser.post(f"{PRODUCTS}{product.pk}/change/", data)

    assert response.status_code == 302
    assert last_entry(product) == ("~", staff_user.pk, {"name": ("Lamp", "Lamp II")})
    assert last_entry(Variant.objects.get(sku="LAMP-1")) == (
        "~",
        staff_user.pk,
        {"price": (Decimal("10.00"), Decimal("11.25"))},
    )
    assert last_entry(Variant.objects.get(sku="LAMP-2"))[:2] == ("+", staff_user.pk)


def test_publishing_from_the_list_records_the_editor(staff_browser, staff_user, draft_product_factory):
    product = product_with_variants(draft_product_factory, ("LAMP-1", "10"))

    response = staff_browser.post(PRODUCTS, {"action": "publish_products", "_selected_action": [product.pk]})

    assert response.status_code == 302
    kind, user, values = last_entry(product)
    assert (kind, user, values["status"]) == ("~", staff_user.pk, ("DRAFT", "PUBLISHED"))


def test_brand_and_category_changes_record_the_editor(staff_browser, staff_user, category_factory):
    category = category_factory(name="Lamps")

    brand = staff_browser.post("/admin/catalog/brand/add/", {"name": "Acme", "slug": ""})
    changed = staff_browser.post(
        f"/admin/catalog/category/{category.pk}/change/",
        {"name": "Lights", "parent": "", "description": "", "sort_order": "3", "is_active": ""},
    )

    assert [brand.status_code, changed.status_code] == [302, 302]
    assert last_entry(Brand.objects.get())[:2] == ("+", staff_user.pk)
    assert last_entry(Category.objects.get(pk=category.pk)) == (
        "~",
        staff_user.pk,
        {"name": ("Lamps", "Lights"), "sort_order": (0, 3), "is_active": (True, False)},
    )


def test_warehouse_priority_and_location_activity_changes_record_the_editor(
    staff_browser, staff_user, warehouse_factory, location_factory
):
    east = warehouse_factory(code="EAST", name="East", priority=100)
    shelf = location_factory(warehouse=east, code="A-01")
    data = {"name": "East", "address": "", "priority": "5", "is_active": ""}
    data.update(location_rows(east, ("b-01", True)))
    data[f"locations-{list(east.locations.order_by('pk')).index(shelf)}-is_active"] = ""

    response = staff_browser.post(f"{WAREHOUSES}{east.pk}/change/", data)

    assert response.status_code == 302
    assert last_entry(east) == ("~", staff_user.pk, {"priority": (100, 5), "is_active": (True, False)})
    assert last_entry(shelf) == ("~", staff_user.pk, {"is_active": (True, False)})
    assert last_entry(east.locations.get(code="B-01"))[:2] == ("+", staff_user.pk)
    assert [entry[:2] for entry in entries(east.locations.get(code=DEFAULT_LOCATION_CODE))] == [("+", None)]


def test_role_and_activity_changes_of_an_account_record_the_admin(client, admin_user, customer):
    client.force_login(admin_user)  # a sign-in writes last_login, which is not in the trail
    path = f"/admin/accounts/user/{customer.pk}/change/"

    unchanged = client.post(path, {"role": Role.CUSTOMER, "is_active": "on"})
    promoted = client.post(path, {"role": Role.INVENTORY_MANAGER, "is_active": "on"})
    suspended = client.post(path, {"role": Role.INVENTORY_MANAGER, "is_active": ""})

    assert [unchanged.status_code, promoted.status_code, suspended.status_code] == [302, 302, 302]
    assert entries(customer)[1:] == [
        ("~", admin_user.pk, {"role": (Role.CUSTOMER, Role.INVENTORY_MANAGER)}),
        ("~", admin_user.pk, {"is_active": (True, False)}),
    ]
    assert [entry[:2] for entry in entries(admin_user)] == [("+", None)]


def test_an_import_records_the_importing_user(staff_browser, staff_user, draft_product_factory):
    product_with_variants(draft_product_factory, ("LAMP-1", "10"), name="Lamp")
    upload = csv_file([HEADER, ["Lamp", "", "", "LAMP-1", "", "12.00", "", ""]])

    preview = staff_browser.post(f"{PRODUCTS}import/", {"resource": "0", "format": "0", "import_file": upload})
    confirmed = PRODUCT_FILES.confirm(staff_browser, preview)

    assert messages_of(confirmed)[-1][0] == "success"
    assert last_entry(Variant.objects.get(sku="LAMP-1")) == (
        "~",
        staff_user.pk,
        {"price": (Decimal("10.00"), Decimal("12.00"))},
    )


def test_a_save_refused_halfway_rolls_its_history_rows_back(staff_browser, draft_product_factory, monkeypatch):
    product = product_with_variants(draft_product_factory, ("LAMP-1", "10"), name="Lamp")
    data = change_form(product, name="Lamp II")  # product_update runs (and records) first...
    new_variant_row(data, sku="lamp-2", price="14")

    def sku_taken_meanwhile(**kwargs):
        raise SkuTaken("A variant with this SKU already exists.", sku="LAMP-2")  # ...then the variant is refused

    monkeypatch.setattr("catalog.admin.variant_create", sku_taken_meanwhile)
    before = history_rows()

    response = staff_browser.post(f"{PRODUCTS}{product.pk}/change/", data, follow=True)

    assert messages_of(response) == [
        ("error", "Nothing was saved: A variant with this SKU already exists. (sku: LAMP-2)")
    ]
    assert Product.objects.get(pk=product.pk).name == "Lamp"
    assert history_rows() == before


def test_a_stale_edit_refused_by_the_form_records_nothing(staff_browser, draft_product_factory):
    product = product_with_variants(draft_product_factory, ("LAMP-1", "10"), name="Lamp")
    data = change_form(product, name="Mine", edited_version=str(product.version - 1))
    before = history_rows()

    response = staff_browser.post(f"{PRODUCTS}{product.pk}/change/", data)

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [STALE_EDIT]
    assert history_rows() == before


# --- reading the trail


def test_the_price_history_of_a_variant_is_readable_in_the_admin(
    staff_browser, admin_user, inventory_manager, variant_factory
):
    variant = variant_factory(sku="LAMP-1", price=Decimal("10.00"))
    variant_update(variant_id=variant.pk, changes={"price": Decimal("12.50")}, actor=admin_user)
    variant_update(variant_id=variant.pk, changes={"price": Decimal("15.00")}, actor=inventory_manager)

    response = staff_browser.get(f"{VARIANTS}{variant.pk}/history/")

    assert response.status_code == 200
    rows = [
        (record.price, record.history_user, [(c["field"], c["old"], c["new"]) for c in changes])
        for record in response.context["page_obj"]
        for changes in [getattr(record, "history_delta_changes", [])]
    ]
    assert rows == [
        (Decimal("15.00"), inventory_manager, [("Price", "12.50", "15.00")]),
        (Decimal("12.50"), admin_user, [("Price", "10.00", "12.50")]),
        (Decimal("10.00"), None, []),
    ]
    assert inventory_manager.email.encode() in response.content
    assert response.context["revert_disabled"] is True


def test_the_product_page_links_to_each_variant_s_price_history(staff_browser, draft_product_factory):
    product = product_with_variants(draft_product_factory, ("LAMP-1", "10"))
    variant = product.variants.get()

    response = staff_browser.get(f"{PRODUCTS}{product.pk}/change/")
    history = staff_browser.get(f"{PRODUCTS}{product.pk}/history/")

    assert f'href="{VARIANTS}{variant.pk}/history/"'.encode() in response.content
    assert history.status_code == 200
    assert [record.history_type for record in history.context["page_obj"]] == ["+"]


@pytest.mark.parametrize(
    "page",
    [
        "/admin/catalog/brand/{brand}/history/",
        "/admin/catalog/category/{category}/history/",
        "/admin/inventory/warehouse/{warehouse}/history/",
        "/admin/inventory/location/{location}/history/",
    ],
)
def test_history_pages_load_for_staff(staff_browser, brand_factory, category_factory, warehouse_factory, page):
    warehouse = warehouse_factory()
    ids = {
        "brand": brand_factory().pk,
        "category": category_factory().pk,
        "warehouse": warehouse.pk,
        "location": warehouse.locations.get().pk,
    }

    response = staff_browser.get(page.format(**ids))

    assert response.status_code == 200
    assert len(response.context["page_obj"]) == 1


def test_account_history_is_for_admins_only(client, inventory_manager, customer):
    client.force_login(inventory_manager)

    assert client.get(f"/admin/accounts/user/{customer.pk}/history/").status_code == 403


# --- the trail cannot be changed from the admin


def test_a_past_version_can_be_viewed_but_not_saved_back(staff_browser, admin_user, variant_factory):
    variant = variant_factory(price=Decimal("10.00"))
    variant_update(variant_id=variant.pk, changes={"price": Decimal("12.50")}, actor=admin_user)
    first = trail(variant)[0]
    page = f"{VARIANTS}{variant.pk}/history/{first.pk}/"
    before = history_rows()

    viewed = staff_browser.get(page)
    posted = staff_browser.post(page, {"price": "10.00", "_change_history": "1"})

    assert viewed.status_code == 200
    assert viewed.context["revert_disabled"] is True
    assert posted.status_code == 405
    assert Variant.objects.get(pk=variant.pk).price == Decimal("12.50")
    assert history_rows() == before


def test_history_rows_have_no_admin_pages_to_change_or_delete_them(client, admin_user, customer):
    client.force_login(admin_user)

    for model in AUDITED:
        history = model.history.model
        assert not admin.site.is_registered(history)
        opts = history._meta
        assert client.get(f"/admin/{opts.app_label}/{opts.model_name}/").status_code == 404
    assert client.get(f"/admin/accounts/user/{customer.pk}/delete/").status_code == 403
    assert User.objects.filter(pk=customer.pk).exists()
