"""The catalog API: /brands, /categories, /variants/{id}/snapshot, and who may call what."""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from catalog.models import Brand, Category
from catalog.services.brands import brand_create
from catalog.services.categories import category_update
from catalog.services.products import product_archive
from catalog.services.variants import variant_update
from tests.assertions import error_of, field_errors
from tests.locking import assert_database_busy, held_in_another_transaction
from tests.stock import only_variant

pytestmark = pytest.mark.django_db

BRAND_FIELDS = {"id", "name", "slug"}
CATEGORY_FIELDS = {"id", "name", "slug", "parent_id", "description", "sort_order", "is_active"}
SNAPSHOT_FIELDS = {"product_id", "product_name", "variant_id", "variant_name", "sku", "price", "currency"}


def brands() -> list[tuple[str, str]]:
    return list(Brand.objects.order_by("pk").values_list("name", "slug"))


def categories() -> list[dict]:
    return list(Category.objects.order_by("pk").values())


# --- roles: customers 403 on every write, anonymous 401 everywhere


@pytest.fixture
def paths(category_factory, product_factory):
    """Every catalog endpoint of this app as (method, path, body, format), with real ids."""
    category = category_factory()
    product = product_factory()
    return {
        "brand_list": ("get", "/brands", None),
        "brand_create": ("post", "/brands", {"name": "Acme"}),
        "category_list": ("get", "/categories", None),
        "category_retrieve": ("get", f"/categories/{category.pk}", None),
        "category_create": ("post", "/categories", {"name": "Tools"}),
        "category_update": ("patch", f"/categories/{category.pk}", {"name": "Renamed"}),
        "snapshot": ("get", f"/variants/{only_variant(product).pk}/snapshot", None),
        "image_add": ("post", f"/products/{product.pk}/images", {}),
        "image_delete": ("delete", f"/products/{product.pk}/images/1", None),
    }


WRITES = {"brand_create", "category_create", "category_update", "image_add", "image_delete"}


@pytest.mark.parametrize(
    "endpoint",
    [
        "brand_list",
        "brand_create",
        "category_list",
        "category_retrieve",
        "category_create",
        "category_update",
        "snapshot",
        "image_add",
        "image_delete",
    ],
)
def test_anonymous_is_refused_everywhere(paths, endpoint):
    method, path, body = paths[endpoint]
    before = (brands(), categories())

    response = getattr(APIClient(), method)(path, body)

    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"
    assert (brands(), categories()) == before


@pytest.mark.parametrize("endpoint", sorted(WRITES))
def test_customer_is_refused_every_write(paths, customer_client, endpoint):
    method, path, body = paths[endpoint]
    before = (brands(), categories())

    response = getattr(customer_client, method)(path, body, format="multipart" if endpoint == "image_add" else None)

    assert response.status_code == 403
    error = error_of(response)
    assert (error["code"], error["message"]) == (
        "staff_required",
        "Only staff (admins or inventory managers) may do this.",
    )
    assert (brands(), categories()) == before


@pytest.mark.parametrize("role", [Role.ADMIN, Role.INVENTORY_MANAGER, Role.CUSTOMER])
@pytest.mark.parametrize("endpoint", ["brand_list", "category_list", "category_retrieve", "snapshot"])
def test_every_role_reads(paths, client_for, user_factory, role, endpoint):
    method, path, _ = paths[endpoint]

    response = getattr(client_for(user_factory(role=role)), method)(path)

    assert response.status_code == 200, response.content


@pytest.mark.parametrize("role", [Role.ADMIN, Role.INVENTORY_MANAGER])
def test_both_staff_roles_write(client_for, user_factory, role):
    client = client_for(user_factory(role=role))

    brand = client.post("/brands", {"name": f"Brand of {role}"})
    category = client.post("/categories", {"name": f"Category of {role}"})
    renamed = client.patch(f"/categories/{category.json()['id']}", {"name": "Renamed"})

    assert (brand.status_code, category.status_code, renamed.status_code) == (201, 201, 200)


# --- brands


def test_brand_create_answers_201_with_the_brand(admin_client):
    response = admin_client.post("/brands", {"name": "  Acme Tools  "})

    assert response.status_code == 201
    body = response.json()
    assert set(body) == BRAND_FIELDS
    assert body == {"id": body["id"], "name": "Acme Tools", "slug": "acme-tools"}
    assert brands() == [("Acme Tools", "acme-tools")]


def test_brand_create_explicit_slug_is_trimmed_and_lower_cased(admin_client):
    response = admin_client.post("/brands", {"name": "Acme", "slug": "  ACME-Pro "})

    assert response.status_code == 201
    assert response.json()["slug"] == "acme-pro"
    assert brands() == [("Acme", "acme-pro")]


@pytest.mark.parametrize("slug", ["acme", "ACME", " Acme"])
def test_brand_create_explicit_slug_taken_is_409(admin_client, brand_factory, slug):
    brand_factory(name="Acme", slug="acme")
    before = brands()

    response = admin_client.post("/brands", {"name": "Another", "slug": slug})

    assert response.status_code == 409
    error = error_of(response)
    assert (error["code"], error["details"]) == ("slug_taken", {"slug": "acme"})
    assert "acme" in error["message"]
    assert brands() == before


def test_brand_create_generated_slug_taken_gets_a_suffix(admin_client, brand_factory):
    brand_factory(name="Acme")

    response = admin_client.post("/brands", {"name": "ACME"})

    assert response.status_code == 201
    assert response.json()["slug"] == "acme-2"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "Acme", "slug": "not a slug"}, "slug"),
        ({"name": "Acme", "slug": ""}, "slug"),
        ({"name": "Acme", "slug": "s" * 121}, "slug"),
    ],
)
def test_brand_create_bad_body_is_400(admin_client, body, field):
    response = admin_client.post("/brands", body)

    assert list(field_errors(response)) == [field]
    assert brands() == []


def test_brand_list_is_ordered_by_name(customer_client, brand_factory):
    for name in ["Zeta", "alpha", "Mid", "beta", "Beta"]:
        brand_factory(name=name)

    response = customer_client.get("/brands")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 5
    by_name = ["alpha", "beta", "Beta", "Mid", "Zeta"]  # case ignored, then oldest first
    assert [brand["name"] for brand in body["results"]] == by_name
    assert all(set(brand) == BRAND_FIELDS for brand in body["results"])


# --- categories


def test_category_create_answers_201_with_every_field(admin_client, category_factory):
    parent = category_factory(name="Tools")

    response = admin_client.post(
        "/categories",
        {
            "name": " Hand Tools ",
            "slug": " HAND-Tools",
            "parent_id": parent.pk,
            "description": "Hammers",
            "sort_order": 2,
            "is_active": False,
        },
    )

    assert response.status_code == 201
    body = response.json()
    assert body == {
        "id": body["id"],
        "name": "Hand Tools",
        "slug": "hand-tools",
        "parent_id": parent.pk,
        "description": "Hammers",
        "sort_order": 2,
        "is_active": False,
    }
    assert Category.objects.get(pk=body["id"]).slug == "hand-tools"


def test_category_create_defaults(admin_client):
    response = admin_client.post("/categories", {"name": "Tools"})

    assert response.status_code == 201
    body = response.json()
    assert body == {
        "id": body["id"],
        "name": "Tools",
        "slug": "tools",
        "parent_id": None,
        "description": "",
        "sort_order": 0,
        "is_active": True,
    }


def test_category_create_explicit_slug_taken_is_409(admin_client, category_factory):
    category_factory(name="Tools", slug="tools")
    before = categories()

    response = admin_client.post("/categories", {"name": "Other", "slug": "TOOLS"})

    assert response.status_code == 409
    error = error_of(response)
    assert (error["code"], error["details"]) == ("slug_taken", {"slug": "tools"})
    assert categories() == before


def test_category_create_generated_slug_gets_a_suffix(admin_client, category_factory):
    category_factory(name="Tools")

    response = admin_client.post("/categories", {"name": "tools"})

    assert (response.status_code, response.json()["slug"]) == (201, "tools-2")


def test_category_create_unknown_parent_is_400(admin_client):
    response = admin_client.post("/categories", {"name": "Orphan", "parent_id": 999_999})

    assert response.status_code == 400
    error = error_of(response)
    assert (error["code"], error["details"]) == ("unknown_reference", {"field": "parent_id", "id": 999_999})
    assert categories() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Tools", "sort_order": -1}, "sort_order"),
        ({"name": "Tools", "sort_order": "first"}, "sort_order"),
        ({"name": "Tools", "parent_id": 0}, "parent_id"),
        ({"name": "Tools", "parent_id": "x"}, "parent_id"),
        ({"name": "Tools", "is_active": "maybe"}, "is_active"),
        ({"name": ""}, "name"),
        ({"name": "Tools", "slug": "with space"}, "slug"),
    ],
)
def test_category_create_bad_body_is_400(admin_client, body, field):
    response = admin_client.post("/categories", body)

    assert list(field_errors(response)) == [field]
    assert categories() == []


def test_category_list_is_ordered_by_sort_order_then_name(admin_client, category_factory):
    category_factory(name="Zeta", sort_order=0)
    category_factory(name="Beta", sort_order=1)
    category_factory(name="Alpha", sort_order=1)
    category_factory(name="Omega", sort_order=0)
    category_factory(name="gamma", sort_order=1)

    response = admin_client.get("/categories")

    assert response.status_code == 200
    results = response.json()["results"]
    assert [(c["sort_order"], c["name"]) for c in results] == [
        (0, "Omega"),
        (0, "Zeta"),
        (1, "Alpha"),
        (1, "Beta"),
        (1, "gamma"),
    ]
    assert all(set(c) == CATEGORY_FIELDS for c in results)


def test_category_list_customers_see_active_categories_only(client_for, customer, admin_user, category_factory):
    """Decision: each category is shown to customers by its own ``is_active`` flag; staff see every category."""
    root = category_factory(name="Active root")
    category_factory(name="Hidden", is_active=False)
    category_factory(name="Active child", parent=root)

    as_customer = client_for(customer).get("/categories").json()["results"]
    as_staff = client_for(admin_user).get("/categories").json()["results"]

    assert [c["name"] for c in as_customer] == ["Active child", "Active root"]
    assert [c["name"] for c in as_staff] == ["Active child", "Active root", "Hidden"]


def test_category_retrieve_of_an_inactive_category_is_404_for_customers(
    client_for, customer, admin_user, category_factory
):
    hidden = category_factory(name="Hidden", is_active=False)

    as_customer = client_for(customer).get(f"/categories/{hidden.pk}")
    as_staff = client_for(admin_user).get(f"/categories/{hidden.pk}")

    assert as_customer.status_code == 404
    assert error_of(as_customer)["code"] == "not_found"
    assert (as_staff.status_code, as_staff.json()["name"]) == (200, "Hidden")


def test_category_update_answers_200_with_the_category(manager_client, tree):
    response = manager_client.patch(
        f"/categories/{tree['child'].pk}",
        {"name": " Moved ", "parent_id": tree["other"].pk, "description": "d", "sort_order": 5, "is_active": False},
    )

    assert response.status_code == 200
    assert response.json() == {
        "id": tree["child"].pk,
        "name": "Moved",
        "slug": "child",
        "parent_id": tree["other"].pk,
        "description": "d",
        "sort_order": 5,
        "is_active": False,
    }
    assert Category.objects.get(pk=tree["grandchild"].pk).parent_id == tree["child"].pk


def test_category_update_to_the_root(admin_client, tree):
    response = admin_client.patch(f"/categories/{tree['child'].pk}", {"parent_id": None})

    assert (response.status_code, response.json()["parent_id"]) == (200, None)


def test_category_update_empty_body_changes_nothing(admin_client, tree):
    before = categories()

    response = admin_client.patch(f"/categories/{tree['root'].pk}", {})

    assert (response.status_code, response.json()["name"]) == (200, "Root")
    assert categories() == before


@pytest.mark.parametrize("new_parent", ["root", "child", "grandchild"])
def test_category_update_cycle_is_400_and_changes_nothing(admin_client, tree, new_parent):
    before = categories()
    target = tree[new_parent].pk

    response = admin_client.patch(f"/categories/{tree['root'].pk}", {"parent_id": target, "name": "Renamed"})

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "category_cycle"
    assert error["details"] == {"category_id": tree["root"].pk, "parent_id": target}
    assert categories() == before


def test_category_update_unknown_parent_is_400(admin_client, tree):
    before = categories()

    response = admin_client.patch(f"/categories/{tree['child'].pk}", {"parent_id": 999_999})

    assert response.status_code == 400
    assert error_of(response)["code"] == "unknown_reference"
    assert categories() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"slug": "new-slug"}, "slug"),
        ({"sort_order": -1}, "sort_order"),
        ({"name": ""}, "name"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_category_update_bad_body_is_400(admin_client, tree, body, field):
    before = categories()

    response = admin_client.patch(f"/categories/{tree['root'].pk}", body)

    assert list(field_errors(response)) == [field]
    assert categories() == before


def test_category_update_slug_is_refused_with_a_hint(admin_client, tree):
    response = admin_client.patch(f"/categories/{tree['root'].pk}", {"slug": "new-slug"})

    assert error_of(response)["details"]["fields"] == {"slug": ["A category's slug does not change."]}


@pytest.mark.parametrize("path", ["/categories/999999", "/categories/999999/"])
def test_category_update_unknown_category_is_404(admin_client, path):
    response = admin_client.patch(path, {"name": "x"})

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


# --- variant snapshots


def test_snapshot_of_a_sellable_variant(customer_client, product_factory):
    product = product_factory(name="Widget", sku="wid-1", price=Decimal("12.50"))
    variant = only_variant(product)

    response = customer_client.get(f"/variants/{variant.pk}/snapshot")

    assert response.status_code == 200
    assert response.json() == {
        "product_id": product.pk,
        "product_name": "Widget",
        "variant_id": variant.pk,
        "variant_name": "",
        "sku": "WID-1",
        "price": "12.50",
        "currency": "USD",
    }


def test_snapshot_shows_the_configured_currency_and_the_variant_name(
    settings, admin_client, draft_product_factory, variant_factory
):
    settings.CURRENCY = "EUR"
    product = draft_product_factory(name="Shirt")
    variant = variant_factory(product=product, sku="SHIRT-M", name="Medium", price=Decimal("20"))
    admin_client.post(f"/products/{product.pk}/publish")

    response = admin_client.get(f"/variants/{variant.pk}/snapshot")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == SNAPSHOT_FIELDS
    assert (body["variant_name"], body["price"], body["currency"]) == ("Medium", "20.00", "EUR")


@pytest.mark.parametrize("role", [Role.ADMIN, Role.INVENTORY_MANAGER, Role.CUSTOMER])
@pytest.mark.parametrize("state", ["draft", "archived", "inactive_variant", "unknown"])
def test_snapshot_of_an_unsellable_variant_is_404_for_everyone(
    client_for, user_factory, product_factory, variant_factory, role, state
):
    if state == "draft":
        variant_id = variant_factory().pk  # its product is a DRAFT
    elif state == "archived":
        variant = only_variant(product_factory())
        product_archive(product_id=variant.product_id)
        variant_id = variant.pk
    elif state == "inactive_variant":
        variant = only_variant(product_factory())
        variant_update(variant_id=variant.pk, changes={"is_active": False}, actor=None)
        variant_id = variant.pk
    else:
        variant_id = 999_999

    response = client_for(user_factory(role=role)).get(f"/variants/{variant_id}/snapshot")

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_snapshot_of_an_inactive_variant_of_a_product_with_another_active_one(admin_client, product_factory):
    product = product_factory()
    active = only_variant(product)
    inactive = admin_client.post(f"/products/{product.pk}/variants", {"sku": "OTHER-1", "price": "1.00"}).json()
    variant_update(variant_id=inactive["id"], changes={"is_active": False}, actor=None)

    assert admin_client.get(f"/variants/{active.pk}/snapshot").status_code == 200
    assert admin_client.get(f"/variants/{inactive['id']}/snapshot").status_code == 404


# --- a lock held elsewhere answers 503, never a 500


@pytest.mark.django_db(transaction=True)
def test_category_update_of_a_locked_category_is_503(settings, admin_client, category_factory):
    settings.STOCK_LOCK_TIMEOUT_MS = 200
    category = category_factory(name="Tools")
    before = categories()

    with held_in_another_transaction(lambda: Category.objects.select_for_update().get(pk=category.pk)):
        response = admin_client.patch(f"/categories/{category.pk}", {"name": "Renamed"})

    assert_database_busy(response)
    assert categories() == before


@pytest.mark.django_db(transaction=True)
def test_brand_create_while_the_same_name_is_being_created_is_503(settings, admin_client):
    settings.STOCK_LOCK_TIMEOUT_MS = 200

    with held_in_another_transaction(lambda: brand_create(name="Acme")):
        response = admin_client.post("/brands", {"name": "ACME"})

    assert_database_busy(response)
    assert brands() == [("Acme", "acme")]


@pytest.mark.django_db(transaction=True)
def test_brand_create_with_a_slug_being_taken_elsewhere_is_503(settings, admin_client):
    settings.STOCK_LOCK_TIMEOUT_MS = 200

    with held_in_another_transaction(lambda: brand_create(name="Acme", slug="acme")):
        response = admin_client.post("/brands", {"name": "Other", "slug": "acme"})

    assert_database_busy(response)
    assert brands() == [("Acme", "acme")]


# --- concurrency (real threads)


@pytest.mark.django_db(transaction=True)
def test_brand_create_twice_at_once_with_one_name_makes_two_slugs(
    admin_user, inventory_manager, client_for, in_threads
):
    clients = [client_for(admin_user), client_for(inventory_manager)]

    responses = in_threads(
        lambda client: client.post("/brands", {"name": "Acme Tools"}), [{"client": c} for c in clients]
    )

    assert [response.status_code for response in responses] == [201, 201]
    assert sorted(response.json()["slug"] for response in responses) == ["acme-tools", "acme-tools-2"]
    assert sorted(brands()) == [("Acme Tools", "acme-tools"), ("Acme Tools", "acme-tools-2")]


@pytest.mark.django_db(transaction=True)
def test_category_moves_that_would_close_a_cycle_together_let_one_win(category_factory, in_threads):
    a, b = category_factory(name="A"), category_factory(name="B")

    outcomes = in_threads(
        category_update,
        [
            {"category_id": a.pk, "changes": {"parent_id": b.pk}, "actor": None},
            {"category_id": b.pk, "changes": {"parent_id": a.pk}, "actor": None},
        ],
    )

    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["Category", "CategoryCycle"]
    parents = dict(Category.objects.values_list("name", "parent_id"))
    assert parents in ({"A": b.pk, "B": None}, {"A": None, "B": a.pk})


@pytest.mark.django_db(transaction=True)
def test_category_edits_racing_a_move_of_the_same_rows_all_succeed(category_factory, in_threads):
    a, b = category_factory(name="A"), category_factory(name="B")

    outcomes = in_threads(
        category_update,
        [
            {"category_id": a.pk, "changes": {"name": "A2"}, "actor": None},
            {"category_id": a.pk, "changes": {"parent_id": b.pk}, "actor": None},
            {"category_id": b.pk, "changes": {"sort_order": 4}, "actor": None},
            {"category_id": b.pk, "changes": {"name": "B2", "is_active": False}, "actor": None},
        ],
    )

    assert [type(outcome).__name__ for outcome in outcomes] == ["Category"] * 4, outcomes
    rows = Category.objects.order_by("pk").values_list("name", "parent_id", "sort_order", "is_active")
    assert list(rows) == [("A2", b.pk, 0, True), ("B2", None, 4, False)]
