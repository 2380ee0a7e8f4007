from config.exceptions import DomainError


class InsufficientStock(DomainError):
    """Not enough available stock.

    details: lines, every short one: {variant_id, product_id, sku, requested, available}.
    """

    code = "insufficient_stock"
    status = 400


class StockWouldGoNegative(DomainError):
    """An adjustment larger than the stock there. details: sku, location_id, delta, on_hand, available."""

    code = "stock_would_go_negative"
    status = 409


class StockLimitExceeded(DomainError):
    """A stock row would hold more units than its column can count. details: sku, location_id, on_hand, delta."""

    code = "stock_limit_exceeded"
    status = 409


class UnknownSku(DomainError):
    """details: skus, every unknown one."""

    code = "unknown_sku"
    status = 400


class UnknownLocation(DomainError):
    """details: location_ids."""

    code = "unknown_location"
    status = 400


class UnknownWarehouse(DomainError):
    """details: warehouse_ids."""

    code = "unknown_warehouse"
    status = 400


class LocationInactive(DomainError):
    """The location or its warehouse is inactive: it receives nothing. details: location_ids."""

    code = "location_inactive"
    status = 409


class LocationWarehouseMismatch(DomainError):
    """A receipt line names a location of another warehouse. details: warehouse_id, location_ids."""

    code = "location_warehouse_mismatch"
    status = 400


class SameLocation(DomainError):
    """A transfer from a location to itself. details: location_id."""

    code = "same_location"
    status = 400


class CodeTaken(DomainError):
    """A warehouse code, or a location code within its warehouse, is taken. details: code."""

    code = "code_taken"
    status = 409


class DefaultLocationFixed(DomainError):
    """A warehouse's DEFAULT location receives goods: its code cannot change. details: location_id."""

    code = "default_location_fixed"
    status = 409


class ReservationNotFound(DomainError):
    code = "not_found"
    status = 404


class ReservationInvalidTransition(DomainError):
    """Only an ALLOCATED reservation may be released or committed. details: reservation_id, status, action."""

    code = "invalid_transition"
    status = 409


class ReservationHeldByOrder(DomainError):
    """An order's reservation moves only with its order (cancel, ship). details: reservation_id, order_id."""

    code = "reservation_held_by_order"
    status = 409
