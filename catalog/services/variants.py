"""Variants: the sellable SKUs of a product."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models.functions import Now

from catalog.exceptions import InvalidTransition, SkuTaken, VariantNotFound
from catalog.locks import product_lock, product_touch
from catalog.models import Product, ProductStatus, Variant
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


def variants_insert(*, product: Product, variants: Sequence[VariantIn]) -> list[Variant]:
    """Insert variants of ``product`` in one statement; a taken SKU (any case) is ``SkuTaken``."""
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
            return Variant.objects.bulk_create(rows)
    except IntegrityError as exc:
        if unique_violation(exc) is None:
            raise
        taken = sorted(Variant.objects.filter(sku__in=skus).values_list("sku", flat=True))
        sku = taken[0] if taken else skus[0]
        raise SkuTaken("A variant with this SKU already exists.", sku=sku) from exc


@transaction.atomic
def variant_create(*, product_id: int, variant: VariantIn) -> Variant:
    """Add a variant to a DRAFT or PUBLISHED product; an ARCHIVED one is closed for good."""
    product = product_lock(product_id=product_id)
    if product.status == ProductStatus.ARCHIVED:
        raise InvalidTransition(
            "Cannot add a variant to a product that is ARCHIVED.",
            product_id=product.pk,
            status=product.status,
            action="add_variant",
        )
    (created,) = variants_insert(product=product, variants=[variant])
    product_touch(product=product)
    return created


@transaction.atomic
def variant_update(*, variant_id: int, changes: dict) -> Variant:
    """Change a variant's name, options, price or activity; its product's version moves too."""
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
        Variant.objects.filter(pk=variant_id).update(**changes, updated_at=Now())
        product_touch(product=product)
    return Variant.objects.select_related("product").get(pk=variant_id)
