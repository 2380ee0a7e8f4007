"""Who may call what: every route of the URL conf (the admin aside), each method, each role, one expected answer.

One row per (URL name, method). Columns: anonymous, customer (owns the orders, payments, shipments and
cart the path names), other (another customer, who owns none of them), inventory manager, admin. There
is no cashier role yet, so no cashier column: add one with the role.

A cell is the status of a successful call, or ``"<status> <error code>"`` for a refusal. The issue's
rules (#12, "Authorization and data exposure"): anonymous -> 401 except on public routes; a role refused
on a route -> 403; another customer's object -> 404, as if it did not exist.

Derived, not written: ``HEAD`` answers as ``GET``; ``OPTIONS`` (DRF's metadata) answers 401 to
anonymous callers of a private route, 200 to a role that may call some method of the route (its
object may still be another customer's: metadata reads none), and the refusal of the route's first
method to a role refused them all.

``test_matrix.py`` calls every cell with real objects (``tests.security.world``); a route or method the
URL conf serves without a row here fails ``test_every_served_route_has_a_rule``.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import STAFF_ROLES, User
from accounts.services.two_factor import otp_totp_enrol
from tests.accounts.factories import DEFAULT_PASSWORD
from tests.accounts.otp import next_code
from tests.security.world import ROLES, Session, World, png_upload

Cell = int | str

ANON = "401 not_authenticated"
STAFF = "403 staff_required"
ADMIN = "403 admin_required"
CUSTOMER = "403 customer_required"
DENIED = "403 permission_denied"
NOT_FOUND = "404 not_found"
NEW_PASSWORD = "Fresh-Horse-Battery-42"


@dataclass(frozen=True)
class Rule:
    name: str  # the URL name
    method: str
    path: str  # formatted with ``w`` (the World): "/orders/{w.order.pk}"
    anonymous: Cell
    customer: Cell
    other: Cell
    manager: Cell
    admin: Cell
    body: Callable[[World, Session], dict] | None = field(default=None, compare=False)
    multipart: bool = False
    csrf: bool = False  # a plain Django view: call it as a browser-less client is, with Django's CSRF check on

    def expected(self, role: str) -> Cell:
        return getattr(self, role)


def _all(cell: Cell) -> tuple[Cell, ...]:
    return (cell,) * 5


def _signed_in(cell: Cell) -> tuple[Cell, ...]:
    """401 anonymous, ``cell`` for every signed-in role."""
    return (ANON, cell, cell, cell, cell)


def _staff(cell: Cell, refused: str = STAFF) -> tuple[Cell, ...]:
    return (ANON, refused, refused, cell, cell)


def _admin(cell: Cell) -> tuple[Cell, ...]:
    return (ANON, ADMIN, ADMIN, ADMIN, cell)


def _owner(cell: Cell, *, other: str = NOT_FOUND, staff: Cell | None = None) -> tuple[Cell, ...]:
    """The owning customer gets ``cell``, another customer ``other``, staff ``staff`` (``cell`` unless given)."""
    staff = cell if staff is None else staff
    return (ANON, cell, other, staff, staff)


def _carts(cell: Cell, other: str = NOT_FOUND) -> tuple[Cell, ...]:
    """Carts are customers' only: staff are refused."""
    return (ANON, cell, other, CUSTOMER, CUSTOMER)


# --- bodies: (world, session) -> request data


def _serial_name(prefix: str) -> Callable[[World, Session], dict]:
    return lambda w, s: {"name": f"{prefix} {w.serial()}"}


def _login(w: World, s: Session) -> dict:
    return {"email": s.subject.email, "password": DEFAULT_PASSWORD}


def _refresh(w: World, s: Session) -> dict:
    return {"refresh_token": s.tokens["refresh_token"]}


def _reset_confirm(w: World, s: Session) -> dict:
    subject = User.objects.get(pk=s.subject.pk)  # the token covers last_login, which signing in just set
    return {
        "uid": urlsafe_base64_encode(force_bytes(subject.pk)),
        "token": default_token_generator.make_token(subject),
        "new_password": NEW_PASSWORD,
    }


def _totp_confirm(w: World, s: Session) -> dict:
    if s.user is None or s.user.role not in STAFF_ROLES:
        return {"otp": "123456"}
    otp_totp_enrol(user=s.user)
    return {"otp": next_code(TOTPDevice.objects.get(user=s.user, confirmed=False))}


def _order_line(w: World, s: Session) -> dict:
    return {"items": [{"variant_id": w.variant.pk, "quantity": 1}]}


def _image(w: World, s: Session) -> dict:
    return {"file": png_upload(), "alt": "side"}


BODIES: dict[str, Callable[[World, Session], dict]] = {
    "variant": lambda w, s: {"sku": f"V-{w.serial()}", "price": "1.00"},
    "found": lambda w, s: {"delta": 2, "reason": "found"},
    "payment": lambda w, s: {"order_id": str(w.order.pk)},
    "register": lambda w, s: {"email": f"new{w.serial()}@example.com", "password": DEFAULT_PASSWORD},
    "password_change": lambda w, s: {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
    "product": lambda w, s: {"name": "Lamp", "sku": f"LAMP-{w.serial()}", "price": "3.00", "stock_quantity": 2},
    "warehouse": lambda w, s: {"code": f"WX{w.serial()}", "name": "Extra"},
    "location": lambda w, s: {"warehouse_id": w.warehouse.pk, "code": f"B-{w.serial()}"},
    "receipt": lambda w, s: {
        "warehouse_id": w.main_location.warehouse_id,
        "reference": "PO-1",
        "lines": [{"sku": w.variant.sku, "quantity": 3}],
    },
    "adjustment": lambda w, s: {
        "sku": w.variant.sku,
        "location_id": w.main_location.pk,
        "delta": -1,
        "reason": "count",
    },
    "transfer": lambda w, s: {
        "sku": w.variant.sku,
        "from_location_id": w.main_location.pk,
        "to_location_id": w.spare_location.pk,
        "quantity": 1,
    },
    "hold": lambda w, s: {"sku": w.variant.sku, "quantity": 1, "location_id": w.main_location.pk, "reference": "h"},
    "allocate": lambda w, s: {"lines": [{"sku": w.variant.sku, "quantity": 1}], "reference": "a"},
}


def _rows(name: str, method: str, path: str, cells: tuple[Cell, ...], body=None, **options) -> Rule:
    return Rule(name, method, path, *cells, body=body, **options)


MEDIA = "/media/{w.image.file.name}"  # a plain function view: reads only, any write is a 405
P = "/products/{w.product.pk}"
ORDER = "/orders/{w.order.pk}"
PAID = "/orders/{w.paid_order.pk}"
CART = "/carts/{w.cart.pk}"

RULES: list[Rule] = [
    # public
    _rows("health", "GET", "/health", _all(200)),
    _rows("schema", "GET", "/schema", _all(200)),
    _rows("docs", "GET", "/docs", _all(200)),
    _rows("media", "GET", MEDIA, _all(200)),
    *(
        _rows("media", method, MEDIA, _all("405 method_not_allowed"), csrf=True)
        for method in ("POST", "PUT", "PATCH", "DELETE")
    ),
    # auth
    _rows("auth-register", "POST", "/auth/register", _all(201), BODIES["register"]),
    _rows("auth-login", "POST", "/auth/login", _all(200), _login),
    _rows("auth-refresh", "POST", "/auth/refresh", _all(200), _refresh),
    _rows("auth-logout", "POST", "/auth/logout", _signed_in(204), _refresh),
    _rows("auth-me", "GET", "/auth/me", _signed_in(200)),
    _rows("auth-password-reset", "POST", "/auth/password-reset", _all(202), lambda w, s: {"email": s.subject.email}),
    _rows("auth-password-reset-confirm", "POST", "/auth/password-reset/confirm", _all(204), _reset_confirm),
    _rows("auth-password-change", "POST", "/auth/password-change", _signed_in(204), BODIES["password_change"]),
    _rows("auth-2fa-totp", "POST", "/auth/2fa/totp", _staff(201), lambda w, s: {}),
    _rows("auth-2fa-totp-confirm", "POST", "/auth/2fa/totp/confirm", _staff(200), _totp_confirm),
    # catalog
    _rows("brand-list", "GET", "/brands", _signed_in(200)),
    _rows("brand-list", "POST", "/brands", _staff(201), _serial_name("Brand")),
    _rows("category-list", "GET", "/categories", _signed_in(200)),
    _rows("category-list", "POST", "/categories", _staff(201), _serial_name("Category")),
    _rows("category-detail", "GET", "/categories/{w.category.pk}", _signed_in(200)),
    _rows("category-detail", "PATCH", "/categories/{w.category.pk}", _staff(200), lambda w, s: {"name": "Renamed"}),
    _rows("variant-snapshot-snapshot", "GET", "/variants/{w.variant.pk}/snapshot", _signed_in(200)),
    _rows("product-image-list", "POST", P + "/images", _staff(201), _image, multipart=True),
    _rows("product-image-detail", "DELETE", P + "/images/{w.image.pk}", _staff(204)),
    _rows("product-list", "GET", "/products", _signed_in(200)),
    _rows("product-list", "POST", "/products", _staff(201), BODIES["product"]),
    _rows("product-detail", "GET", P, _signed_in(200)),
    _rows("product-detail", "PATCH", P, _staff(200), lambda w, s: {"name": "Renamed"}),
    _rows("product-detail", "DELETE", P, _admin(204)),
    _rows("product-publish", "POST", "/products/{w.draft.pk}/publish", _staff(200)),
    _rows("product-archive", "POST", P + "/archive", _staff(200)),
    _rows("product-variants", "POST", P + "/variants", _staff(201), BODIES["variant"]),
    _rows("product-stock-adjustments", "POST", P + "/stock-adjustments", _staff(201), BODIES["found"]),
    _rows("product-stock-movements", "GET", P + "/stock-movements", _staff(200)),
    _rows("variant-detail", "PATCH", "/variants/{w.variant.pk}", _staff(200), lambda w, s: {"price": "12.00"}),
    # inventory (staff only)
    _rows("warehouse-list", "GET", "/warehouses", _staff(200)),
    _rows("warehouse-list", "POST", "/warehouses", _staff(201), BODIES["warehouse"]),
    _rows("warehouse-detail", "GET", "/warehouses/{w.warehouse.pk}", _staff(200)),
    _rows("warehouse-detail", "PATCH", "/warehouses/{w.warehouse.pk}", _staff(200), lambda w, s: {"name": "Renamed"}),
    _rows("location-list", "GET", "/locations", _staff(200)),
    _rows("location-list", "POST", "/locations", _staff(201), BODIES["location"]),
    _rows("location-detail", "GET", "/locations/{w.location.pk}", _staff(200)),
    _rows("location-detail", "PATCH", "/locations/{w.location.pk}", _staff(200), lambda w, s: {"is_active": False}),
    _rows("stock-receipts", "POST", "/stock/receipts", _staff(201), BODIES["receipt"]),
    _rows("stock-adjustments", "POST", "/stock/adjustments", _staff(201), BODIES["adjustment"]),
    _rows("stock-transfers", "POST", "/stock/transfers", _staff(201), BODIES["transfer"]),
    _rows("stock-movements", "GET", "/stock/movements", _staff(200)),
    _rows("stock-sku", "GET", "/stock/{w.variant.sku}", _staff(200)),
    _rows("reservation-list", "GET", "/stock/reservations", _staff(200)),
    _rows("reservation-list", "POST", "/stock/reservations", _staff(201), BODIES["hold"]),
    _rows("reservation-allocate", "POST", "/stock/reservations/allocate", _staff(201), BODIES["allocate"]),
    _rows("reservation-detail", "GET", "/stock/reservations/{w.reservation.pk}", _staff(200)),
    _rows("reservation-release", "POST", "/stock/reservations/{w.reservation.pk}/release", _staff(200)),
    _rows("reservation-commit", "POST", "/stock/reservations/{w.reservation.pk}/commit", _staff(200)),
    # orders
    _rows("order-list", "GET", "/orders", _signed_in(200)),
    _rows("order-list", "POST", "/orders", (ANON, 201, 201, CUSTOMER, CUSTOMER), _order_line),
    _rows("order-detail", "GET", ORDER, _owner(200)),
    _rows("order-cancel", "POST", ORDER + "/cancel", _owner(200)),
    _rows("order-pay", "POST", ORDER + "/pay", (ANON, 200, NOT_FOUND, DENIED, 200)),
    _rows("order-expire", "POST", ORDER + "/expire", _staff(200)),
    _rows("order-ship", "POST", PAID + "/ship", _staff(200), lambda w, s: {}),
    # payments
    _rows("payment-list", "GET", "/payments", _signed_in(200)),
    _rows("payment-list", "POST", "/payments", (ANON, 201, "404 order_not_found", DENIED, 201), BODIES["payment"]),
    _rows("payment-detail", "GET", "/payments/{w.payment.pk}", _owner(200)),
    _rows("payment-succeed", "POST", "/payments/{w.payment.pk}/succeed", _admin(200), lambda w, s: {}),
    _rows("payment-fail", "POST", "/payments/{w.payment.pk}/fail", _admin(200), lambda w, s: {"reason": "declined"}),
    # shipments
    _rows("shipment-list", "GET", "/shipments", _signed_in(200)),
    _rows("shipment-list", "POST", "/shipments", _staff(201), lambda w, s: {"order_id": str(w.paid_order.pk)}),
    _rows("shipment-detail", "GET", "/shipments/{w.shipment.pk}", _owner(200)),
    _rows("shipment-ship", "POST", "/shipments/{w.shipment.pk}/ship", _staff(200), lambda w, s: {}),
    _rows("shipment-cancel", "POST", "/shipments/{w.shipment.pk}/cancel", _staff(200)),
    # carts (customers only)
    _rows("cart-list", "GET", "/carts", _carts(200, other=200)),
    _rows("cart-list", "POST", "/carts", _carts(201, other=201), lambda w, s: {}),
    _rows("cart-detail", "GET", CART, _carts(200)),
    _rows("cart-items", "POST", CART + "/items", _carts(200), lambda w, s: {"variant_id": w.variant.pk, "quantity": 1}),
    _rows("cart-item", "PUT", CART + "/items/{w.variant.pk}", _carts(200), lambda w, s: {"quantity": 2}),
    _rows("cart-item", "DELETE", CART + "/items/{w.variant.pk}", _carts(200)),
    _rows("cart-clear", "POST", CART + "/clear", _carts(200)),
    _rows("cart-checkout", "POST", CART + "/checkout", _carts(201), lambda w, s: {}),
]


def rules_by_route() -> dict[str, dict[str, Rule]]:
    by_route: dict[str, dict[str, Rule]] = {}
    for rule in RULES:
        methods = by_route.setdefault(rule.name, {})
        assert rule.method not in methods, f"two rules for {rule.method} {rule.name}"
        methods[rule.method] = rule
    return by_route


def _allowed(cell: Cell) -> bool:
    return isinstance(cell, int) or cell.startswith("404")


def derived(rule_get: Rule | None, route_rules: dict[str, Rule], method: str, role: str) -> Cell:
    """The expected answer of ``HEAD`` (as ``GET``) or ``OPTIONS`` (see the module's docstring)."""
    if method == "HEAD":
        assert rule_get is not None
        return rule_get.expected(role)
    cells = [rule.expected(role) for rule in route_rules.values()]
    if any(_allowed(cell) for cell in cells):
        return 200
    return cells[0]


def expectations() -> list[tuple[Rule, str, str, Cell]]:
    """Every (rule, method, role, expected) to call: the written rows, then HEAD and OPTIONS derived."""
    cases = [(rule, rule.method, role, rule.expected(role)) for rule in RULES for role in ROLES]
    for methods in rules_by_route().values():
        first = next(iter(methods.values()))
        for method in (["HEAD"] if "GET" in methods else []) + ["OPTIONS"]:
            base = methods["GET"] if method == "HEAD" else first
            cases += [(base, method, role, derived(methods.get("GET"), methods, method, role)) for role in ROLES]
    return cases
