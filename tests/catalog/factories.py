from decimal import Decimal

import factory

from catalog.models import Brand, Category, Product, Variant
from catalog.services.brands import brand_create
from catalog.services.categories import category_create
from catalog.services.products import product_create
from catalog.services.variants import VariantIn, variant_create


class BrandFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Brand

    name = factory.Sequence(lambda n: f"Brand {n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return brand_create(**kwargs)


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        parent = kwargs.pop("parent", None)
        if parent is not None:
            kwargs["parent_id"] = parent.pk
        return category_create(**kwargs)


class DraftProductFactory(factory.django.DjangoModelFactory):
    """A catalog product with no variants (DRAFT), made through ``product_create``."""

    class Meta:
        model = Product

    name = factory.Sequence(lambda n: f"Gadget {n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return product_create(**kwargs)


class VariantFactory(factory.django.DjangoModelFactory):
    """A variant of ``product`` (a new DRAFT product unless given), made through ``variant_create``."""

    class Meta:
        model = Variant

    product = factory.SubFactory(DraftProductFactory)
    sku = factory.Sequence(lambda n: f"VAR-{n:05d}")
    price = Decimal("10.00")
    name = ""
    options = factory.LazyFunction(dict)
    is_active = True

    @classmethod
    def _create(cls, model_class, *args, product, **kwargs):
        return variant_create(product_id=product.pk, variant=VariantIn(**kwargs), actor=None)
