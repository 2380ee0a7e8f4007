"""The product endpoints under a held product lock, and concurrent edits of one product, with real threads."""

import pytest

from catalog.models import Product, Variant
from tests.assertions import error_of
from tests.locking import assert_database_busy, held_in_another_transaction
from tests.stock import only_variant

# name: (method, path, body)
LOCKING_ENDPOINTS = {
    "patch_product": ("patch", "/products/{id}", {"name": "Renamed"}),
    "patch_price": ("patch", "/products/{id}", {"price": "12.00"}),
    "patch_variant": ("patch", "/variants/{variant_id}", {"price": "12.00"}),
    "add_variant": ("post", "/products/{id}/variants", {"sku": "LOCKED-2", "price": "1"}),
    "archive": ("post", "/products/{id}/archive", None),
    "delete": ("delete", "/products/{id}", None),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("endpoint", list(LOCKING_ENDPOINTS))
def test_a_held_product_lock_answers_database_busy_not_a_500(admin_client, product_factory, settings, endpoint):
    settings.STOCK_LOCK_TIMEOUT_MS = 200
    product = product_factory(sku="LOCKED-1")
    variant = only_variant(product)
    before = (list(Product.objects.values()), list(Variant.objects.values()))
    method, path, body = LOCKING_ENDPOINTS[endpoint]
    url = path.format(id=product.pk, variant_id=variant.pk)

    with held_in_another_transaction(lambda: Product.objects.select_for_update().get(pk=product.pk)):
        response = getattr(admin_client, method)(url, body) if body else getattr(admin_client, method)(url)

    assert_database_busy(response)
    assert (list(Product.objects.values()), list(Variant.objects.values())) == before


@pytest.mark.django_db(transaction=True)
def test_concurrent_patches_with_the_same_version_let_exactly_one_win(
    product_factory, admin_user, inventory_manager, client_for, in_threads
):
    product = product_factory()
    clients = [client_for(user) for user in (admin_user, inventory_manager, admin_user, inventory_manager)]

    def patch(client, name):
        return client.patch(f"/products/{product.pk}", {"name": name}, HTTP_IF_MATCH='"1"')

    responses = in_threads(patch, [{"client": c, "name": f"Edit {i}"} for i, c in enumerate(clients)])

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 409, 409, 409]
    winner = next(response for response in responses if response.status_code == 200)
    product.refresh_from_db()
    assert (product.name, product.version) == (winner.json()["name"], 2)
    for response in responses:
        if response.status_code == 409:
            assert error_of(response)["code"] == "version_conflict"


@pytest.mark.django_db(transaction=True)
def test_concurrent_variant_creates_with_one_sku_make_one_variant(
    product_factory, draft_product_factory, admin_user, client_for, in_threads
):
    products = [draft_product_factory() for _ in range(4)]
    clients = [client_for(admin_user) for _ in products]

    def add(client, product_id):
        return client.post(f"/products/{product_id}/variants", {"sku": "RACE-1", "price": "1"})

    responses = in_threads(add, [{"client": c, "product_id": p.pk} for c, p in zip(clients, products, strict=True)])

    assert sorted(response.status_code for response in responses) == [201, 409, 409, 409]
    assert Variant.objects.filter(sku="RACE-1").count() == 1
    for response in responses:
        if response.status_code == 409:
            assert error_of(response) | {"message": "", "request_id": ""} == {
                "code": "sku_taken",
                "message": "",
                "details": {"sku": "RACE-1"},
                "request_id": "",
            }
