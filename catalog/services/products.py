"""Products and their lifecycle: DRAFT -> PUBLISHED -> ARCHIVED (and DRAFT -> ARCHIVED).

Every change locks the product row and bumps ``version``: it is the optimistic-locking token
for the product and its variants alike. Every change is recorded in the audit trail (who, when,
the new values; ``catalog.services.audit``) in its transaction.
"""

from collections.abc import Collection, Sequence

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Now
from django.utils import timezone

from accounts.models import User, audit_actor
from catalog.exceptions import InvalidTransition, UnknownReference, VersionConflict
from catalog.locks import product_lock
from catalog.models import Brand, Category, Product, ProductStatus, Variant
from catalog.selectors import product_only_variant
from catalog.services.audit import changes_recorded
from catalog.services.slugs import create_with_slug
from catalog.services.variants import VariantIn, variants_insert

PRODUCT_FIELDS = frozenset({"name", "description", "brand_id", "category_id"})
# On a product with exactly one variant these act on that variant (the seed-001 product shape).
SINGLE_VARIANT_FIELDS = frozenset({"price", "is_active"})
EDITABLE_FIELDS = PRODUCT_FIELDS | SINGLE_VARIANT_FIELDS

# action -> (statuses it may start from, status it leads to, timestamp it sets)
TRANSITIONS: dict[str, tuple[frozenset[str], str, str]] = {
    "publish": (frozenset({ProductStatus.DRAFT}), ProductStatus.PUBLISHED, "published_at"),
    "archive": (frozenset({ProductStatus.DRAFT, ProductStatus.PUBLISHED}), ProductStatus.ARCHIVED, "archived_at"),
}


def _references_check(*, brand_id: int | None, category_id: int | None) -> None:
    if brand_id is not None and not Brand.objects.filter(pk=brand_id).exists():
        raise UnknownReference("The brand does not exist.", field="brand_id", id=brand_id)
    if category_id is not None and not Category.objects.filter(pk=category_id).exists():
        raise UnknownReference("The category does not exist.", field="category_id", id=category_id)


@transaction.atomic
def product_create(
    *,
    name: str,
    description: str = "",
    slug: str | None = None,
    brand_id: int | None = None,
    category_id: int | None = None,
    variants: Sequence[VariantIn] = (),
    publish: bool = False,
    actor: User | None = None,
) -> Product:
    """Create a product, DRAFT or (with ``publish``) PUBLISHED, with its first variants.

    A PUBLISHED product needs a variant; it may be inactive (seed 001's ``is_active: false``
    product: published, but not for sale). ``actor`` None: a command (``seed_demo``) or a caller
    inside a request, whose user the trail then names.
    """
    name = name.strip()
    if publish and not variants:
        raise InvalidTransition(
            "A product needs at least one variant to be published.",
            product_id=None,
            status=ProductStatus.DRAFT,
            action="publish",
        )
    _references_check(brand_id=brand_id, category_id=category_id)
    status = ProductStatus.PUBLISHED if publish else ProductStatus.DRAFT
    with audit_actor(actor):
        product = create_with_slug(
            Product,
            name=name,
            slug=slug,
            create=lambda s: Product.objects.create(
                name=name,
                slug=s,
                description=description,
                brand_id=brand_id,
                category_id=category_id,
                status=status,
                published_at=timezone.now() if publish else None,
            ),
        )
    variants_insert(product=product, variants=variants, actor=actor)
    return product


def _version_check(product: Product, expected_versions: Collection[int]) -> None:
    stale = [version for version in expected_versions if version != product.version]
    if stale:
        raise VersionConflict(
            "The product was changed by someone else; reload it and try again.",
            product_id=product.pk,
            expected_version=stale[0],
            current_version=product.version,
        )


@transaction.atomic
def product_update(
    *, product_id: int, changes: dict, actor: User | None, expected_versions: Collection[int] = ()
) -> Product:
    """Change a product's fields; ``price`` and ``is_active`` change its only variant.

    Refused with ``VersionConflict`` when any version the caller edited (``expected_versions``:
    the body's ``version``, the ``If-Match`` header) is not the current one.
    """
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    product = product_lock(product_id=product_id)
    _version_check(product, expected_versions)
    if not changes:
        return product
    own = {key: value for key, value in changes.items() if key in PRODUCT_FIELDS}
    on_variant = {key: value for key, value in changes.items() if key in SINGLE_VARIANT_FIELDS}
    _references_check(brand_id=own.get("brand_id"), category_id=own.get("category_id"))
    if "name" in own:
        own["name"] = own["name"].strip()
    if on_variant:
        variant_id = product_only_variant(product_id=product.pk).pk
        with changes_recorded(Variant, pks=[variant_id], actor=actor):
            Variant.objects.filter(pk=variant_id).update(**on_variant, updated_at=Now())
    with changes_recorded(Product, pks=[product.pk], actor=actor):
        Product.objects.filter(pk=product.pk).update(**own, version=F("version") + 1, updated_at=Now())
    product.refresh_from_db()
    return product


def _transition(*, product_id: int, action: str, actor: User | None) -> Product:
    allowed_from, target, stamp = TRANSITIONS[action]
    product = product_lock(product_id=product_id)
    if product.status not in allowed_from:
        raise InvalidTransition(
            f"Cannot {action} a product that is {product.status}.",
            product_id=product.pk,
            status=product.status,
            action=action,
        )
    if target == ProductStatus.PUBLISHED and not product.variants.filter(is_active=True).exists():
        raise InvalidTransition(
            "A product needs at least one active variant to be published.",
            product_id=product.pk,
            status=product.status,
            action=action,
        )
    with changes_recorded(Product, pks=[product.pk], actor=actor, reason=action):
        Product.objects.filter(pk=product.pk).update(
            status=target, **{stamp: Now()}, version=F("version") + 1, updated_at=Now()
        )
    product.refresh_from_db()
    return product


@transaction.atomic
def product_publish(*, product_id: int, actor: User | None) -> Product:
    """DRAFT -> PUBLISHED: customers see it and may order its active variants."""
    return _transition(product_id=product_id, action="publish", actor=actor)


@transaction.atomic
def product_archive(*, product_id: int, actor: User | None = None) -> Product:
    """DRAFT or PUBLISHED -> ARCHIVED, for good: hidden from customers and no longer sold."""
    return _transition(product_id=product_id, action="archive", actor=actor)


@transaction.atomic
def product_delete(*, product_id: int, actor: User | None = None) -> None:
    """Delete a product with its variants and images; its trail and theirs stay, ending in a deletion row.

    Raises ``ProtectedError`` when stock rows or order items still point at a variant: the
    caller decides what to do instead (archive it).
    """
    product = product_lock(product_id=product_id)
    with audit_actor(actor):
        product.delete()
