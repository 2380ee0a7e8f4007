"""Shipments: PENDING -> SHIPPED (the order ships, its reservations are committed) or CANCELLED (final).

A PAID order has at most one open (PENDING) shipment and at most one SHIPPED. Each entry point
owns one durable transaction, retried on a deadlock, that locks the order row first, then its
shipments, then (shipping) its reservations and stock through ``inventory``.
"""

import functools
import uuid
from collections.abc import Callable, Sequence
from typing import ParamSpec, TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from config.db import retry_on_conflict, unique_violation
from inventory.services.reservations import reservations_commit
from orders import policies
from orders.exceptions import InvalidTransition, ShipmentOpen, TrackingNumberTaken, TransitionForbidden
from orders.locks import order_lock, shipment_lock, shipments_lock
from orders.models import Order, OrderStatus, Shipment, ShipmentStatus
from orders.notifications import order_event_emit, shipment_event_emit
from orders.selectors import order_reservation_ids

P = ParamSpec("P")
R = TypeVar("R")

TRACKING_CONSTRAINT = "shipment_tracking_number_unique"


def tracking_number_unique(function: Callable[P, R]) -> Callable[P, R]:
    """Answer a tracking number taken by a concurrent transaction as ``TrackingNumberTaken``, not a 500."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except IntegrityError as exc:
            if unique_violation(exc) != TRACKING_CONSTRAINT:
                raise
            raise TrackingNumberTaken(
                "Another shipment of this carrier has this tracking number.",
                carrier=kwargs.get("carrier"),
                tracking_number=kwargs.get("tracking_number"),
            ) from exc

    return wrapper


def _ship_check(actor: User, action: str) -> None:
    if not policies.may_ship(actor):
        raise TransitionForbidden("Only staff may ship orders.", action=action)


def _shipment_refused(shipment: Shipment, action: str) -> InvalidTransition:
    return InvalidTransition(
        f"Cannot {action} a shipment that is {shipment.status}.",
        shipment_id=shipment.pk,
        status=shipment.status,
        action=action,
    )


def _order_refused(order: Order, action: str, what: str) -> InvalidTransition:
    return InvalidTransition(
        f"Cannot {what} an order that is {order.status}.", order_id=str(order.pk), status=order.status, action=action
    )


def _tracking_check(*, carrier: str, tracking_number: str, shipment_id: int | None = None) -> None:
    if not tracking_number:
        return
    taken = Shipment.objects.filter(carrier=carrier, tracking_number=tracking_number).exclude(pk=shipment_id)
    if taken.exists():
        raise TrackingNumberTaken(
            "Another shipment of this carrier has this tracking number.",
            carrier=carrier,
            tracking_number=tracking_number,
        )


def _open_shipment(shipments: Sequence[Shipment]) -> Shipment | None:
    return next((s for s in shipments if s.status == ShipmentStatus.PENDING), None)


def shipment_ship_locked(
    *, order: Order, shipment: Shipment, actor: User, carrier: str | None, tracking_number: str | None
) -> None:
    """Ship a PENDING ``shipment`` of the PAID ``order`` (both locked): the order SHIPPED, its stock committed."""
    if carrier is not None:
        shipment.carrier = carrier
    if tracking_number is not None:
        shipment.tracking_number = tracking_number
    _tracking_check(carrier=shipment.carrier, tracking_number=shipment.tracking_number, shipment_id=shipment.pk)
    reservations_commit(reservation_ids=order_reservation_ids(order=order), actor=actor, order_id=order.pk)
    now = timezone.now()
    shipment.status, shipment.shipped_at = ShipmentStatus.SHIPPED, now
    shipment.save(update_fields=["status", "shipped_at", "carrier", "tracking_number"])
    order.status, order.shipped_at = OrderStatus.SHIPPED, now
    order.save(update_fields=["status", "shipped_at"])
    shipment_event_emit(shipment=shipment, event="shipment_shipped")
    order_event_emit(order=order, email=order.user.email, event="order_shipped")


def _shipment_cancel_locked(shipment: Shipment) -> None:
    shipment.status, shipment.cancelled_at = ShipmentStatus.CANCELLED, timezone.now()
    shipment.save(update_fields=["status", "cancelled_at"])
    shipment_event_emit(shipment=shipment, event="shipment_cancelled")


def shipments_end_with_order(*, order: Order) -> None:
    """The (locked) order is being cancelled: its open shipment is cancelled too."""
    shipment = shipment_open_locked(order=order)
    if shipment is not None:
        _shipment_cancel_locked(shipment)


def shipment_open_locked(*, order: Order) -> Shipment | None:
    """Lock the (locked) order's shipments; its open (PENDING) one, if any."""
    return _open_shipment(shipments_lock(order_id=order.pk, lock_timeout_is_set=True))


def shipment_add_locked(*, order: Order, carrier: str, tracking_number: str) -> Shipment:
    """A new PENDING shipment of the (locked) order, which has no open one."""
    _tracking_check(carrier=carrier, tracking_number=tracking_number)
    shipment = Shipment.objects.create(
        order=order, carrier=carrier, tracking_number=tracking_number, cost=order.shipping_amount
    )
    shipment_event_emit(shipment=shipment, event="shipment_created")
    return shipment


@tracking_number_unique
@retry_on_conflict
@transaction.atomic(durable=True)
def shipment_create(*, order_id: uuid.UUID, actor: User, carrier: str = "", tracking_number: str = "") -> Shipment:
    """A PENDING shipment for a PAID order (staff); a second open one is refused (``ShipmentOpen``)."""
    _ship_check(actor, "create_shipment")
    order = order_lock(order_id=order_id)
    if order.status != OrderStatus.PAID:
        raise _order_refused(order, "create_shipment", "create a shipment for")
    shipment = shipment_open_locked(order=order)
    if shipment is not None:
        raise ShipmentOpen("The order already has an open shipment.", order_id=str(order.pk), shipment_id=shipment.pk)
    return shipment_add_locked(order=order, carrier=carrier, tracking_number=tracking_number)


@tracking_number_unique
@retry_on_conflict
@transaction.atomic(durable=True)
def shipment_ship(
    *, shipment_id: int, actor: User, carrier: str | None = None, tracking_number: str | None = None
) -> Shipment:
    """PENDING -> SHIPPED (staff), recording ``carrier`` and ``tracking_number`` when given; in the same
    transaction the order becomes SHIPPED and its reservations are committed (the units leave on-hand)."""
    _ship_check(actor, "ship")
    order, shipment = shipment_lock(shipment_id=shipment_id)
    if shipment.status != ShipmentStatus.PENDING:
        raise _shipment_refused(shipment, "ship")
    if order.status != OrderStatus.PAID:  # cannot happen: an order that ends cancels its open shipment
        raise _order_refused(order, "ship", "ship")
    shipment_ship_locked(order=order, shipment=shipment, actor=actor, carrier=carrier, tracking_number=tracking_number)
    return shipment


@retry_on_conflict
@transaction.atomic(durable=True)
def shipment_cancel(*, shipment_id: int, actor: User) -> Shipment:
    """PENDING -> CANCELLED (staff); the order stays PAID and may get a new shipment."""
    _ship_check(actor, "cancel")
    _, shipment = shipment_lock(shipment_id=shipment_id)
    if shipment.status != ShipmentStatus.PENDING:
        raise _shipment_refused(shipment, "cancel")
    _shipment_cancel_locked(shipment)
    return shipment
