from decimal import Decimal

import pytest

from tests.carts.factories import CartFactory
from tests.stock import only_variant


@pytest.fixture
def cart_factory():
    return CartFactory


@pytest.fixture
def widget(product_factory):
    """A PUBLISHED one-variant product's variant: 150.00, 500 units at MAIN/DEFAULT."""
    return only_variant(product_factory(sku="WIDGET-A", name="Widget A", price=Decimal("150.00"), stock_quantity=500))


@pytest.fixture
def gadget(product_factory):
    """A PUBLISHED one-variant product's variant: 9.99, 10 units at MAIN/DEFAULT."""
    return only_variant(product_factory(sku="GADGET-B", name="Gadget B", price=Decimal("9.99"), stock_quantity=10))
