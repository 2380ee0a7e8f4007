"""The migrations that add the audit trail give every row that already exists a baseline history row.

The database is taken back to before the trail, filled through the historical models, then migrated
to the latest state (the fixture leaves it there whatever happens).
"""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from accounts.models import User
from catalog.models import Brand, Category, Product, Variant
from catalog.services.variants import variant_update
from inventory.models import Location, Warehouse
from tests.audit.helpers import entries, trail

BEFORE_THE_TRAIL = [
    ("accounts", "0002_token_family"),
    ("catalog", "0001_brands_categories_products_variants"),
    ("inventory", "0004_ledger_per_stock_row"),
]
BASELINE_REASON = "existed before the audit trail"


def _executor() -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    return executor


@pytest.fixture
def old_apps(transactional_db):
    try:
        executor = _executor()
        executor.migrate(BEFORE_THE_TRAIL)
        yield _executor().loader.project_state(BEFORE_THE_TRAIL).apps
    finally:
        executor = _executor()
        executor.migrate(executor.loader.graph.leaf_nodes())


def test_existing_rows_get_a_baseline_and_the_first_change_shows_its_old_values(old_apps, user_factory):
    old = {
        name: old_apps.get_model(app, name)
        for app, name in [
            ("accounts", "User"),
            ("catalog", "Brand"),
            ("catalog", "Category"),
            ("catalog", "Product"),
            ("catalog", "Variant"),
            ("inventory", "Warehouse"),
            ("inventory", "Location"),
        ]
    }
    old["User"].objects.create(email="old@example.com", role="INVENTORY_MANAGER", password="!")
    brand = old["Brand"].objects.create(name="Acme", slug="acme")
    old["Category"].objects.create(name="Lamps", slug="lamps")
    product = old["Product"].objects.create(name="Lamp", slug="lamp", status="DRAFT", brand=brand)
    old["Variant"].objects.create(product=product, sku="LAMP-1", price=Decimal("10.00"))
    warehouse = old["Warehouse"].objects.create(code="OLD", name="Old", priority=7)
    old["Location"].objects.create(warehouse=warehouse, code="DEFAULT")

    executor = _executor()
    executor.migrate(executor.loader.graph.leaf_nodes())

    existing = [
        User.objects.get(email="old@example.com"),
        Brand.objects.get(slug="acme"),
        Category.objects.get(slug="lamps"),
        Product.objects.get(slug="lamp"),
        Variant.objects.get(sku="LAMP-1"),
        Warehouse.objects.get(code="OLD"),
        Location.objects.get(warehouse__code="OLD"),
    ]
    for obj in existing:
        (baseline,) = trail(obj)
        assert (baseline.history_type, baseline.history_user_id, baseline.history_change_reason) == (
            "+",
            None,
            BASELINE_REASON,
        ), obj
    assert trail(existing[0])[0].role == "INVENTORY_MANAGER"
    assert not hasattr(trail(existing[0])[0], "password")
    assert (trail(existing[5])[0].priority, trail(existing[3])[0].brand_id) == (7, existing[1].pk)

    variant, admin_user = existing[4], user_factory(role="ADMIN")
    variant_update(variant_id=variant.pk, changes={"price": Decimal("12.00")}, actor=admin_user)

    assert entries(variant)[-1] == ("~", admin_user.pk, {"price": (Decimal("10.00"), Decimal("12.00"))})
