"""Idempotent demo data: staff accounts, customers and products with stock."""

from decimal import Decimal

from django.core.management.base import BaseCommand

from accounts.models import Role, User
from accounts.services import user_register
from inventory.models import Product
from inventory.services import product_create

DEMO_PASSWORDS = {
    Role.ADMIN: "Demo-Admin-Pass-1",
    Role.INVENTORY_MANAGER: "Demo-Manager-Pass-1",
    Role.CUSTOMER: "Demo-Customer-Pass-1",
}


class Command(BaseCommand):
    help = "Create demo users and products; running it again adds only what is missing."

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, default=50, help="number of demo products (default 50)")
        parser.add_argument("--customers", type=int, default=3, help="number of demo customers (default 3)")

    def handle(self, *args, products: int, customers: int, **options):
        admin = self._user("admin@example.com", Role.ADMIN, actor=None)
        self._user("manager@example.com", Role.INVENTORY_MANAGER, actor=admin)
        for n in range(1, customers + 1):
            self._user(f"customer{n}@example.com", Role.CUSTOMER, actor=admin)

        existing = set(Product.objects.filter(sku__startswith="DEMO-").values_list("sku", flat=True))
        created = 0
        for n in range(1, products + 1):
            sku = f"DEMO-{n:05d}"
            if sku in existing:
                continue
            product_create(
                actor=admin,
                sku=sku,
                name=f"Industrial Widget {n}",
                description=f"Demo product number {n}.",
                price=Decimal(10 + (n * 37) % 490) + Decimal("0.99"),
                stock_quantity=100 + (n * 53) % 900,
            )
            created += 1
        self.stdout.write(f"products: {created} created, {len(existing)} already there")

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
