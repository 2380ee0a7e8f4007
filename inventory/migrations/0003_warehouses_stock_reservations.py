"""Stock per variant per location: warehouses, locations, stock rows, reservations and their allocations.

Every old product becomes a PUBLISHED catalog product with one variant (same id, SKU, price and
active flag) and one stock row at ``MAIN/DEFAULT`` (same id) holding its units: on-hand is
available + reserved. Ledger rows move to that stock row with their history intact
(``on_hand_delta = available_delta + reserved_delta``; the old ``SHIP`` is now ``COMMIT``), so
the ledger still sums to every row. ``0004`` drops the old columns and the old product table.
"""

import django.db.models.deletion
import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models
from django.utils.text import slugify

LEDGER_TRIGGER = "inventory_stockmovement_no_update"


def _slugs(products) -> tuple[list[int], list[str]]:
    ids, slugs, taken = [], [], set()
    for product_id, name in products:
        base = slugify(name)[:200].strip("-") or "item"
        slug, suffix = base, 2
        while slug in taken:
            slug, suffix = f"{base}-{suffix}", suffix + 1
        taken.add(slug)
        ids.append(product_id)
        slugs.append(slug)
    return ids, slugs


def products_to_catalog_and_stock(apps, schema_editor):
    OldProduct = apps.get_model("inventory", "Product")
    ids, slugs = _slugs(OldProduct.objects.order_by("pk").values_list("pk", "name"))
    execute = schema_editor.execute
    execute(
        "INSERT INTO inventory_warehouse (code, name, address, priority, is_active, created_at) "
        "VALUES ('MAIN', 'Main warehouse', '', 100, true, now())"
    )
    execute(
        "INSERT INTO inventory_location (warehouse_id, code, is_active, created_at) "
        "SELECT id, 'DEFAULT', true, now() FROM inventory_warehouse WHERE code = 'MAIN'"
    )
    execute(
        """
        INSERT INTO catalog_product (id, name, slug, description, status, published_at, version, created_at, updated_at)
        SELECT p.id, p.name, s.slug, p.description, 'PUBLISHED', p.created_at, p.version, p.created_at, p.updated_at
        FROM inventory_product p JOIN unnest(%s::bigint[], %s::text[]) AS s(id, slug) ON s.id = p.id
        """,
        [ids, slugs],
    )
    execute(
        """
        INSERT INTO catalog_variant (id, product_id, sku, name, options, price, is_active, created_at, updated_at)
        SELECT id, id, sku, '', '{}'::jsonb, price, is_active, created_at, updated_at FROM inventory_product
        """
    )
    execute(
        """
        INSERT INTO inventory_stock (id, variant_id, location_id, on_hand, reserved, updated_at)
        SELECT p.id, p.id, l.id, p.stock_quantity + p.reserved_quantity, p.reserved_quantity, p.updated_at
        FROM inventory_product p
        CROSS JOIN inventory_location l JOIN inventory_warehouse w ON w.id = l.warehouse_id
        WHERE w.code = 'MAIN' AND l.code = 'DEFAULT'
        """
    )
    execute(
        """
        UPDATE inventory_stockmovement SET
            stock_id = product_id,
            on_hand_delta = available_delta + reserved_delta,
            on_hand_after = available_after + reserved_after,
            kind = CASE kind WHEN 'SHIP' THEN 'COMMIT' ELSE kind END
        """
    )
    for table in ("catalog_product", "catalog_variant", "inventory_stock"):
        execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"
        )
    execute("SET CONSTRAINTS ALL IMMEDIATE")  # check the new foreign keys now, so later ALTERs may run


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_brands_categories_products_variants"),
        ("inventory", "0002_ledger_append_only"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Warehouse",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("code", models.CharField(max_length=32, unique=True)),
                ("name", models.CharField(max_length=200)),
                ("address", models.TextField(blank=True, default="")),
                ("priority", models.PositiveIntegerField(default=100)),
                ("is_active", models.BooleanField(default=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "ordering": ["code"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("code", django.db.models.functions.text.Upper("code"))),
                        name="warehouse_code_uppercase",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="Location",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("code", models.CharField(max_length=64)),
                ("is_active", models.BooleanField(default=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "warehouse",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="locations",
                        to="inventory.warehouse",
                    ),
                ),
            ],
            options={
                "ordering": ["warehouse_id", "code"],
                "constraints": [
                    models.UniqueConstraint(fields=("warehouse", "code"), name="location_code_per_warehouse"),
                    models.CheckConstraint(
                        condition=models.Q(("code", django.db.models.functions.text.Upper("code"))),
                        name="location_code_uppercase",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="Stock",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("on_hand", models.IntegerField(default=0)),
                ("reserved", models.IntegerField(default=0)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "location",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="stocks", to="inventory.location"
                    ),
                ),
                (
                    "variant",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="stocks", to="catalog.variant"
                    ),
                ),
            ],
            options={
                "ordering": ["id"],
                "constraints": [
                    models.UniqueConstraint(fields=("variant", "location"), name="stock_one_row_per_variant_location"),
                    models.CheckConstraint(condition=models.Q(("reserved__gte", 0)), name="stock_reserved_nonnegative"),
                    models.CheckConstraint(
                        condition=models.Q(("on_hand__gte", models.F("reserved"))), name="stock_reserved_le_on_hand"
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="Reservation",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("ALLOCATED", "Allocated"),
                            ("RELEASED", "Released"),
                            ("COMMITTED", "Committed"),
                            ("EXPIRED", "Expired"),
                        ],
                        default="ALLOCATED",
                        max_length=16,
                    ),
                ),
                ("reference", models.CharField(max_length=255)),
                ("order_id", models.UUIDField(blank=True, db_index=True, null=True)),
                ("expires_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("released_at", models.DateTimeField(blank=True, null=True)),
                ("committed_at", models.DateTimeField(blank=True, null=True)),
                ("expired_at", models.DateTimeField(blank=True, null=True)),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-id"],
                "indexes": [
                    models.Index(
                        condition=models.Q(("expires_at__isnull", False), ("status", "ALLOCATED")),
                        fields=["expires_at"],
                        name="reservation_expiring_idx",
                    ),
                    models.Index(fields=["reference"], name="reservation_reference_idx"),
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("status__in", ["ALLOCATED", "RELEASED", "COMMITTED", "EXPIRED"])),
                        name="reservation_status_valid",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("order_id__isnull", True), ("expires_at__isnull", True), _connector="OR"),
                        name="reservation_order_never_expires",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="Allocation",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("quantity", models.PositiveIntegerField()),
                (
                    "reservation",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="allocations",
                        to="inventory.reservation",
                    ),
                ),
                (
                    "stock",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT, related_name="allocations", to="inventory.stock"
                    ),
                ),
            ],
            options={
                "ordering": ["id"],
                "constraints": [
                    models.UniqueConstraint(fields=("reservation", "stock"), name="allocation_one_per_stock_row"),
                    models.CheckConstraint(
                        condition=models.Q(("quantity__gt", 0)), name="allocation_quantity_positive"
                    ),
                ],
            },
        ),
        migrations.RemoveConstraint(model_name="stockmovement", name="movement_balances_nonnegative"),
        migrations.RemoveConstraint(model_name="stockmovement", name="movement_kind_valid"),
        migrations.AddField(
            model_name="stockmovement",
            name="stock",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="movements",
                to="inventory.stock",
            ),
        ),
        migrations.AddField(model_name="stockmovement", name="on_hand_delta", field=models.IntegerField(null=True)),
        migrations.AddField(model_name="stockmovement", name="on_hand_after", field=models.IntegerField(null=True)),
        migrations.AddField(
            model_name="stockmovement",
            name="reference",
            field=models.CharField(blank=True, default="", max_length=255),
        ),
        migrations.AddField(
            model_name="stockmovement",
            name="reservation",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="movements",
                to="inventory.reservation",
            ),
        ),
        migrations.AlterField(
            model_name="stockmovement",
            name="kind",
            field=models.CharField(
                choices=[
                    ("RECEIPT", "Receipt"),
                    ("ADJUSTMENT", "Adjustment"),
                    ("TRANSFER_OUT", "Transfer out"),
                    ("TRANSFER_IN", "Transfer in"),
                    ("RESERVE", "Reserve"),
                    ("RELEASE", "Release"),
                    ("COMMIT", "Commit"),
                    ("EXPIRE", "Expire"),
                ],
                max_length=16,
            ),
        ),
        migrations.RunSQL(
            f"ALTER TABLE inventory_stockmovement DISABLE TRIGGER {LEDGER_TRIGGER}",
            f"ALTER TABLE inventory_stockmovement ENABLE TRIGGER {LEDGER_TRIGGER}",
        ),
        migrations.RunPython(products_to_catalog_and_stock, migrations.RunPython.noop),
    ]
