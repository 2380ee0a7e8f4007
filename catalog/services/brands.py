"""Brands."""

from django.db import transaction

from accounts.models import User, audit_actor
from catalog.models import Brand
from catalog.services.slugs import create_with_slug


@transaction.atomic
def brand_create(*, name: str, slug: str | None = None, actor: User | None = None) -> Brand:
    name = name.strip()
    with audit_actor(actor):
        return create_with_slug(Brand, name=name, slug=slug, create=lambda s: Brand.objects.create(name=name, slug=s))
