import threading
from collections.abc import Callable

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import Role
from catalog.models import Variant
from inventory.selectors import ledger_mismatches, reservation_mismatches
from orders.services.placement import OrderLine, order_place
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.catalog.factories import BrandFactory, CategoryFactory, DraftProductFactory, VariantFactory
from tests.inventory.factories import LocationFactory, StockedProductFactory, WarehouseFactory


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "stock_books_unchecked: the test breaks the stock books (or the database) on purpose; not checked after it",
    )


@pytest.fixture(autouse=True)
def stock_books_balance(request):
    """After every test that uses the database, ``check_stock``'s rules hold: every stock row equals
    its ledger, and its reserved units equal what its ALLOCATED reservations hold."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or request.node.get_closest_marker("stock_books_unchecked"):
        yield
        return
    request.getfixturevalue("transactional_db" if marker.kwargs.get("transaction") else "db")
    yield
    assert [row.pk for row in ledger_mismatches()] == []
    assert [row.pk for row in reservation_mismatches()] == []


@pytest.fixture
def password() -> str:
    return DEFAULT_PASSWORD


@pytest.fixture
def user_factory():
    return UserFactory


@pytest.fixture
def product_factory():
    """Seed 001's product: one variant, PUBLISHED, stock at MAIN/DEFAULT."""
    return StockedProductFactory


@pytest.fixture
def draft_product_factory():
    return DraftProductFactory


@pytest.fixture
def variant_factory():
    return VariantFactory


@pytest.fixture
def brand_factory():
    return BrandFactory


@pytest.fixture
def category_factory():
    return CategoryFactory


@pytest.fixture
def warehouse_factory():
    return WarehouseFactory


@pytest.fixture
def location_factory():
    return LocationFactory


@pytest.fixture
def product(product_factory):
    return product_factory()


@pytest.fixture
def customer(user_factory):
    return user_factory(role=Role.CUSTOMER)


@pytest.fixture
def admin_user(user_factory):
    return user_factory(role=Role.ADMIN)


@pytest.fixture
def inventory_manager(user_factory):
    return user_factory(role=Role.INVENTORY_MANAGER)


def order_line(item, quantity: int) -> OrderLine:
    """A line naming a variant by id, or a one-variant product by its product id."""
    if isinstance(item, Variant):
        return OrderLine(quantity=quantity, variant_id=item.pk)
    return OrderLine(quantity=quantity, product_id=item.pk)


@pytest.fixture
def place_order():
    """Place an order through the real service: ``place_order(customer, [(product or variant, quantity), ...])``."""

    def place(customer, lines, **kwargs):
        return order_place(customer=customer, lines=[order_line(item, n) for item, n in lines], **kwargs).order

    return place


@pytest.fixture(params=["admin", "inventory_manager"])
def staff_user(request, admin_user, inventory_manager):
    """Each staff role in turn."""
    return admin_user if request.param == "admin" else inventory_manager


@pytest.fixture
def staff_browser(client, staff_user):
    """A Django test client logged in to the admin as ``staff_user``."""
    client.force_login(staff_user)
    return client


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for(api_client, password) -> Callable[..., APIClient]:
    """An API client carrying a real access token for ``user`` (obtained through /auth/login)."""

    def make(user) -> APIClient:
        client = APIClient()
        response = client.post("/auth/login", {"email": user.email, "password": password}, format="json")
        assert response.status_code == 200, response.content
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access_token']}")
        return client

    return make


@pytest.fixture
def customer_client(client_for, customer) -> APIClient:
    return client_for(customer)


@pytest.fixture
def admin_client(client_for, admin_user) -> APIClient:
    return client_for(admin_user)


@pytest.fixture
def manager_client(client_for, inventory_manager) -> APIClient:
    return client_for(inventory_manager)


def run_in_threads(function: Callable, calls: list[dict]) -> list:
    """Run ``function(**kwargs)`` for each call at the same moment, each thread on its own connection.

    Returns what each call returned or raised, in the order of ``calls``.
    """
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def worker(index: int, kwargs: dict) -> None:
        try:
            barrier.wait()
            outcomes[index] = function(**kwargs)
        except Exception as exc:
            outcomes[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, kwargs)) for i, kwargs in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.fixture
def in_threads():
    return run_in_threads
