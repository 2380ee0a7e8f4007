"""Variants: the sellable SKUs of a product."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models.functions import Now

from accounts.models import User
from catalog.exceptions import InvalidTransition, SkuTaken, VariantNotFound
from catalog.locks import product_lock, product_touch
from catalog.models import Product, ProductStatus, Variant
from catalog.services.audit import changes_recorded, creations_recorded
from catalog.validators import sku_normalize
from config.db import unique_violation

EDITABLE_FIELDS = frozenset({"name", "options", "price", "is_active"})


@dataclass(frozen=True)
class VariantIn:
    sku: str
    price: Decimal
    name: str = ""
    options: dict = field(default_factory=dict)
    is_active: bool = True


def variants_insert(*, product: Product, variants: Sequence[VariantIn], actor: User | None) -> list[Variant]:
    """Insert variants of ``product`` in one statement (their creation in the trail too); a taken SKU: ``SkuTaken``."""
    rows = [
        Variant(
            product=product,
            sku=sku_normalize(variant.sku),
            name=variant.name.strip(),
            options=variant.options,
            price=variant.price,
            is_active=variant.is_active,
        )
        for variant in variants
    ]
    skus = [row.sku for row in rows]
    duplicates = sorted({sku for sku in skus if skus.count(sku) > 1})
    if duplicates:
        raise SkuTaken("The same SKU is given twice.", sku=duplicates[0])
    try:
        with transaction.atomic():
            created = Variant.objects.bulk_create(rows)
    except IntegrityError as exc:
        if unique_violation(exc) is None:
            raise
        taken = sorted(Variant.objects.filter(sku__in=skus).values_list("sku", flat=True))
        sku = taken[0] if taken else skus[0]
        raise SkuTaken("A variant with this SKU already exists.", sku=sku) from exc
    creations_recorded(created, actor=actor)
    return created


@transaction.atomic
def variant_create(*, product_id: int, variant: VariantIn, actor: User | None) -> Variant:
    """Add a variant to a DRAFT or PUBLISHED product; an ARCHIVED one is closed for good."""
    product = product_lock(product_id=product_id)
    if product.status == ProductStatus.ARCHIVED:
        raise InvalidTransition(
            "Cannot add a variant to a product that is ARCHIVED.",
            product_id=product.pk,
            status=product.status,
            action="add_variant",
        )
    (created,) = variants_insert(product=product, variants=[variant], actor=actor)
    product_touch(product=product)
    return created


@transaction.atomic
def variant_update(*, variant_id: int, changes: dict, actor: User | None) -> Variant:
    """Change a variant's name, options, price or activity; its product's version moves too.

    The audit trail records the change (``actor``, when, old and new values) if any value changed.
    """
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    product_id = Variant.objects.filter(pk=variant_id).values_list("product_id", flat=True).first()
    if product_id is None:
        raise VariantNotFound("Variant not found.", variant_id=variant_id)
    product = product_lock(product_id=product_id)
    if changes:
        if "name" in changes:
            changes = {**changes, "name": changes["name"].strip()}
        with changes_recorded(Variant, pks=[variant_id], actor=actor):
            Variant.objects.filter(pk=variant_id).update(**changes, updated_at=Now())
        product_touch(product=product)
    return Variant.objects.select_related("product").get(pk=variant_id)
