"""No mass assignment: read-only fields posted to a writable endpoint are never applied.

Every endpoint of ``tests.security.read_only.ENDPOINTS`` is called twice in one world, each time on a
fresh subject: once with its read-only fields (``READ_ONLY``) added to a valid body, once without. The
rows each call wrote (and its subject's) must be the same once ids, tags and "now" are set aside. A
``StrictInputSerializer`` endpoint refuses the fields instead: 400 naming each one, nothing written.
"""

import uuid
from datetime import datetime, timedelta

import pytest
from django.db.models import Model
from django.utils import timezone

from accounts.models import Role, User
from carts.models import Cart, CartItem
from catalog.models import Brand, Category, Product, ProductImage, Variant
from inventory.models import Allocation, Location, Reservation, Stock, StockMovement, Warehouse
from orders.models import Order, OrderItem, Payment, Shipment
from tests.accounts.factories import DEFAULT_PASSWORD
from tests.assertions import error_of
from tests.security.read_only import BOGUS_ID, BOGUS_UUID, ENDPOINTS, READ_ONLY, Endpoint
from tests.security.world import World

pytestmark = pytest.mark.django_db

TRACKED: tuple[type[Model], ...] = (
    User,
    Brand,
    Category,
    Product,
    Variant,
    ProductImage,
    Warehouse,
    Location,
    Stock,
    Reservation,
    Allocation,
    StockMovement,
    Order,
    OrderItem,
    Payment,
    Shipment,
    Cart,
    CartItem,
)
# Balances after a ledger row depend on the calls before it: the deltas are compared instead.
BALANCES = {"on_hand_after", "reserved_after"}
TAGS = ("ZQXA", "ZQXB")


def _pks() -> dict[type[Model], set]:
    return {model: set(model.objects.values_list("pk", flat=True)) for model in TRACKED}


class Written:
    """The rows written since ``before``, normalised: no primary keys; references to new rows, new UUIDs
    in text and the call's tag replaced by placeholders; timestamps since ``start`` read as ``<now>``."""

    def __init__(self, *, before: dict, start: datetime, tag: str, ignore: frozenset[str]) -> None:
        self.fresh = {model: pks - before[model] for model, pks in _pks().items()}
        self.fresh_uuids = {str(pk) for pks in self.fresh.values() for pk in pks if isinstance(pk, uuid.UUID)}
        self.start, self.tag, self.ignore = start, tag, ignore | BALANCES

    def _text(self, text: str) -> str:
        for value in self.fresh_uuids:
            text = text.replace(value, "<new>")
        return text.replace(self.tag, "<tag>").replace(self.tag.lower(), "<tag>")

    def _value(self, field, value):
        related = field.related_model if field.is_relation else None
        if related in self.fresh and value in self.fresh[related]:
            return "<new>"
        if isinstance(value, uuid.UUID) and str(value) in self.fresh_uuids:
            return "<new>"
        if isinstance(value, datetime):
            return "<now>" if value >= self.start else value.isoformat()
        if isinstance(value, str):
            return self._text(value)
        if field.get_internal_type() in ("FileField", "ImageField"):
            return self._text(str(value))
        return value

    def row(self, obj: Model) -> dict:
        return {
            field.attname: self._value(field, field.value_from_object(obj))
            for field in obj._meta.concrete_fields
            if not field.primary_key and field.attname not in self.ignore
        }

    def rows(self) -> dict[str, list[dict]]:
        written = {}
        for model, pks in self.fresh.items():
            if pks:
                written[model.__name__] = sorted((self.row(obj) for obj in model.objects.filter(pk__in=pks)), key=repr)
        return written


def _request(world: World, endpoint: Endpoint, subject, tag: str, *, forged: bool) -> dict:
    body = endpoint.body(world, subject, tag)
    if not forged:
        return body
    read_only = READ_ONLY[endpoint.key]
    body = {**read_only, **body}  # what the endpoint takes as input wins (payments name their order_id)
    if endpoint.line_key is not None:
        line_fields = READ_ONLY[endpoint.line_key]
        key = "items" if "items" in body and isinstance(body["items"], list) else "lines"
        body[key] = [{**line_fields, **line} for line in endpoint.body(world, subject, tag)[key]]
    return body


def _client(world: World, endpoint: Endpoint, subject):
    """A client signed in as the endpoint's caller (signing in writes ``last_login``: do it first)."""
    if endpoint.role == "subject":
        return world.session("customer", user=subject).client
    return world.session(endpoint.role).client


def _call(world: World, endpoint: Endpoint, client, subject, tag: str, *, forged: bool):
    body = _request(world, endpoint, subject, tag, forged=forged)
    call = getattr(client, endpoint.method.lower())
    return call(endpoint.path(world, subject), body, format="multipart" if endpoint.multipart else "json")


def _prime(world: World, endpoint: Endpoint) -> None:
    """Create the world's objects the endpoint uses now, so both calls find them made (MAIN/DEFAULT, which
    the first stock of all makes, included)."""
    world.main_location  # noqa: B018
    subject = endpoint.subject(world, "ZQXP") if endpoint.subject else None
    endpoint.path(world, subject)
    endpoint.body(world, subject, "ZQXP")


def _written_by(world: World, endpoint: Endpoint, tag: str, *, forged: bool) -> dict:
    start = timezone.now() - timedelta(seconds=1)
    before = _pks()
    subject = endpoint.subject(world, tag) if endpoint.subject else None
    client = _client(world, endpoint, subject)

    response = _call(world, endpoint, client, subject, tag, forged=forged)

    assert response.status_code == endpoint.status, response.content
    return Written(before=before, start=start, tag=tag, ignore=endpoint.ignore).rows()


def _id(endpoint: Endpoint) -> str:
    return f"{endpoint.method} {endpoint.path(_Any(), _Any())}"


class _Any:
    """Stands in for the world and subject when naming a test: every attribute reads as ``{name}``."""

    def __init__(self, name: str = "") -> None:
        self._name = name

    def __getattr__(self, name: str) -> "_Any":
        return _Any(name)

    def __str__(self) -> str:
        return "{" + self._name + "}"


IGNORING = [pytest.param(e, id=_id(e)) for e in ENDPOINTS if not e.refuses]
REFUSING = [pytest.param(e, id=_id(e)) for e in ENDPOINTS if e.refuses]


@pytest.mark.parametrize("endpoint", IGNORING)
def test_read_only_fields_are_ignored(world, endpoint):
    _prime(world, endpoint)

    forged = _written_by(world, endpoint, TAGS[0], forged=True)
    plain = _written_by(world, endpoint, TAGS[1], forged=False)

    assert forged != {}
    assert forged == plain
    assert not any(model.objects.filter(pk__in=_bogus_pks(model)).exists() for model in TRACKED)


def _bogus_pks(model: type[Model]) -> list:
    return [BOGUS_UUID] if model._meta.pk.get_internal_type() == "UUIDField" else [BOGUS_ID]


def _everything() -> dict[str, list]:
    return {model.__name__: sorted(model.objects.values_list(), key=repr) for model in TRACKED}


@pytest.mark.parametrize("endpoint", REFUSING)
def test_read_only_fields_are_refused_where_unknown_fields_are(world, endpoint):
    _prime(world, endpoint)
    subject = endpoint.subject(world, TAGS[0]) if endpoint.subject else None
    client = _client(world, endpoint, subject)
    before = _everything()

    refused = _call(world, endpoint, client, subject, TAGS[0], forged=True)

    assert refused.status_code == 400, refused.content
    error = error_of(refused)
    assert error["code"] == "validation_error"
    assert set(error["details"]["fields"]) == set(READ_ONLY[endpoint.key])
    assert _everything() == before
    assert _call(world, endpoint, client, subject, TAGS[0], forged=False).status_code == endpoint.status


def test_every_read_only_row_is_posted_somewhere():
    used = {e.key for e in ENDPOINTS} | {e.line_key for e in ENDPOINTS if e.line_key}
    assert sorted(set(READ_ONLY) - used) == []


# --- roles are not fields


@pytest.mark.parametrize("role", ["anonymous", "customer", "manager"])
@pytest.mark.parametrize("asked", ["admin", "inventory_manager"])
def test_register_refuses_a_staff_role_unless_an_admin_asks(world, role, asked):
    users = sorted(User.objects.values_list("pk", "email", "role"))
    session = world.session(role)

    response = session.client.post(
        "/auth/register", {"email": "climber@example.com", "password": DEFAULT_PASSWORD, "role": asked}
    )

    assert response.status_code == 403, response.content
    assert error_of(response)["code"] == "role_not_allowed"
    assert sorted(User.objects.values_list("pk", "email", "role")) == users


def test_register_takes_a_role_from_an_admin(world):
    response = world.session("admin").client.post(
        "/auth/register", {"email": "hired@example.com", "password": DEFAULT_PASSWORD, "role": "inventory_manager"}
    )

    assert response.status_code == 201, response.content
    assert User.objects.get(email="hired@example.com").role == Role.INVENTORY_MANAGER
