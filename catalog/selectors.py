"""Reads of the catalog, scoped to what the caller may see."""

from collections.abc import Iterable

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Lower

from accounts.models import User
from catalog.exceptions import VariantRequired
from catalog.models import Brand, Category, Product, ProductStatus, Variant


def sellable_condition(prefix: str = "") -> Q:
    """A variant may be sold: it is active and its product is PUBLISHED (``prefix`` reaches the variant)."""
    return Q(**{f"{prefix}is_active": True, f"{prefix}product__status": ProductStatus.PUBLISHED})


def brand_list() -> QuerySet[Brand]:
    """Brands by name, ignoring case whatever the database's collation ("acme" between "Abc" and "Beta")."""
    return Brand.objects.order_by(Lower("name"), "id")


def category_list(*, user: User | None = None) -> QuerySet[Category]:
    """Categories by ``sort_order`` then name. Customers see the active ones only (each by its own flag);
    staff, and internal callers that name no user, see them all."""
    categories = Category.objects.order_by("sort_order", Lower("name"), "id")
    return categories if user is None or user.is_staff else categories.filter(is_active=True)


def category_descendant_ids(*, category_id: int) -> set[int]:
    """Every category below ``category_id`` in the tree (one recursive query)."""
    table = Category._meta.db_table
    rows = Category.objects.raw(
        f"""
        WITH RECURSIVE below AS (
            SELECT id FROM {table} WHERE parent_id = %s
            UNION SELECT c.id FROM {table} c JOIN below b ON c.parent_id = b.id
        )
        SELECT id FROM below
        """,
        [category_id],
    )
    return {row.pk for row in rows}


def product_list(*, user: User) -> QuerySet[Product]:
    """Staff see every product; customers only PUBLISHED ones with at least one active variant."""
    products = Product.objects.all()
    if user.is_staff:
        return products
    active_variant = Variant.objects.filter(product=OuterRef("pk"), is_active=True)
    return products.filter(Exists(active_variant), status=ProductStatus.PUBLISHED)


def variant_list(*, user: User) -> QuerySet[Variant]:
    """Variants the caller may see: staff all; customers the sellable ones."""
    variants = Variant.objects.select_related("product")
    return variants if user.is_staff else variants.filter(sellable_condition())


def product_only_variant(*, product_id: int) -> Variant:
    """The variant of a product that has exactly one (the seed-001 shape); ``VariantRequired`` otherwise."""
    variants = list(Variant.objects.filter(product_id=product_id).order_by("pk")[:2])
    if len(variants) != 1:
        raise VariantRequired(
            "This product does not have exactly one variant: name the variant instead.", product_ids=[product_id]
        )
    return variants[0]


def variants_for_sale(
    *, variant_ids: Iterable[int] = (), product_ids: Iterable[int] = (), skus: Iterable[str] = ()
) -> list[Variant]:
    """Every variant named by id or SKU, and every variant of the products named, with its product (one query).

    The caller decides which are sellable (``variant_is_sellable``) and which products have one variant.
    """
    condition = Q(pk__in=list(variant_ids)) | Q(product_id__in=list(product_ids)) | Q(sku__in=list(skus))
    return list(Variant.objects.select_related("product").filter(condition).order_by("pk"))


def variant_is_sellable(variant: Variant) -> bool:
    return variant.is_active and variant.product.status == ProductStatus.PUBLISHED


def variant_snapshot(*, variant_id: int) -> dict | None:
    """What an order copies of a sellable variant, or None if it is not for sale."""
    variant = Variant.objects.select_related("product").filter(sellable_condition(), pk=variant_id).first()
    if variant is None:
        return None
    return {
        "product_id": variant.product_id,
        "product_name": variant.product.name,
        "variant_id": variant.pk,
        "variant_name": variant.name,
        "sku": variant.sku,
        "price": variant.price,
        "currency": settings.CURRENCY,
    }
