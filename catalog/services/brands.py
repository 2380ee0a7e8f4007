"""Brands."""

from django.db import transaction

from catalog.models import Brand
from catalog.services.slugs import create_with_slug


@transaction.atomic
def brand_create(*, name: str, slug: str | None = None) -> Brand:
    name = name.strip()
    return create_with_slug(Brand, name=name, slug=slug, create=lambda s: Brand.objects.create(name=name, slug=s))
