"""Catalog services on real PostgreSQL: slugs, the category tree, products, their lifecycle and variants."""

from decimal import Decimal

import pytest

from catalog.exceptions import (
    CategoryCycle,
    CategoryNotFound,
    InvalidTransition,
    ProductNotFound,
    SkuTaken,
    SlugTaken,
    UnknownReference,
    VariantNotFound,
    VariantRequired,
    VersionConflict,
)
from catalog.models import Brand, Category, Product, ProductStatus, Variant
from catalog.services.brands import brand_create
from catalog.services.categories import category_create, category_update
from catalog.services.products import product_archive, product_create, product_publish, product_update
from catalog.services.variants import VariantIn, variant_create, variant_update

pytestmark = pytest.mark.django_db


def product_row(product: Product) -> dict:
    """What a refused change must leave untouched."""
    return Product.objects.values("name", "status", "published_at", "archived_at", "version").get(pk=product.pk)


def variant_rows(product: Product) -> list[tuple]:
    return list(Variant.objects.filter(product=product).order_by("pk").values_list("sku", "price", "is_active"))


# --- brands and slugs


def test_brand_create_trims_the_name_and_makes_the_slug_from_it():
    brand = brand_create(name="  Acme Tools  ")

    assert (brand.name, brand.slug) == ("Acme Tools", "acme-tools")
    assert Brand.objects.values_list("name", "slug").get(pk=brand.pk) == ("Acme Tools", "acme-tools")


def test_brand_create_stores_an_explicit_slug_trimmed_and_lower_case():
    brand = brand_create(name="Acme", slug="  ACME-Pro ")

    assert Brand.objects.get(pk=brand.pk).slug == "acme-pro"


def test_brand_create_suffixes_a_generated_slug_that_is_taken():
    slugs = [brand_create(name="Acme Tools").slug for _ in range(3)]

    assert slugs == ["acme-tools", "acme-tools-2", "acme-tools-3"]


def test_brand_create_generated_slug_skips_suffixes_already_used():
    brand_create(name="Acme", slug="acme")
    brand_create(name="Other", slug="acme-2")

    assert brand_create(name="ACME").slug == "acme-3"


def test_brand_create_name_without_letters_gets_a_placeholder_slug():
    assert brand_create(name="!!!").slug == "item"
    assert brand_create(name="???").slug == "item-2"


@pytest.mark.parametrize("taken", ["acme", "ACME", " Acme "])
def test_brand_create_explicit_slug_taken_in_any_case_is_refused(taken):
    brand_create(name="Acme", slug="acme")

    with pytest.raises(SlugTaken) as raised:
        brand_create(name="Acme again", slug=taken)

    assert raised.value.code == "slug_taken"
    assert raised.value.status == 409
    assert raised.value.details == {"slug": "acme"}
    assert list(Brand.objects.values_list("name", flat=True)) == ["Acme"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("threads", [2, 6])
def test_brand_create_concurrent_same_name_all_succeed_with_distinct_slugs(in_threads, threads):
    outcomes = in_threads(brand_create, [{"name": "Acme"} for _ in range(threads)])

    assert all(isinstance(outcome, Brand) for outcome in outcomes), outcomes
    expected = {"acme", *(f"acme-{n}" for n in range(2, threads + 1))}
    assert {outcome.slug for outcome in outcomes} == expected
    assert set(Brand.objects.values_list("slug", flat=True)) == expected


# --- categories


def test_category_create_renders_every_field():
    parent = category_create(name="Tools")
    category = category_create(
        name="  Hand Tools ",
        slug=" HAND ",
        parent_id=parent.pk,
        description="Hammers and such",
        sort_order=3,
        is_active=False,
    )

    row = Category.objects.values("name", "slug", "parent_id", "description", "sort_order", "is_active")
    assert row.get(pk=category.pk) == {
        "name": "Hand Tools",
        "slug": "hand",
        "parent_id": parent.pk,
        "description": "Hammers and such",
        "sort_order": 3,
        "is_active": False,
    }


def test_category_create_unknown_parent_is_refused():
    with pytest.raises(UnknownReference) as raised:
        category_create(name="Orphan", parent_id=999_999)

    assert raised.value.details == {"field": "parent_id", "id": 999_999}
    assert not Category.objects.exists()


def test_category_create_explicit_slug_taken_is_refused(category_factory):
    category_factory(name="Tools", slug="tools")

    with pytest.raises(SlugTaken):
        category_create(name="Other tools", slug="TOOLS")

    assert Category.objects.count() == 1


def test_category_create_generated_slug_gets_a_suffix(category_factory):
    category_factory(name="Tools")

    assert category_create(name="tools").slug == "tools-2"


def parents() -> dict[str, int | None]:
    return dict(Category.objects.values_list("name", "parent_id"))


@pytest.mark.parametrize("new_parent", ["root", "child", "grandchild"])
def test_category_update_under_itself_or_a_descendant_is_a_cycle(tree, new_parent):
    root, target = tree["root"], tree[new_parent]
    before = parents()

    with pytest.raises(CategoryCycle) as raised:
        category_update(category_id=root.pk, changes={"parent_id": target.pk, "name": "Renamed"}, actor=None)

    assert raised.value.code == "category_cycle"
    assert raised.value.status == 400
    assert raised.value.details == {"category_id": root.pk, "parent_id": target.pk}
    assert parents() == before
    assert Category.objects.get(pk=root.pk).name == "Root"


def test_category_update_moves_a_subtree_and_back_to_the_root(tree):
    child, grandchild, other = tree["child"], tree["grandchild"], tree["other"]

    moved = category_update(category_id=child.pk, changes={"parent_id": other.pk}, actor=None)
    assert moved.parent_id == other.pk
    assert Category.objects.get(pk=grandchild.pk).parent_id == child.pk

    assert category_update(category_id=child.pk, changes={"parent_id": None}, actor=None).parent_id is None


def test_category_update_changes_the_other_fields(tree):
    root = tree["root"]

    updated = category_update(
        category_id=root.pk,
        changes={"name": " New name ", "description": "d", "sort_order": 7, "is_active": False},
        actor=None,
    )

    assert (updated.name, updated.description, updated.sort_order, updated.is_active) == ("New name", "d", 7, False)
    assert updated.slug == "root"


def test_category_update_without_changes_changes_nothing(tree):
    root = tree["root"]

    assert category_update(category_id=root.pk, changes={}, actor=None).name == "Root"


def test_category_update_unknown_category_is_not_found():
    with pytest.raises(CategoryNotFound) as raised:
        category_update(category_id=999_999, changes={"name": "x"}, actor=None)

    assert (raised.value.code, raised.value.status) == ("not_found", 404)


def test_category_update_unknown_parent_is_refused(tree):
    before = parents()

    with pytest.raises(UnknownReference) as raised:
        category_update(category_id=tree["child"].pk, changes={"parent_id": 999_999}, actor=None)

    assert raised.value.details == {"field": "parent_id", "id": 999_999}
    assert parents() == before


def test_category_update_slug_is_not_editable(tree):
    with pytest.raises(ValueError, match="slug"):
        category_update(category_id=tree["root"].pk, changes={"slug": "new"}, actor=None)

    assert Category.objects.get(pk=tree["root"].pk).slug == "root"


# --- products


def test_product_create_without_variants_is_a_draft():
    product = product_create(name="  Gadget ", description="A gadget")

    product.refresh_from_db()
    assert (product.name, product.slug, product.description) == ("Gadget", "gadget", "A gadget")
    assert (product.status, product.published_at, product.archived_at, product.version) == (
        ProductStatus.DRAFT,
        None,
        None,
        1,
    )
    assert not product.variants.exists()


def test_product_create_published_with_its_variants(brand_factory, category_factory):
    brand, category = brand_factory(), category_factory()

    product = product_create(
        name="Shirt",
        brand_id=brand.pk,
        category_id=category.pk,
        variants=[
            VariantIn(sku="shirt-m", price=Decimal("20.00"), name=" M ", options={"size": "M"}),
            VariantIn(sku="SHIRT-L", price=Decimal("22.50"), options={"size": "L"}, is_active=False),
        ],
        publish=True,
    )

    product.refresh_from_db()
    assert product.status == ProductStatus.PUBLISHED
    assert product.published_at is not None
    assert (product.brand_id, product.category_id) == (brand.pk, category.pk)
    assert list(product.variants.order_by("pk").values_list("sku", "name", "options", "price", "is_active")) == [
        ("SHIRT-M", "M", {"size": "M"}, Decimal("20.00"), True),
        ("SHIRT-L", "", {"size": "L"}, Decimal("22.50"), False),
    ]


def test_product_create_published_without_variants_is_refused():
    with pytest.raises(InvalidTransition) as raised:
        product_create(name="Nothing to sell", publish=True)

    assert raised.value.details == {"product_id": None, "status": "DRAFT", "action": "publish"}
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("field", "details"),
    [("brand_id", {"field": "brand_id", "id": 999_999}), ("category_id", {"field": "category_id", "id": 999_999})],
)
def test_product_create_unknown_reference_is_refused(field, details):
    with pytest.raises(UnknownReference) as raised:
        product_create(name="Gadget", **{field: 999_999})

    assert raised.value.details == details
    assert not Product.objects.exists()


def test_product_create_sku_taken_in_any_case_writes_nothing(variant_factory):
    variant_factory(sku="TAKEN-1")
    products_before = Product.objects.count()

    with pytest.raises(SkuTaken) as raised:
        product_create(name="Copy", variants=[VariantIn(sku="taken-1", price=Decimal("1.00"))], publish=True)

    assert (raised.value.code, raised.value.status, raised.value.details) == ("sku_taken", 409, {"sku": "TAKEN-1"})
    assert Product.objects.count() == products_before
    assert Variant.objects.count() == 1


def test_product_create_same_sku_twice_is_refused():
    with pytest.raises(SkuTaken) as raised:
        product_create(
            name="Twice",
            variants=[VariantIn(sku="dup", price=Decimal("1.00")), VariantIn(sku="DUP", price=Decimal("2.00"))],
        )

    assert raised.value.details == {"sku": "DUP"}
    assert not Product.objects.exists()


def test_product_create_explicit_slug_taken_is_refused(draft_product_factory):
    draft_product_factory(name="Gadget", slug="gadget")

    with pytest.raises(SlugTaken):
        product_create(name="Other", slug="Gadget")

    assert Product.objects.count() == 1


def test_product_update_changes_fields_and_bumps_the_version(draft_product_factory, brand_factory):
    product = draft_product_factory(name="Old")
    brand = brand_factory()

    updated = product_update(
        product_id=product.pk, changes={"name": "  New ", "description": "d", "brand_id": brand.pk}, actor=None
    )

    assert (updated.name, updated.description, updated.brand_id, updated.version) == ("New", "d", brand.pk, 2)
    assert updated.slug == product.slug


def test_product_update_without_changes_keeps_the_version(draft_product_factory):
    product = draft_product_factory()

    assert product_update(product_id=product.pk, changes={}, expected_versions=[1], actor=None).version == 1


def test_product_update_matching_expected_version_is_applied(draft_product_factory):
    product = draft_product_factory()

    assert product_update(product_id=product.pk, changes={"name": "x"}, expected_versions=[1], actor=None).version == 2


def test_product_update_stale_version_is_a_conflict_and_changes_nothing(draft_product_factory):
    product = draft_product_factory(name="Old")
    product_update(product_id=product.pk, changes={"name": "Second"}, actor=None)
    before = product_row(product)

    with pytest.raises(VersionConflict) as raised:
        product_update(product_id=product.pk, changes={"name": "Third"}, expected_versions=[2, 1], actor=None)

    assert (raised.value.code, raised.value.status) == ("version_conflict", 409)
    assert raised.value.details == {"product_id": product.pk, "expected_version": 1, "current_version": 2}
    assert product_row(product) == before


def test_product_update_price_and_activity_change_the_only_variant(product_factory):
    product = product_factory(price=Decimal("10.00"))

    updated = product_update(product_id=product.pk, changes={"price": Decimal("12.34"), "is_active": False}, actor=None)

    assert updated.version == 2
    assert variant_rows(product) == [(product.variants.get().sku, Decimal("12.34"), False)]


@pytest.mark.parametrize("variant_count", [0, 2])
def test_product_update_price_needs_exactly_one_variant(draft_product_factory, variant_factory, variant_count):
    product = draft_product_factory()
    for _ in range(variant_count):
        variant_factory(product=product, price=Decimal("5.00"))
    before, variants_before = product_row(product), variant_rows(product)

    with pytest.raises(VariantRequired) as raised:
        product_update(product_id=product.pk, changes={"price": Decimal("9.00"), "name": "Renamed"}, actor=None)

    assert (raised.value.code, raised.value.status) == ("variant_required", 400)
    assert raised.value.details == {"product_ids": [product.pk]}
    assert product_row(product) == before
    assert variant_rows(product) == variants_before


def test_product_update_unknown_brand_changes_nothing(draft_product_factory):
    product = draft_product_factory()
    before = product_row(product)

    with pytest.raises(UnknownReference):
        product_update(product_id=product.pk, changes={"brand_id": 999_999}, actor=None)

    assert product_row(product) == before


def test_product_update_unknown_product_is_not_found():
    with pytest.raises(ProductNotFound):
        product_update(product_id=999_999, changes={"name": "x"}, actor=None)


def test_product_update_refuses_fields_it_does_not_edit(draft_product_factory):
    product = draft_product_factory()

    with pytest.raises(ValueError, match="status"):
        product_update(product_id=product.pk, changes={"status": ProductStatus.PUBLISHED}, actor=None)

    assert product_row(product)["status"] == ProductStatus.DRAFT


# --- the lifecycle table


def product_in(state: str, draft_product_factory, variant_factory) -> Product:
    """A product in ``state``: DRAFT (active variant), DRAFT_NO_ACTIVE, DRAFT_EMPTY, PUBLISHED, ARCHIVED_FROM_*."""
    product = draft_product_factory()
    if state != "DRAFT_EMPTY":
        variant_factory(product=product, is_active=state != "DRAFT_NO_ACTIVE")
    if state in ("PUBLISHED", "ARCHIVED_FROM_PUBLISHED"):
        product_publish(product_id=product.pk, actor=None)
    if state.startswith("ARCHIVED"):
        product_archive(product_id=product.pk)
    product.refresh_from_db()
    return product


ACTIONS = {"publish": product_publish, "archive": product_archive}

# (state, action) -> the status it leads to, or None when refused with invalid_transition
LIFECYCLE = {
    ("DRAFT", "publish"): ProductStatus.PUBLISHED,
    ("DRAFT", "archive"): ProductStatus.ARCHIVED,
    ("DRAFT_NO_ACTIVE", "publish"): None,
    ("DRAFT_NO_ACTIVE", "archive"): ProductStatus.ARCHIVED,
    ("DRAFT_EMPTY", "publish"): None,
    ("DRAFT_EMPTY", "archive"): ProductStatus.ARCHIVED,
    ("PUBLISHED", "publish"): None,
    ("PUBLISHED", "archive"): ProductStatus.ARCHIVED,
    ("ARCHIVED_FROM_DRAFT", "publish"): None,
    ("ARCHIVED_FROM_DRAFT", "archive"): None,
    ("ARCHIVED_FROM_PUBLISHED", "publish"): None,
    ("ARCHIVED_FROM_PUBLISHED", "archive"): None,
}


@pytest.mark.parametrize(("state", "action"), [key for key, target in LIFECYCLE.items() if target is not None])
def test_lifecycle_allowed_transition(draft_product_factory, variant_factory, state, action):
    product = product_in(state, draft_product_factory, variant_factory)
    before = product_row(product)

    result = ACTIONS[action](product_id=product.pk, actor=None)

    after = product_row(product)
    assert result.status == after["status"] == LIFECYCLE[state, action]
    assert after["version"] == before["version"] + 1
    if action == "publish":
        assert after["published_at"] is not None
        assert after["archived_at"] is None
    else:
        assert after["archived_at"] is not None
        assert after["published_at"] == before["published_at"]  # kept when it was published, else still None


@pytest.mark.parametrize(("state", "action"), [key for key, target in LIFECYCLE.items() if target is None])
def test_lifecycle_refused_transition_changes_nothing(draft_product_factory, variant_factory, state, action):
    product = product_in(state, draft_product_factory, variant_factory)
    before = product_row(product)

    with pytest.raises(InvalidTransition) as raised:
        ACTIONS[action](product_id=product.pk, actor=None)

    assert (raised.value.code, raised.value.status) == ("invalid_transition", 409)
    assert raised.value.details == {"product_id": product.pk, "status": before["status"], "action": action}
    assert before["status"] in str(raised.value) or "active variant" in str(raised.value)
    assert product_row(product) == before


def test_lifecycle_unknown_product_is_not_found():
    with pytest.raises(ProductNotFound):
        product_publish(product_id=999_999, actor=None)


# --- variants


def test_variant_create_upper_cases_the_sku_and_bumps_the_product_version(draft_product_factory):
    product = draft_product_factory()

    variant = variant_create(
        product_id=product.pk,
        variant=VariantIn(sku="  red-m ", price=Decimal("9.99"), name=" Red M ", options={"colour": "red"}),
        actor=None,
    )

    assert Variant.objects.values_list("sku", "name", "options", "price", "is_active").get(pk=variant.pk) == (
        "RED-M",
        "Red M",
        {"colour": "red"},
        Decimal("9.99"),
        True,
    )
    assert product_row(product)["version"] == 2


@pytest.mark.parametrize("sku", ["ABC-1", "abc-1", "Abc-1"])
def test_variant_create_sku_taken_in_any_case_is_refused(draft_product_factory, variant_factory, sku):
    variant_factory(sku="ABC-1")
    product = draft_product_factory()

    with pytest.raises(SkuTaken) as raised:
        variant_create(product_id=product.pk, variant=VariantIn(sku=sku, price=Decimal("1.00")), actor=None)

    assert (raised.value.code, raised.value.status, raised.value.details) == ("sku_taken", 409, {"sku": "ABC-1"})
    assert not product.variants.exists()
    assert product_row(product)["version"] == 1


@pytest.mark.parametrize("state", ["ARCHIVED_FROM_DRAFT", "ARCHIVED_FROM_PUBLISHED"])
def test_variant_create_on_an_archived_product_is_refused(draft_product_factory, variant_factory, state):
    product = product_in(state, draft_product_factory, variant_factory)
    before, variants_before = product_row(product), variant_rows(product)

    with pytest.raises(InvalidTransition) as raised:
        variant_create(product_id=product.pk, variant=VariantIn(sku="NEW-1", price=Decimal("1.00")), actor=None)

    assert raised.value.details == {"product_id": product.pk, "status": "ARCHIVED", "action": "add_variant"}
    assert product_row(product) == before
    assert variant_rows(product) == variants_before


@pytest.mark.parametrize("state", ["DRAFT", "PUBLISHED"])
def test_variant_create_on_a_draft_or_published_product(draft_product_factory, variant_factory, state):
    product = product_in(state, draft_product_factory, variant_factory)

    variant_create(product_id=product.pk, variant=VariantIn(sku="NEW-1", price=Decimal("1.00")), actor=None)

    assert product.variants.filter(sku="NEW-1").exists()


def test_variant_create_unknown_product_is_not_found():
    with pytest.raises(ProductNotFound):
        variant_create(product_id=999_999, variant=VariantIn(sku="X-1", price=Decimal("1.00")), actor=None)

    assert not Variant.objects.exists()


def test_variant_update_changes_fields_and_bumps_the_product_version(variant_factory):
    variant = variant_factory(sku="V-1", price=Decimal("1.00"), name="Old")
    version = product_row(variant.product)["version"]

    updated = variant_update(
        variant_id=variant.pk,
        changes={"price": Decimal("2.50"), "name": "  New ", "options": {"size": "S"}, "is_active": False},
        actor=None,
    )

    assert (updated.sku, updated.price, updated.name, updated.options, updated.is_active) == (
        "V-1",
        Decimal("2.50"),
        "New",
        {"size": "S"},
        False,
    )
    assert product_row(variant.product)["version"] == version + 1


def test_variant_update_unknown_variant_is_not_found():
    with pytest.raises(VariantNotFound) as raised:
        variant_update(variant_id=999_999, changes={"price": Decimal("1.00")}, actor=None)

    assert (raised.value.code, raised.value.status) == ("not_found", 404)


def test_variant_update_sku_is_not_editable(variant_factory):
    variant = variant_factory(sku="V-1")

    with pytest.raises(ValueError, match="sku"):
        variant_update(variant_id=variant.pk, changes={"sku": "V-2"}, actor=None)

    assert Variant.objects.get(pk=variant.pk).sku == "V-1"
