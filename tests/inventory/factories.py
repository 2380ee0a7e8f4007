from decimal import Decimal

import factory

from catalog.models import Product
from inventory.models import Location, Warehouse
from inventory.services.products import product_create_with_stock
from inventory.services.warehouses import location_create, warehouse_create


class StockedProductFactory(factory.django.DjangoModelFactory):
    """Seed 001's product: PUBLISHED, one variant, its stock received into ``MAIN/DEFAULT`` (in the ledger)."""

    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Widget {n}")
    description = ""
    price = Decimal("10.00")
    stock_quantity = 100
    is_active = True

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return product_create_with_stock(actor=None, **kwargs)


class WarehouseFactory(factory.django.DjangoModelFactory):
    """A warehouse with its DEFAULT location, made through ``warehouse_create``."""

    class Meta:
        model = Warehouse

    code = factory.Sequence(lambda n: f"WH{n:03d}")
    name = factory.Sequence(lambda n: f"Warehouse {n}")
    priority = 100

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return warehouse_create(**kwargs)


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    warehouse = factory.SubFactory(WarehouseFactory)
    code = factory.Sequence(lambda n: f"A-{n:02d}")

    @classmethod
    def _create(cls, model_class, *args, warehouse, **kwargs):
        return location_create(warehouse_id=warehouse.pk, **kwargs)
