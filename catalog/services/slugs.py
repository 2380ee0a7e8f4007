"""Unique slugs: an explicit slug must be free; one made from a name gets a numeric suffix when taken.

Slugs are stored trimmed and lower-case, so ``Acme`` and ``acme`` are the same slug.
"""

from collections.abc import Callable
from typing import TypeVar

from django.db import IntegrityError, models, transaction
from django.utils.text import slugify

from catalog.exceptions import SlugTaken
from catalog.locks import slug_lock
from config.db import lock_timeout_set, unique_violation

M = TypeVar("M", bound=models.Model)
ATTEMPTS = 5


def slug_normalize(slug: str) -> str:
    return slug.strip().lower()


def _slug_base(model: type[models.Model], name: str) -> str:
    max_length = model._meta.get_field("slug").max_length
    return slugify(name)[: max_length - 8].strip("-") or "item"


def _free_slug(model: type[models.Model], base: str) -> str:
    taken = set(model.objects.filter(slug__regex=rf"^{base}(-[0-9]+)?$").values_list("slug", flat=True))
    if base not in taken:
        return base
    suffix = 2
    while f"{base}-{suffix}" in taken:
        suffix += 1
    return f"{base}-{suffix}"


@transaction.atomic
def create_with_slug(model: type[M], *, name: str, slug: str | None, create: Callable[[str], M]) -> M:
    """Run ``create(slug)`` with ``slug`` (409 if taken) or with a free slug made from ``name``.

    Generated slugs from the same name are taken one transaction at a time (``slug_lock``); one
    that an explicit slug takes meanwhile is simply generated again.
    """
    lock_timeout_set()  # waiting for a concurrent insert of the same slug gives up too
    slug = slug_normalize(slug) if slug else ""
    slug_constraint = f"{model._meta.db_table}_slug_key"
    base = "" if slug else _slug_base(model, name)
    if base:
        slug_lock(model=model, base=base)
    for _ in range(ATTEMPTS):
        candidate = slug or _free_slug(model, base)
        try:
            with transaction.atomic():
                return create(candidate)
        except IntegrityError as exc:
            if unique_violation(exc) != slug_constraint:
                raise
            if slug:
                raise SlugTaken(f"The slug {candidate!r} is already used.", slug=candidate) from exc
    raise SlugTaken("Could not find a free slug; give one explicitly.", name=name)
