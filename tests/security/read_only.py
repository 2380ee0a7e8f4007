"""Read-only fields per writable endpoint, in one table, and the endpoints ``test_mass_assignment`` posts them to.

``READ_ONLY[key]`` is what a client must not be able to set through that endpoint: ids, statuses,
versions, totals, amounts, currencies, roles, reserved/available units, timestamps, owner and user ids,
reservation ids. The values are forged on purpose (a past date, a foreign id, a cheaper price) so that
a stored one would show.

Endpoints whose input serializer is a ``StrictInputSerializer`` (the PATCHes, carts) refuse them with
400 ``validation_error`` naming each one; the others ignore them. Either way nothing of them is stored.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from accounts.models import Role
from inventory.services.reservations import reservation_hold
from orders.services.payments import payment_create
from orders.services.shipments import shipment_create
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.carts.factories import CartFactory
from tests.security.world import World, png_upload

BOGUS_ID = 987_654_321
BOGUS_UUID = "00000000-0000-4000-8000-000000000bad"
PAST = "2001-02-03T04:05:06Z"
CHEAP = "0.01"

_STAMPS = {"created_at": PAST, "updated_at": PAST}
_LEDGER = {
    "id": BOGUS_ID,
    "kind": "RECEIPT",
    "on_hand_delta": 1_000,
    "reserved_delta": 5,
    "on_hand_after": 0,
    "reserved_after": 9,
    "available": 1_000,
    "actor_id": BOGUS_UUID,
    "order_id": BOGUS_UUID,
    "reservation_id": BOGUS_ID,
    **_STAMPS,
}
_RESERVATION = {
    "id": BOGUS_ID,
    "status": "COMMITTED",
    "order_id": BOGUS_UUID,
    "actor_id": BOGUS_UUID,
    "expires_at": PAST,
    "released_at": PAST,
    "committed_at": PAST,
    "expired_at": PAST,
    "allocations": [{"warehouse_id": BOGUS_ID, "location_id": BOGUS_ID, "quantity": 1_000}],
    **_STAMPS,
}
_ORDER = {
    "id": BOGUS_UUID,
    "status": "SHIPPED",
    "subtotal": CHEAP,
    "shipping_amount": "0.00",
    "total_amount": CHEAP,
    "currency": "XXX",
    "user_id": BOGUS_UUID,
    "customer_email": "someone-else@example.com",
    "idempotency_key": "forged",
    "paid_at": PAST,
    "shipped_at": PAST,
    "cancelled_at": PAST,
    "expired_at": PAST,
    **_STAMPS,
}
_PAYMENT = {
    "id": BOGUS_ID,
    "order_id": BOGUS_UUID,
    "amount": CHEAP,
    "currency": "XXX",
    "status": "REFUNDED",
    "provider_reference": "forged-reference",
    "failure_reason": "forged",
    "completed_at": PAST,
    "refunded_at": PAST,
    **_STAMPS,
}
_SHIPMENT = {
    "id": BOGUS_ID,
    "order_id": BOGUS_UUID,
    "status": "CANCELLED",
    "cost": CHEAP,
    "shipped_at": PAST,
    "cancelled_at": PAST,
    **_STAMPS,
}
_CART_LINE = {
    "id": BOGUS_ID,
    "sku": "FORGED-SKU",
    "product_name": "Forged",
    "variant_name": "Forged",
    "unit_price": CHEAP,
    "price": CHEAP,
    "line_total": CHEAP,
    "currency": "XXX",
    "available": 1_000,
    "sellable": True,
}

READ_ONLY: dict[str, dict] = {
    # accounts
    "auth-register": {
        "id": BOGUS_UUID,
        "is_staff": True,
        "is_superuser": True,
        "is_active": False,
        "date_joined": PAST,
        "last_login": PAST,
    },
    "auth-password-change": {
        "id": BOGUS_UUID,
        "email": "someone-else@example.com",
        "role": "admin",
        "is_staff": True,
        "is_active": False,
        "date_joined": PAST,
    },
    # catalog
    "brand-create": {"id": BOGUS_ID, **_STAMPS},
    "category-create": {"id": BOGUS_ID, **_STAMPS},
    "category-update": {"id": BOGUS_ID, "slug": "forged", **_STAMPS},
    "product-create": {
        "id": BOGUS_ID,
        "version": 99,
        "currency": "XXX",
        "reserved_quantity": 7,
        "available": 1_000,
        "variants": [{"sku": "FORGED-VARIANT", "price": CHEAP}],
        "images": [{"url": "https://forged.example/x.png"}],
        "published_at": PAST,
        "archived_at": PAST,
        **_STAMPS,
    },
    "product-update": {
        "id": BOGUS_ID,
        "status": "ARCHIVED",
        "sku": "FORGED-SKU",
        "currency": "XXX",
        "stock_quantity": 0,
        "reserved_quantity": 7,
        "variants": [{"sku": "FORGED-VARIANT", "price": CHEAP}],
        "published_at": PAST,
        **_STAMPS,
    },
    "variant-create": {
        "id": BOGUS_ID,
        "product_id": BOGUS_ID,
        "available": 1_000,
        "reserved": 5,
        **_STAMPS,
    },
    "variant-update": {"id": BOGUS_ID, "sku": "FORGED-SKU", "product_id": BOGUS_ID, "available": 1_000, **_STAMPS},
    "product-image": {
        "id": BOGUS_ID,
        "product_id": BOGUS_ID,
        "url": "https://forged.example/x.png",
        "width": 1,
        "height": 1,
        "created_at": PAST,
    },
    "product-stock-adjustment": {**_LEDGER, "stock_quantity": 0, "reserved_quantity": 9},
    # inventory
    "warehouse-create": {"id": BOGUS_ID, "is_active": False, **_STAMPS},
    "warehouse-update": {"id": BOGUS_ID, "code": "FORGED", **_STAMPS},
    "location-create": {"id": BOGUS_ID, "is_active": False, **_STAMPS},
    "location-update": {"id": BOGUS_ID, "warehouse_id": BOGUS_ID, **_STAMPS},
    "stock-operation": _LEDGER,
    "reservation": _RESERVATION,
    # orders, payments, shipments
    "order-create": _ORDER,
    "order-line": {
        "id": BOGUS_ID,
        "reservation_id": BOGUS_ID,
        "product_name": "Forged",
        "variant_name": "Forged",
        "unit_price_at_purchase": CHEAP,
        "price": CHEAP,
        "line_total": CHEAP,
    },
    "order-step": _ORDER,
    "payment-create": _PAYMENT,
    "payment-settle": _PAYMENT,
    "shipment-create": _SHIPMENT,
    "shipment-step": {**_SHIPMENT, "status": "PENDING"},
    # carts
    "cart-create": {
        "id": BOGUS_UUID,
        "status": "CHECKED_OUT",
        "owner_id": BOGUS_UUID,
        "order_id": BOGUS_UUID,
        "currency": "XXX",
        "total": CHEAP,
        "items": [{"variant_id": BOGUS_ID, "quantity": 1}],
        "checked_out_at": PAST,
        **_STAMPS,
    },
    "cart-item-add": _CART_LINE,
    "cart-item-update": {**_CART_LINE, "variant_id": BOGUS_ID},
    "cart-checkout": {
        "items": [{"variant_id": BOGUS_ID, "quantity": 1}],
        "status": "PAID",
        "total_amount": CHEAP,
        "currency": "XXX",
        "order_id": BOGUS_UUID,
    },
    "cart-step": {"status": "CHECKED_OUT", "owner_id": BOGUS_UUID, "total": CHEAP, "items": []},
}


# --- the endpoints


@dataclass(frozen=True)
class Endpoint:
    """``key`` names its row of READ_ONLY; ``subject(world, tag)`` makes a fresh object for each call (the
    order to pay...); ``path(world, subject)`` and ``body(world, subject, tag)`` the request, the tag
    making names unique."""

    key: str
    role: str  # who calls; "subject" is the subject itself (a user changing their own password)
    method: str
    path: Callable[[World, object], str]
    body: Callable[[World, object, str], dict]
    status: int  # what the call without read-only fields answers
    subject: Callable[[World, str], object] | None = None
    refuses: bool = False  # a StrictInputSerializer: read-only fields are refused with 400
    ignore: frozenset[str] = field(default_factory=frozenset)  # columns that differ between any two calls
    multipart: bool = False
    line_key: str | None = None  # READ_ONLY row also posted inside each line


def _fixed(path: str) -> Callable[[World, object], str]:
    return lambda w, s: path.format(w=w, s=s)


def _none(w: World, s: object, tag: str) -> dict:
    return {}


def _customer(w: World, tag: str) -> object:
    return UserFactory(role=Role.CUSTOMER, email=f"subject-{tag}@example.com".lower())


def _hold(w: World, tag: str) -> object:
    return reservation_hold(
        sku=w.variant.sku, quantity=1, location_id=w.main_location.pk, reference="hold", actor=w.admin
    )


def _cart(w: World, tag: str) -> object:
    return CartFactory(owner=w.customer, items=[(w.variant, 2)])


ENDPOINTS: list[Endpoint] = [
    # accounts
    Endpoint(
        "auth-register",
        "anonymous",
        "POST",
        _fixed("/auth/register"),
        lambda w, s, tag: {"email": f"new-{tag}@example.com", "password": DEFAULT_PASSWORD},
        201,
        ignore=frozenset({"password"}),
    ),
    Endpoint(
        "auth-password-change",
        "subject",
        "POST",
        _fixed("/auth/password-change"),
        lambda w, s, tag: {"old_password": DEFAULT_PASSWORD, "new_password": "Fresh-Horse-Battery-42"},
        204,
        subject=_customer,
        ignore=frozenset({"password"}),
    ),
    # catalog
    Endpoint("brand-create", "admin", "POST", _fixed("/brands"), lambda w, s, tag: {"name": f"Brand {tag}"}, 201),
    Endpoint(
        "category-create",
        "admin",
        "POST",
        _fixed("/categories"),
        lambda w, s, tag: {"name": f"Category {tag}", "parent_id": w.category.pk},
        201,
    ),
    Endpoint(
        "category-update",
        "admin",
        "PATCH",
        _fixed("/categories/{w.category.pk}"),
        lambda w, s, tag: {"name": f"Renamed {tag}"},
        200,
        refuses=True,
    ),
    Endpoint(
        "product-create",
        "admin",
        "POST",
        _fixed("/products"),
        lambda w, s, tag: {"name": f"Lamp {tag}", "sku": f"LAMP-{tag}", "price": "3.00", "stock_quantity": 2},
        201,
    ),
    Endpoint(
        "product-update",
        "admin",
        "PATCH",
        _fixed("/products/{w.product.pk}"),
        lambda w, s, tag: {"name": f"Renamed {tag}", "price": "11.00"},
        200,
        refuses=True,
    ),
    Endpoint(
        "variant-create",
        "admin",
        "POST",
        _fixed("/products/{w.draft.pk}/variants"),
        lambda w, s, tag: {"sku": f"VAR-{tag}", "price": "4.00", "options": {"size": "L"}},
        201,
    ),
    Endpoint(
        "variant-update",
        "admin",
        "PATCH",
        _fixed("/variants/{w.variant.pk}"),
        lambda w, s, tag: {"price": "12.00"},
        200,
        refuses=True,
    ),
    Endpoint(
        "product-image",
        "admin",
        "POST",
        _fixed("/products/{w.product.pk}/images"),
        lambda w, s, tag: {"file": png_upload(), "alt": f"side {tag}"},
        201,
        multipart=True,
        ignore=frozenset({"file", "position"}),  # a new file name each time; each image goes last
    ),
    Endpoint(
        "product-stock-adjustment",
        "admin",
        "POST",
        _fixed("/products/{w.product.pk}/stock-adjustments"),
        lambda w, s, tag: {"delta": 2, "reason": f"found {tag}"},
        201,
    ),
    # inventory
    Endpoint(
        "warehouse-create",
        "admin",
        "POST",
        _fixed("/warehouses"),
        lambda w, s, tag: {"code": f"W{tag}", "name": f"Warehouse {tag}"},
        201,
    ),
    Endpoint(
        "warehouse-update",
        "admin",
        "PATCH",
        _fixed("/warehouses/{w.warehouse.pk}"),
        lambda w, s, tag: {"name": f"Renamed {tag}"},
        200,
        refuses=True,
    ),
    Endpoint(
        "location-create",
        "admin",
        "POST",
        _fixed("/locations"),
        lambda w, s, tag: {"warehouse_id": w.warehouse.pk, "code": f"L-{tag}"},
        201,
    ),
    Endpoint(
        "location-update",
        "admin",
        "PATCH",
        _fixed("/locations/{w.location.pk}"),
        lambda w, s, tag: {"code": f"R-{tag}"},
        200,
        refuses=True,
    ),
    Endpoint(
        "stock-operation",
        "admin",
        "POST",
        _fixed("/stock/receipts"),
        lambda w, s, tag: {
            "warehouse_id": w.main_location.warehouse_id,
            "reference": f"PO-{tag}",
            "lines": [{"sku": w.variant.sku, "quantity": 3}],
        },
        201,
        line_key="stock-operation",
    ),
    Endpoint(
        "stock-operation",
        "admin",
        "POST",
        _fixed("/stock/adjustments"),
        lambda w, s, tag: {"sku": w.variant.sku, "location_id": w.main_location.pk, "delta": -1, "reason": tag},
        201,
    ),
    Endpoint(
        "stock-operation",
        "admin",
        "POST",
        _fixed("/stock/transfers"),
        lambda w, s, tag: {
            "sku": w.variant.sku,
            "from_location_id": w.main_location.pk,
            "to_location_id": w.spare_location.pk,
            "quantity": 1,
            "reference": tag,
        },
        201,
    ),
    Endpoint(
        "reservation",
        "admin",
        "POST",
        _fixed("/stock/reservations"),
        lambda w, s, tag: {
            "sku": w.variant.sku,
            "quantity": 1,
            "location_id": w.main_location.pk,
            "reference": tag,
            "ttl_seconds": 600,
        },
        201,
    ),
    Endpoint(
        "reservation",
        "admin",
        "POST",
        _fixed("/stock/reservations/allocate"),
        lambda w, s, tag: {"lines": [{"sku": w.variant.sku, "quantity": 1}], "reference": tag},
        201,
        line_key="reservation",
    ),
    Endpoint("reservation", "admin", "POST", _fixed("/stock/reservations/{s.pk}/release"), _none, 200, subject=_hold),
    Endpoint("reservation", "admin", "POST", _fixed("/stock/reservations/{s.pk}/commit"), _none, 200, subject=_hold),
    # orders
    Endpoint(
        "order-create",
        "customer",
        "POST",
        _fixed("/orders"),
        lambda w, s, tag: {"items": [{"variant_id": w.variant.pk, "quantity": 2}]},
        201,
        line_key="order-line",
    ),
    Endpoint(
        "order-step",
        "customer",
        "POST",
        _fixed("/orders/{s.pk}/pay"),
        _none,
        200,
        subject=lambda w, tag: w.new_order(),
        ignore=frozenset({"provider_reference"}),  # the gateway's, new for each charge
    ),
    Endpoint(
        "order-step",
        "customer",
        "POST",
        _fixed("/orders/{s.pk}/cancel"),
        _none,
        200,
        subject=lambda w, tag: w.new_order(),
    ),
    Endpoint(
        "order-step", "admin", "POST", _fixed("/orders/{s.pk}/expire"), _none, 200, subject=lambda w, tag: w.new_order()
    ),
    Endpoint(
        "order-step",
        "admin",
        "POST",
        _fixed("/orders/{s.pk}/ship"),
        lambda w, s, tag: {"carrier": "DHL", "tracking_number": f"T-{tag}"},
        200,
        subject=lambda w, tag: w.new_order(paid=True),
        ignore=frozenset({"provider_reference"}),
    ),
    Endpoint(
        "payment-create",
        "customer",
        "POST",
        _fixed("/payments"),
        lambda w, s, tag: {"order_id": str(s.pk)},
        201,
        subject=lambda w, tag: w.new_order(),
    ),
    Endpoint(
        "payment-settle",
        "admin",
        "POST",
        _fixed("/payments/{s.pk}/succeed"),
        lambda w, s, tag: {"provider_reference": "REF-1"},
        200,
        subject=lambda w, tag: payment_create(order_id=w.new_order().pk, actor=w.customer),
    ),
    Endpoint(
        "payment-settle",
        "admin",
        "POST",
        _fixed("/payments/{s.pk}/fail"),
        lambda w, s, tag: {"reason": "declined"},
        200,
        subject=lambda w, tag: payment_create(order_id=w.new_order().pk, actor=w.customer),
    ),
    Endpoint(
        "shipment-create",
        "admin",
        "POST",
        _fixed("/shipments"),
        lambda w, s, tag: {"order_id": str(s.pk), "carrier": "DHL", "tracking_number": f"T-{tag}"},
        201,
        subject=lambda w, tag: w.new_order(paid=True),
        ignore=frozenset({"provider_reference"}),
    ),
    Endpoint(
        "shipment-step",
        "admin",
        "POST",
        _fixed("/shipments/{s.pk}/ship"),
        lambda w, s, tag: {"tracking_number": f"T-{tag}"},
        200,
        subject=lambda w, tag: shipment_create(order_id=w.new_order(paid=True).pk, actor=w.admin, carrier="DHL"),
        ignore=frozenset({"provider_reference"}),
    ),
    Endpoint(
        "shipment-step",
        "admin",
        "POST",
        _fixed("/shipments/{s.pk}/cancel"),
        _none,
        200,
        subject=lambda w, tag: shipment_create(order_id=w.new_order(paid=True).pk, actor=w.admin, carrier="DHL"),
        ignore=frozenset({"provider_reference"}),
    ),
    # carts
    Endpoint("cart-create", "customer", "POST", _fixed("/carts"), _none, 201, refuses=True),
    Endpoint(
        "cart-item-add",
        "customer",
        "POST",
        _fixed("/carts/{s.pk}/items"),
        lambda w, s, tag: {"variant_id": w.variant.pk, "quantity": 1},
        200,
        subject=_cart,
        refuses=True,
    ),
    Endpoint(
        "cart-item-update",
        "customer",
        "PUT",
        _fixed("/carts/{s.pk}/items/{w.variant.pk}"),
        lambda w, s, tag: {"quantity": 3},
        200,
        subject=_cart,
        refuses=True,
    ),
    Endpoint(
        "cart-checkout", "customer", "POST", _fixed("/carts/{s.pk}/checkout"), _none, 201, subject=_cart, refuses=True
    ),
    Endpoint("cart-step", "customer", "POST", _fixed("/carts/{s.pk}/clear"), _none, 200, subject=_cart),
]
