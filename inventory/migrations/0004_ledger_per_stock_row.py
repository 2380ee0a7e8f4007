"""The ledger belongs to stock rows now: drop its product columns and the old product table.

Runs after orders 0002 (which moves order items off the old products); the ledger is
append-only again from here on.
"""

from django.db import migrations, models

LEDGER_TRIGGER = "inventory_stockmovement_no_update"


class Migration(migrations.Migration):
    dependencies = [("inventory", "0003_warehouses_stock_reservations")]

    operations = [
        migrations.RemoveIndex(model_name="stockmovement", name="movement_product_recent_idx"),
        migrations.RemoveField(model_name="stockmovement", name="product"),
        migrations.RemoveField(model_name="stockmovement", name="available_delta"),
        migrations.RemoveField(model_name="stockmovement", name="available_after"),
        migrations.AlterField(
            model_name="stockmovement",
            name="stock",
            field=models.ForeignKey(on_delete=models.deletion.PROTECT, related_name="movements", to="inventory.stock"),
        ),
        migrations.AlterField(model_name="stockmovement", name="on_hand_delta", field=models.IntegerField()),
        migrations.AlterField(model_name="stockmovement", name="on_hand_after", field=models.IntegerField()),
        migrations.AlterModelOptions(name="stockmovement", options={"ordering": ["-id"]}),
        migrations.AddIndex(
            model_name="stockmovement",
            index=models.Index(fields=["stock", "-id"], name="movement_stock_recent_idx"),
        ),
        migrations.AddConstraint(
            model_name="stockmovement",
            constraint=models.CheckConstraint(
                condition=models.Q(("on_hand_after__gte", models.F("reserved_after")), ("reserved_after__gte", 0)),
                name="movement_balances_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="stockmovement",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "kind__in",
                        [
                            "RECEIPT",
                            "ADJUSTMENT",
                            "TRANSFER_OUT",
                            "TRANSFER_IN",
                            "RESERVE",
                            "RELEASE",
                            "COMMIT",
                            "EXPIRE",
                        ],
                    )
                ),
                name="movement_kind_valid",
            ),
        ),
        migrations.DeleteModel(name="Product"),
        migrations.RunSQL(
            f"ALTER TABLE inventory_stockmovement ENABLE TRIGGER {LEDGER_TRIGGER}",
            f"ALTER TABLE inventory_stockmovement DISABLE TRIGGER {LEDGER_TRIGGER}",
        ),
    ]
