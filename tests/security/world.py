"""The objects the security tests call routes on, made through the real services on first use.

``World`` holds one user per role and, created lazily (a test pays only for what its route names),
a stocked product, a draft, a brand, a category, an image, warehouses and locations, a stock
reservation, and orders, payments, shipments and a cart owned by ``customer``. ``other`` is a second
customer who owns none of them: what they get for those objects is what another customer gets.
"""

import io
from dataclasses import dataclass
from functools import cached_property

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import Role, User
from carts.models import Cart
from catalog.models import Brand, Category, Product, ProductImage, Variant
from catalog.services.images import product_image_add
from inventory.models import Location, Reservation, Warehouse
from inventory.services.reservations import reservation_hold
from inventory.services.stock import stock_rows_ensure
from inventory.services.warehouses import location_create
from orders.models import Order, Payment, Shipment
from orders.services.payments import payment_create
from orders.services.placement import OrderLine, order_place
from orders.services.shipments import shipment_create
from orders.services.workflow import order_pay
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.carts.factories import CartFactory
from tests.catalog.factories import BrandFactory, CategoryFactory, VariantFactory
from tests.inventory.factories import LocationFactory, StockedProductFactory, WarehouseFactory
from tests.stock import only_variant

ROLES = ("anonymous", "customer", "other", "manager", "admin")


def png(size: tuple[int, int] = (8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, format="PNG")
    return buffer.getvalue()


def png_upload(name: str = "picture.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png(), content_type="image/png")


def login(client: APIClient, user: User) -> dict:
    """Log ``user`` in through ``/auth/login``: the token pair."""
    response = client.post("/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


@dataclass
class Session:
    """A caller: ``user`` is None for anonymous. ``subject`` is whose credentials a body may carry
    (anonymous callers log in, refresh or reset as ``customer``)."""

    role: str
    user: User | None
    subject: User
    client: APIClient
    tokens: dict


class World:
    def __init__(self) -> None:
        self.customer = UserFactory(role=Role.CUSTOMER)
        self.other = UserFactory(role=Role.CUSTOMER)
        self.manager = UserFactory(role=Role.INVENTORY_MANAGER)
        self.admin = UserFactory(role=Role.ADMIN)
        self._serial = 0

    def user(self, role: str) -> User | None:
        return None if role == "anonymous" else getattr(self, role)

    def session(self, role: str, user: User | None = None) -> Session:
        """A client for ``role`` (or for ``user``), carrying a real access token unless anonymous."""
        user = user or self.user(role)
        subject = user or self.customer
        client = APIClient()
        tokens = login(APIClient(), subject)
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
        return Session(role=role, user=user, subject=subject, client=client, tokens=tokens)

    def serial(self) -> int:
        """A number new in this world (unique names, SKUs, emails)."""
        self._serial += 1
        return self._serial

    # --- catalog

    @cached_property
    def product(self) -> Product:
        """PUBLISHED, one variant, 100 units at MAIN/DEFAULT."""
        return StockedProductFactory(stock_quantity=100)

    @cached_property
    def variant(self) -> Variant:
        return only_variant(self.product)

    @cached_property
    def draft(self) -> Product:
        """A DRAFT product with one active variant (publishable)."""
        return VariantFactory().product

    @cached_property
    def brand(self) -> Brand:
        return BrandFactory()

    @cached_property
    def category(self) -> Category:
        return CategoryFactory()

    @cached_property
    def image(self) -> ProductImage:
        return product_image_add(product_id=self.product.pk, upload=png_upload(), alt="front")

    # --- inventory

    @cached_property
    def main_location(self) -> Location:
        self.product  # noqa: B018 - the product's stock creates MAIN/DEFAULT
        return Location.objects.get(warehouse__code="MAIN", code="DEFAULT")

    @cached_property
    def spare_location(self) -> Location:
        """A second location of MAIN, for transfers, with an (empty) stock row of ``variant``."""
        location = location_create(warehouse_id=self.main_location.warehouse_id, code="SPARE")
        stock_rows_ensure(pairs=[(self.variant.pk, location.pk)])
        return location

    @cached_property
    def warehouse(self) -> Warehouse:
        return WarehouseFactory()

    @cached_property
    def location(self) -> Location:
        return LocationFactory(warehouse=self.warehouse)

    @cached_property
    def reservation(self) -> Reservation:
        """One unit held at MAIN/DEFAULT by staff (ALLOCATED)."""
        return reservation_hold(
            sku=self.variant.sku,
            quantity=1,
            location_id=self.main_location.pk,
            reference="matrix hold",
            actor=self.admin,
        )

    # --- orders, payments, shipments, carts: all of ``customer``

    def new_order(self, *, paid: bool = False) -> Order:
        order = order_place(customer=self.customer, lines=[OrderLine(quantity=1, variant_id=self.variant.pk)]).order
        if paid:
            order = order_pay(order_id=order.pk, actor=self.customer)
        return order

    @cached_property
    def order(self) -> Order:
        """PENDING."""
        return self.new_order()

    @cached_property
    def paid_order(self) -> Order:
        """PAID, no shipment yet."""
        return self.new_order(paid=True)

    @cached_property
    def payment(self) -> Payment:
        """A PENDING payment of ``order``."""
        return payment_create(order_id=self.order.pk, actor=self.customer)

    @cached_property
    def shipment(self) -> Shipment:
        """A PENDING shipment of a PAID order of its own."""
        return shipment_create(order_id=self.new_order(paid=True).pk, actor=self.admin)

    @cached_property
    def cart(self) -> Cart:
        """OPEN, one line of ``variant``."""
        return CartFactory(owner=self.customer, items=[(self.variant, 1)])
