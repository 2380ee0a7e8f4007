from decimal import Decimal

import factory

from accounts.models import Role, User
from inventory.models import Product
from inventory.services import product_create

DEFAULT_PASSWORD = "Correct-Horse-Battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    role = Role.CUSTOMER
    password = DEFAULT_PASSWORD

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return model_class.objects.create_user(*args, **kwargs)


class ProductFactory(factory.django.DjangoModelFactory):
    """Products made through ``product_create``, so their initial stock is in the ledger."""

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
        return product_create(actor=None, **kwargs)
