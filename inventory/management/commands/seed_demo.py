"""Idempotent demo data: staff and customers, a catalog with variants, two warehouses and stock spread over them.

Everything goes through the services (catalog for brands, categories and products, inventory
for warehouses, locations and receipts), so the ledger reconciles and ``check_stock`` is clean.
Running it again adds only what is missing: users by email, brands and categories by slug,
warehouses and locations by code, products by their SKUs, receipts by their reference.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.core.management.base import BaseCommand

from accounts.models import Role, User
from accounts.services.registration import user_register
from catalog.models import Brand, Category, Variant
from catalog.services.brands import brand_create
from catalog.services.categories import category_create
from catalog.services.products import product_create
from catalog.services.variants import VariantIn
from inventory.models import DEFAULT_LOCATION_CODE, Location, MovementKind, StockMovement, Warehouse
from inventory.services.locations import default_location
from inventory.services.receipts import ReceiptLine, stock_receipt_create
from inventory.services.warehouses import location_create, warehouse_create

DEMO_PASSWORDS = {
    Role.ADMIN: "Demo-Admin-Pass-1",
    Role.INVENTORY_MANAGER: "Demo-Manager-Pass-1",
    Role.CUSTOMER: "Demo-Customer-Pass-1",
}
SKU_PREFIX = "DEMO-"
RECEIPT_PREFIX = "seed-demo:"

BRANDS = [
    ("Acme", "acme"),
    ("Bolt & Nut Co", "bolt-nut-co"),
    ("Contoso Tools", "contoso-tools"),
    ("Northwind", "northwind"),
]
# (slug, name, parent slug): parents come first
CATEGORIES = [
    ("tools", "Tools", None),
    ("hand-tools", "Hand tools", "tools"),
    ("power-tools", "Power tools", "tools"),
    ("fasteners", "Fasteners", None),
    ("screws", "Screws", "fasteners"),
    ("bolts", "Bolts", "fasteners"),
    ("workwear", "Safety and workwear", None),
    ("gloves", "Gloves", "workwear"),
    ("jackets", "Jackets", "workwear"),
]
# code -> (name, address, priority, storage locations besides DEFAULT); MAIN exists from the migrations
WAREHOUSES = {
    "MAIN": ("Main warehouse", "1 Depot Road", 100, ["A-01-01", "A-01-02", "B-02-01"]),
    "EAST": ("East distribution centre", "40 Harbour Street", 200, ["E-01-01", "E-01-02"]),
}


@dataclass(frozen=True)
class Template:
    category: str
    noun: str
    base_price: Decimal
    options: list[dict]  # the first 1-4 become the variants


TEMPLATES = [
    Template(
        "hand-tools",
        "Claw Hammer",
        Decimal("19.90"),
        [{"colour": c} for c in ("Red", "Black", "Yellow", "Blue")],
    ),
    Template(
        "power-tools",
        "Cordless Drill",
        Decimal("89.00"),
        [{"voltage": v} for v in ("12 V", "18 V", "24 V", "36 V")],
    ),
    Template(
        "screws",
        "Wood Screws (box of 200)",
        Decimal("6.50"),
        [{"length": v} for v in ("20 mm", "30 mm", "40 mm", "50 mm")],
    ),
    Template("bolts", "Hex Bolts (pack of 50)", Decimal("8.20"), [{"size": v} for v in ("M6", "M8", "M10", "M12")]),
    Template("gloves", "Work Gloves", Decimal("12.00"), [{"size": v} for v in ("S", "M", "L", "XL")]),
    Template(
        "jackets",
        "Hi-Vis Jacket",
        Decimal("34.00"),
        [
            {"size": "M", "colour": "Yellow"},
            {"size": "L", "colour": "Yellow"},
            {"size": "M", "colour": "Orange"},
            {"size": "L", "colour": "Orange"},
        ],
    ),
]


@dataclass(frozen=True)
class DemoProduct:
    number: int
    name: str
    template: Template
    brand_slug: str
    variants: list[VariantIn]

    @property
    def base_sku(self) -> str:
        return f"{SKU_PREFIX}{self.number:05d}"


def demo_product(number: int) -> DemoProduct:
    """Product ``number`` of the demo catalog: always the same name, brand, category and 1-4 variants."""
    template = TEMPLATES[(number - 1) % len(TEMPLATES)]
    brand_name, brand_slug = BRANDS[(number - 1) % len(BRANDS)]
    count = number % 4 + 1
    base = f"{SKU_PREFIX}{number:05d}"
    price = template.base_price + Decimal(number % 7)
    if count == 1:
        variants = [VariantIn(sku=base, price=price)]
    else:
        variants = [
            VariantIn(
                sku=f"{base}-{index + 1}",
                price=price + Decimal("2.50") * index,
                name=" / ".join(options.values()),
                options=options,
            )
            for index, options in enumerate(template.options[:count])
        ]
    return DemoProduct(number, f"{brand_name} {template.noun} {number}", template, brand_slug, variants)


def stock_plan(product: DemoProduct, index: int) -> dict[str, list[tuple[str, int]]]:
    """Where variant ``index`` of ``product`` is received: ``{warehouse code: [(location code, units), ...]}``.

    Most variants are in both warehouses, some only in MAIN or only in EAST, some over two MAIN locations.
    """
    n = product.number * 7 + index * 3
    main_locations = ["DEFAULT", *WAREHOUSES["MAIN"][3]]
    east_locations = ["DEFAULT", *WAREHOUSES["EAST"][3]]
    main = [(main_locations[n % len(main_locations)], 20 + (n * 53) % 180)]
    if n % 3 == 0:
        main.append((main_locations[(n + 1) % len(main_locations)], 5 + n % 40))
    east = [(east_locations[n % len(east_locations)], 10 + (n * 31) % 90)]
    if n % 5 == 0:
        return {"EAST": east}
    if n % 4 == 0:
        return {"MAIN": main}
    return {"MAIN": main, "EAST": east}


class Command(BaseCommand):
    help = (
        "Create demo users, brands, categories, products with variants, two warehouses with locations and "
        "their stock; running it again adds only what is missing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=50, help="number of demo products (default 50)")
        parser.add_argument("--customers", type=int, default=3, help="number of demo customers (default 3)")

    def handle(self, *args, products: int, customers: int, **options):
        admin = self._user("admin@example.com", Role.ADMIN, actor=None)
        self._user("manager@example.com", Role.INVENTORY_MANAGER, actor=admin)
        for n in range(1, customers + 1):
            self._user(f"customer{n}@example.com", Role.CUSTOMER, actor=admin)

        brands = self._brands()
        categories = self._categories()
        warehouses, locations = self._warehouses()
        catalog = [demo_product(n) for n in range(1, products + 1)]
        created = self._products(catalog, brands=brands, categories=categories, actor=admin)
        receipts = self._receipts(catalog, admin=admin, warehouses=warehouses, locations=locations)
        self.stdout.write(
            f"products: {created} created, {len(catalog) - created} already there; stock receipts: {receipts} booked"
        )

    def _user(self, email: str, role: str, *, actor: User | None) -> User:
        user = User.objects.filter(email=email).first()
        if user is not None:
            return user
        if role == Role.ADMIN:
            user = User.objects.create_superuser(email, DEMO_PASSWORDS[role])
        else:
            user = user_register(email=email, password=DEMO_PASSWORDS[role], role=role, actor=actor)
        self.stdout.write(f"created {role.lower()}: {email} / {DEMO_PASSWORDS[role]}")
        return user

    def _brands(self) -> dict[str, int]:
        existing = dict(Brand.objects.filter(slug__in=[slug for _, slug in BRANDS]).values_list("slug", "pk"))
        for name, slug in BRANDS:
            if slug not in existing:
                existing[slug] = brand_create(name=name, slug=slug).pk
        return existing

    def _categories(self) -> dict[str, int]:
        existing = dict(Category.objects.filter(slug__in=[slug for slug, _, _ in CATEGORIES]).values_list("slug", "pk"))
        for order, (slug, name, parent) in enumerate(CATEGORIES):
            if slug not in existing:
                existing[slug] = category_create(
                    name=name, slug=slug, parent_id=existing[parent] if parent else None, sort_order=order
                ).pk
        return existing

    def _warehouses(self) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
        default_location()  # MAIN/DEFAULT, made by the migrations; recreated if someone removed it
        warehouses = dict(Warehouse.objects.filter(code__in=list(WAREHOUSES)).values_list("code", "pk"))
        for code, (name, address, priority, _) in WAREHOUSES.items():
            if code not in warehouses:
                warehouses[code] = warehouse_create(code=code, name=name, address=address, priority=priority).pk
        locations = {
            (warehouse_code, code): pk
            for warehouse_code, code, pk in Location.objects.filter(warehouse__code__in=list(WAREHOUSES)).values_list(
                "warehouse__code", "code", "pk"
            )
        }
        for warehouse_code, (_, _, _, codes) in WAREHOUSES.items():
            for code in [DEFAULT_LOCATION_CODE, *codes]:
                if (warehouse_code, code) not in locations:
                    location = location_create(warehouse_id=warehouses[warehouse_code], code=code)
                    locations[(warehouse_code, code)] = location.pk
        return warehouses, locations

    def _products(
        self, catalog: Iterable[DemoProduct], *, brands: dict[str, int], categories: dict[str, int], actor: User
    ) -> int:
        existing = set(Variant.objects.filter(sku__startswith=SKU_PREFIX).values_list("sku", flat=True))
        created = 0
        for product in catalog:
            if any(variant.sku in existing for variant in product.variants):
                continue
            product_create(
                name=product.name,
                description=f"Demo product number {product.number}.",
                brand_id=brands[product.brand_slug],
                category_id=categories[product.template.category],
                variants=product.variants,
                publish=True,
                actor=actor,
            )
            created += 1
        return created

    def _receipts(
        self,
        catalog: Iterable[DemoProduct],
        *,
        admin: User,
        warehouses: dict[str, int],
        locations: dict[tuple[str, str], int],
    ) -> int:
        """One receipt per product and warehouse, booked once (its reference is the proof)."""
        skus = set(Variant.objects.filter(sku__startswith=SKU_PREFIX).values_list("sku", flat=True))
        booked = set(
            StockMovement.objects.filter(kind=MovementKind.RECEIPT, reference__startswith=RECEIPT_PREFIX)
            .values_list("reference", flat=True)
            .distinct()
        )
        count = 0
        for product in catalog:
            lines: dict[str, list[ReceiptLine]] = {}
            for index, variant in enumerate(product.variants):
                if variant.sku not in skus:  # a product of that number that this command did not make
                    continue
                for warehouse_code, spots in stock_plan(product, index).items():
                    lines.setdefault(warehouse_code, []).extend(
                        ReceiptLine(sku=variant.sku, quantity=units, location_id=locations[(warehouse_code, code)])
                        for code, units in spots
                    )
            for warehouse_code, receipt_lines in lines.items():
                reference = f"{RECEIPT_PREFIX}{warehouse_code}:{product.base_sku}"
                if reference in booked:
                    continue
                stock_receipt_create(
                    warehouse_id=warehouses[warehouse_code],
                    lines=receipt_lines,
                    actor=admin,
                    reference=reference,
                    reason="demo stock",
                )
                count += 1
        return count
