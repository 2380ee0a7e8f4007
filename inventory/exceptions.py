from config.exceptions import DomainError


class ProductNotFound(DomainError):
    code = "product_not_found"
    status = 404


class ProductsUnavailable(DomainError):
    """Some requested products do not exist or are not for sale. details: product_ids."""

    code = "products_unavailable"
    status = 400


class SkuAlreadyExists(DomainError):
    code = "sku_taken"
    status = 409


class VersionConflict(DomainError):
    """The caller edited an outdated copy. details: product_id, expected_version, current_version."""

    code = "version_conflict"
    status = 409


class InsufficientStock(DomainError):
    """Not enough available stock. details: lines=[{product_id, sku, requested, available}], every short line."""

    code = "insufficient_stock"
    status = 400


class StockWouldGoNegative(DomainError):
    """An adjustment larger than the available stock. details: product_id, sku, delta, available."""

    code = "stock_would_go_negative"
    status = 409


class InsufficientReservedStock(DomainError):
    """Releasing or shipping more than is reserved: the caller's bookkeeping is wrong. details: lines."""

    code = "insufficient_reserved_stock"
    status = 409
