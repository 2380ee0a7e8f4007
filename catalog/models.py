"""The catalog: brands, categories, products and their sellable variants. No stock lives here.

Brands, categories, products and variants keep an audit trail (``history``: who changed which
value, when; written by ``catalog.services`` in the same transaction as the change).

Slugs are stored lower-case and SKUs upper-case (CHECK constraints hold it), so the unique
indexes make both unique regardless of the case a client sends.
"""

from django.db import models
from django.db.models.functions import Lower, Upper

from accounts.models import AuditTrail


class Brand(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=120, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = AuditTrail()

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(slug=Lower("slug")), name="brand_slug_lowercase")]

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    """A node of the category tree; ``parent`` is null for a root."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=120, unique=True)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    description = models.TextField(blank=True, default="")
    sort_order = models.IntegerField(default=0)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = AuditTrail()

    class Meta:
        ordering = ["sort_order", "name", "id"]
        verbose_name_plural = "categories"
        constraints = [
            models.CheckConstraint(condition=models.Q(slug=Lower("slug")), name="category_slug_lowercase"),
            models.CheckConstraint(condition=models.Q(sort_order__gte=0), name="category_sort_order_nonnegative"),
            models.CheckConstraint(condition=~models.Q(parent=models.F("pk")), name="category_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.name


class ProductStatus(models.TextChoices):
    DRAFT = "DRAFT", "Draft"
    PUBLISHED = "PUBLISHED", "Published"
    ARCHIVED = "ARCHIVED", "Archived"


class Product(models.Model):
    """A catalog entry. It is sold through its variants; its status moves only through ``catalog.services``."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    description = models.TextField(blank=True, default="")
    brand = models.ForeignKey(Brand, null=True, blank=True, on_delete=models.PROTECT, related_name="products")
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT, related_name="products")
    status = models.CharField(max_length=16, choices=ProductStatus.choices, default=ProductStatus.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, help_text="Bumped on every change (optimistic locking).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # ``version`` moves with every variant change too: a locking token, not a value of the product.
    history = AuditTrail(excluded_fields=["version", "updated_at"])

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=ProductStatus.values), name="product_status_valid"),
            models.CheckConstraint(condition=models.Q(slug=Lower("slug")), name="product_slug_lowercase"),
            models.CheckConstraint(
                condition=~models.Q(status=ProductStatus.PUBLISHED) | models.Q(published_at__isnull=False),
                name="product_published_has_date",
            ),
            models.CheckConstraint(
                condition=~models.Q(status=ProductStatus.ARCHIVED) | models.Q(archived_at__isnull=False),
                name="product_archived_has_date",
            ),
        ]
        indexes = [models.Index(fields=["status", "name"], name="product_status_name_idx")]

    def __str__(self) -> str:
        return self.name


class Variant(models.Model):
    """A sellable unit of a product: one SKU at one price, described by a name or option values."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="variants")
    sku = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200, blank=True, default="")
    options = models.JSONField(default=dict, blank=True)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = AuditTrail(excluded_fields=["updated_at"])  # the price history among the rest

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gte=0), name="variant_price_nonnegative"),
            models.CheckConstraint(condition=models.Q(sku=Upper("sku")), name="variant_sku_uppercase"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}".strip()


IMAGE_POSITION_MAX = 1_000_000


class ProductImage(models.Model):
    """A picture of a product, stored through Django's storage API (local media or S3-compatible)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="images")
    file = models.ImageField(upload_to="products/%Y/%m/", width_field="width", height_field="height")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    alt = models.CharField(max_length=255, blank=True, default="")
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.file.name
