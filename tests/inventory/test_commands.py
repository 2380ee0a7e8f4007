from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Role, User
from inventory.models import Product, StockMovement

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_check_stock_passes_on_a_consistent_ledger(product_factory):
    product_factory.create_batch(3)

    assert "consistent" in run("check_stock")


def test_check_stock_reports_mismatches_and_fails(product_factory):
    good, bad = product_factory(), product_factory(sku="BAD-1")
    Product.objects.filter(pk=bad.pk).update(stock_quantity=3)
    out = StringIO()

    with pytest.raises(CommandError, match="1 product"):
        call_command("check_stock", stdout=out)

    assert "BAD-1" in out.getvalue()
    assert "available 3 vs ledger 100" in out.getvalue()
    assert good.sku not in out.getvalue()


def test_seed_demo_creates_users_and_products_once(api_client):
    first = run("seed_demo", "--products", "4", "--customers", "2")
    second = run("seed_demo", "--products", "6", "--customers", "2")

    assert "Demo-Customer-Pass-1" in first
    assert "Demo-Customer-Pass-1" not in second
    assert "products: 2 created, 4 already there" in second
    assert Product.objects.filter(sku__startswith="DEMO-").count() == 6
    assert StockMovement.objects.count() == 6
    assert dict(User.objects.values_list("email", "role")) == {
        "admin@example.com": Role.ADMIN,
        "manager@example.com": Role.INVENTORY_MANAGER,
        "customer1@example.com": Role.CUSTOMER,
        "customer2@example.com": Role.CUSTOMER,
    }
    login = api_client.post("/auth/login", {"email": "customer1@example.com", "password": "Demo-Customer-Pass-1"})
    assert login.status_code == 200
    assert "consistent" in run("check_stock")
