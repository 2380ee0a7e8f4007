from config.exceptions import DomainError

MAX_ORDER_LINES = 500  # lines one order takes, counted as sent (before repeated lines are merged)


class EmptyOrder(DomainError):
    code = "empty_order"
    status = 400


class TooManyLines(DomainError):
    """More than ``MAX_ORDER_LINES`` lines in one order or checkout, counted as sent. details: max_lines, lines."""

    code = "too_many_lines"
    status = 400


class OrderTooLarge(DomainError):
    """An amount would not fit the order's columns. details: max_amount."""

    code = "order_too_large"
    status = 400


class OrderNotFound(DomainError):
    code = "order_not_found"
    status = 404


class InvalidTransition(DomainError):
    """The status does not allow this step. details: order_id (or payment_id, shipment_id), status, action."""

    code = "invalid_transition"
    status = 409


class TransitionForbidden(DomainError):
    """The caller's role may not take this step for an order in this status."""

    code = "transition_forbidden"
    status = 403


class PaymentDeclined(DomainError):
    code = "payment_declined"
    status = 402


class IdempotencyKeyReused(DomainError):
    """The key was already used with a different request body."""

    code = "idempotency_key_reused"
    status = 422


class IdempotencyKeyInFlight(DomainError):
    """A request with this key is still being processed."""

    code = "idempotency_key_in_flight"
    status = 409


class PaymentNotFound(DomainError):
    code = "payment_not_found"
    status = 404


class ShipmentNotFound(DomainError):
    code = "shipment_not_found"
    status = 404


class ShipmentOpen(DomainError):
    """The order already has a PENDING shipment. details: order_id, shipment_id."""

    code = "shipment_open"
    status = 409


class TrackingNumberTaken(DomainError):
    """Another shipment of the carrier has this tracking number. details: carrier, tracking_number."""

    code = "tracking_number_taken"
    status = 409


class PaymentGatewayUnavailable(DomainError):
    """The gateway failed or did not answer; the payment stays PENDING until a retry or
    ``reconcile_payments`` learns the answer. details: order_id, payment_id."""

    code = "payment_gateway_unavailable"
    status = 502


class ChargeInFlight(DomainError):
    """A charge of the order through another gateway awaits its answer; a second one would not share its
    idempotency key. details: order_id, payment_id (the one in flight)."""

    code = "charge_in_flight"
    status = 409
