"""The services write the audit trail in the transaction of each change, naming the actor they are given."""

from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Role, User
from accounts.services.passwords import password_change
from accounts.services.tokens import auth_tokens_issue
from catalog.exceptions import InvalidTransition, SkuTaken, VersionConflict
from catalog.models import Product, ProductStatus, Variant
from catalog.services.audit import history_changes
from catalog.services.brands import brand_create
from catalog.services.categories import category_create, category_update
from catalog.services.products import product_archive, product_create, product_delete, product_publish, product_update
from catalog.services.variants import VariantIn, variant_create, variant_update
from inventory.services.warehouses import location_create, location_update, warehouse_create, warehouse_update
from tests.audit.helpers import entries, history_rows, last_entry, trail

pytestmark = pytest.mark.django_db


def test_variant_price_change_records_actor_time_old_and_new_price(variant_factory, inventory_manager):
    variant = variant_factory(price=Decimal("10.00"))
    start = timezone.now()

    variant_update(variant_id=variant.pk, changes={"price": Decimal("12.50")}, actor=inventory_manager)

    end = timezone.now()
    created, changed = trail(variant)
    assert created.history_type == "+"
    assert (changed.history_type, changed.history_user_id) == ("~", inventory_manager.pk)
    assert start <= changed.history_date <= end
    assert history_changes(changed) == {"price": (Decimal("10.00"), Decimal("12.50"))}


def test_creations_record_the_actor_and_every_value(admin_user):
    brand = brand_create(name="Acme", actor=admin_user)
    category = category_create(name="Lamps", actor=admin_user)
    product = product_create(
        name="Lamp",
        brand_id=brand.pk,
        category_id=category.pk,
        variants=[VariantIn(sku="lamp-1", price=Decimal("9.99"))],
        actor=admin_user,
    )
    extra = variant_create(
        product_id=product.pk, variant=VariantIn(sku="lamp-2", price=Decimal("12")), actor=admin_user
    )
    warehouse = warehouse_create(code="west", name="West", priority=20, actor=admin_user)
    shelf = location_create(warehouse_id=warehouse.pk, code="a-01", actor=admin_user)
    first = Variant.objects.get(sku="LAMP-1")
    default = warehouse.locations.get(code="DEFAULT")

    for obj in (brand, category, product, first, extra, warehouse, default, shelf):
        ((kind, user_id, values),) = entries(obj)
        assert (kind, user_id) == ("+", admin_user.pk), obj
        assert all(old is None for old, _ in values.values())
    assert history_changes(trail(first)[0])["price"] == (None, Decimal("9.99"))
    assert history_changes(trail(product)[0])["brand"] == (None, brand.pk)
    assert history_changes(trail(warehouse)[0])["priority"] == (None, 20)


def test_each_update_service_records_old_and_new_values(
    admin_user, product_factory, category_factory, warehouse_factory, location_factory
):
    product = product_factory(name="Widget", price=Decimal("10.00"))
    variant = product.variants.get()
    category = category_factory(name="Lamps")
    warehouse = warehouse_factory(priority=100)
    shelf = location_factory(warehouse=warehouse, code="A-01")

    product_update(product_id=product.pk, changes={"name": "Gadget", "price": Decimal("11.00")}, actor=admin_user)
    category_update(category_id=category.pk, changes={"name": "Lights", "is_active": False}, actor=admin_user)
    warehouse_update(warehouse_id=warehouse.pk, changes={"priority": 5, "is_active": False}, actor=admin_user)
    location_update(location_id=shelf.pk, changes={"code": "a-02", "is_active": False}, actor=admin_user)

    assert last_entry(product) == ("~", admin_user.pk, {"name": ("Widget", "Gadget")})
    assert last_entry(variant) == ("~", admin_user.pk, {"price": (Decimal("10.00"), Decimal("11.00"))})
    assert last_entry(category) == ("~", admin_user.pk, {"name": ("Lamps", "Lights"), "is_active": (True, False)})
    assert last_entry(warehouse) == ("~", admin_user.pk, {"priority": (100, 5), "is_active": (True, False)})
    assert last_entry(shelf) == ("~", admin_user.pk, {"code": ("A-01", "A-02"), "is_active": (True, False)})


def test_publish_and_archive_record_the_status_change_and_its_reason(
    draft_product_factory, variant_factory, admin_user
):
    product = draft_product_factory()
    variant_factory(product=product)

    product_publish(product_id=product.pk, actor=admin_user)
    product_archive(product_id=product.pk, actor=admin_user)

    published, archived = trail(product)[-2:]
    assert (published.history_user_id, published.history_change_reason) == (admin_user.pk, "publish")
    assert history_changes(published)["status"] == (ProductStatus.DRAFT, ProductStatus.PUBLISHED)
    assert (archived.history_user_id, archived.history_change_reason) == (admin_user.pk, "archive")
    assert history_changes(archived)["status"] == (ProductStatus.PUBLISHED, ProductStatus.ARCHIVED)
    assert set(history_changes(archived)) == {"status", "archived_at"}


def test_a_change_to_the_same_values_records_nothing(product_factory, warehouse_factory, admin_user):
    product = product_factory(name="Widget", price=Decimal("10.00"))
    warehouse = warehouse_factory(priority=100)
    before = history_rows()

    product_update(product_id=product.pk, changes={"name": "Widget", "price": Decimal("10.00")}, actor=admin_user)
    product_update(product_id=product.pk, changes={}, actor=admin_user)
    warehouse_update(warehouse_id=warehouse.pk, changes={"priority": 100}, actor=admin_user)

    assert history_rows() == before


def test_a_variant_change_does_not_add_a_product_row_for_its_version(variant_factory, admin_user):
    variant = variant_factory()
    product = Product.objects.get(pk=variant.product_id)
    rows_before = len(trail(product))

    variant_update(variant_id=variant.pk, changes={"name": "Blue"}, actor=admin_user)

    assert Product.objects.get(pk=product.pk).version == product.version + 1
    assert len(trail(product)) == rows_before  # the version is a locking token, not a value of the product


def test_deleting_a_product_records_its_deletion_and_its_variants_and_keeps_their_trail(
    draft_product_factory, variant_factory, admin_user
):
    product = draft_product_factory(name="Doomed")
    small = variant_factory(product=product, sku="D-S", price=Decimal("3.00"))
    large = variant_factory(product=product, sku="D-L")
    variant_update(variant_id=small.pk, changes={"price": Decimal("4.00")}, actor=admin_user)

    product_delete(product_id=product.pk, actor=admin_user)

    assert not Product.objects.filter(pk=product.pk).exists()
    assert [(kind, user) for kind, user, _ in entries(product)] == [("+", None), ("-", admin_user.pk)]
    assert [(kind, user) for kind, user, _ in entries(small)] == [
        ("+", None),
        ("~", admin_user.pk),
        ("-", admin_user.pk),
    ]
    assert [(kind, user) for kind, user, _ in entries(large)] == [("+", None), ("-", admin_user.pk)]
    assert trail(small)[-1].price == Decimal("4.00")  # the values it had when it went


def test_sign_ins_and_password_changes_add_no_account_history(user_factory):
    user = user_factory(role=Role.INVENTORY_MANAGER)

    auth_tokens_issue(user=User.objects.get(pk=user.pk))
    password_change(user=User.objects.get(pk=user.pk), new_password="An0ther-Long-Passphrase")

    assert [entry[:2] for entry in entries(user)] == [("+", None)]  # last_login and the hash are not in the trail
    assert "password" not in {field.name for field in type(trail(user)[0]).tracked_fields}


def test_without_an_actor_or_a_request_the_row_names_nobody(variant_factory):
    variant = variant_factory()

    variant_update(variant_id=variant.pk, changes={"price": Decimal("1.00")}, actor=None)

    assert last_entry(variant)[:2] == ("~", None)


def test_refused_service_calls_record_nothing(product_factory, draft_product_factory, admin_user):
    product = product_factory(sku="TAKEN-1")
    empty = draft_product_factory()
    before = history_rows()

    with pytest.raises(VersionConflict):
        product_update(product_id=product.pk, changes={"name": "x"}, expected_versions=[99], actor=admin_user)
    with pytest.raises(SkuTaken):
        variant_create(product_id=empty.pk, variant=VariantIn(sku="taken-1", price=Decimal("1")), actor=admin_user)
    with pytest.raises(InvalidTransition):
        product_publish(product_id=empty.pk, actor=admin_user)

    assert history_rows() == before


@pytest.mark.django_db(transaction=True)
def test_concurrent_price_changes_are_recorded_in_the_order_they_happened(
    variant_factory, admin_user, inventory_manager, in_threads
):
    variant = variant_factory(price=Decimal("10.00"))
    calls = [
        {"variant_id": variant.pk, "changes": {"price": Decimal("20.00")}, "actor": admin_user},
        {"variant_id": variant.pk, "changes": {"price": Decimal("30.00")}, "actor": inventory_manager},
    ]

    outcomes = in_threads(variant_update, calls)

    assert all(isinstance(outcome, Variant) for outcome in outcomes), outcomes
    _created, first, second = trail(variant)
    prices = [(history_changes(row)["price"], row.history_user_id) for row in (first, second)]
    assert prices in (
        [
            ((Decimal("10.00"), Decimal("20.00")), admin_user.pk),
            ((Decimal("20.00"), Decimal("30.00")), inventory_manager.pk),
        ],
        [
            ((Decimal("10.00"), Decimal("30.00")), inventory_manager.pk),
            ((Decimal("30.00"), Decimal("20.00")), admin_user.pk),
        ],
    )
    assert Variant.objects.get(pk=variant.pk).price == second.price
