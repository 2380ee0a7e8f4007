from config.exceptions import DomainError


class SlugTaken(DomainError):
    """An explicit slug is already used. details: slug."""

    code = "slug_taken"
    status = 409


class SkuTaken(DomainError):
    """A variant with this SKU exists. details: sku."""

    code = "sku_taken"
    status = 409


class CategoryCycle(DomainError):
    """The new parent is the category itself or one of its descendants. details: category_id, parent_id."""

    code = "category_cycle"
    status = 400


class UnknownReference(DomainError):
    """A brand, category or parent id in the body does not exist. details: field, id."""

    code = "unknown_reference"
    status = 400


class InvalidTransition(DomainError):
    """The product's status does not allow this step. details: product_id, status, action."""

    code = "invalid_transition"
    status = 409


class VersionConflict(DomainError):
    """The caller edited an outdated copy. details: product_id, expected_version, current_version."""

    code = "version_conflict"
    status = 409


class ProductNotFound(DomainError):
    code = "not_found"
    status = 404


class VariantNotFound(DomainError):
    code = "not_found"
    status = 404


class CategoryNotFound(DomainError):
    code = "not_found"
    status = 404


class ProductImageNotFound(DomainError):
    code = "not_found"
    status = 404


class ProductsUnavailable(DomainError):
    """Some requested items do not exist or are not for sale. details: product_ids, variant_ids, skus."""

    code = "products_unavailable"
    status = 400


class VariantRequired(DomainError):
    """A product with several variants was named by product id. details: product_ids."""

    code = "variant_required"
    status = 400


class InvalidImage(DomainError):
    """The upload is not a PNG, JPEG or WebP picture Pillow can decode. details: reason."""

    code = "invalid_image"
    status = 400


class ImageTooLarge(DomainError):
    """The upload is over the size limit. details: max_bytes."""

    code = "image_too_large"
    status = 413
