"""Order items name the variant they sold and the reservation that holds its units.

Every item's variant is its old product's only variant (same id, see inventory 0003). Each item
of an open order (PENDING or PAID) gets an ALLOCATED reservation on ``MAIN/DEFAULT`` for its
units, which the old ``reserved_quantity`` already counted: the order can still be cancelled
(release) or shipped (commit). Closed orders keep their history without reservations.
"""

import django.db.models.deletion
from django.db import migrations, models

OPEN_STATUSES = ("PENDING", "PAID")


def items_to_variants_and_reservations(apps, schema_editor):
    OrderItem = apps.get_model("orders", "OrderItem")
    Reservation = apps.get_model("inventory", "Reservation")
    Allocation = apps.get_model("inventory", "Allocation")
    Stock = apps.get_model("inventory", "Stock")
    OrderItem.objects.update(variant_id=models.F("product_id"))
    open_items = list(OrderItem.objects.filter(order__status__in=OPEN_STATUSES).select_related("order").order_by("pk"))
    stock_of = dict(
        Stock.objects.filter(
            variant_id__in={item.variant_id for item in open_items},
            location__code="DEFAULT",
            location__warehouse__code="MAIN",
        ).values_list("variant_id", "pk")
    )
    reservations = Reservation.objects.bulk_create(
        Reservation(
            status="ALLOCATED",
            reference=f"order:{item.order_id}:{item.sku}",
            order_id=item.order_id,
            actor_id=item.order.user_id,
        )
        for item in open_items
    )
    Allocation.objects.bulk_create(
        Allocation(reservation=reservation, stock_id=stock_of[item.variant_id], quantity=item.quantity)
        for item, reservation in zip(open_items, reservations, strict=True)
    )
    for item, reservation in zip(open_items, reservations, strict=True):
        item.reservation = reservation
    OrderItem.objects.bulk_update(open_items, ["reservation"])
    schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # check the new foreign keys now, so later ALTERs may run


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_brands_categories_products_variants"),
        ("inventory", "0003_warehouses_stock_reservations"),
        ("orders", "0001_orders_items_payments_shipments"),
    ]
    # The old product table goes only once no order item points at it any more.
    run_before = [("inventory", "0004_ledger_per_stock_row")]

    operations = [
        migrations.RemoveConstraint(model_name="orderitem", name="order_item_one_line_per_product"),
        migrations.AddField(
            model_name="orderitem",
            name="variant",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="order_items",
                to="catalog.variant",
            ),
        ),
        migrations.AddField(
            model_name="orderitem",
            name="variant_name",
            field=models.CharField(blank=True, default="", max_length=200),
        ),
        migrations.AddField(
            model_name="orderitem",
            name="reservation",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="order_item",
                to="inventory.reservation",
            ),
        ),
        migrations.RunPython(items_to_variants_and_reservations, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="orderitem",
            name="variant",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="order_items", to="catalog.variant"
            ),
        ),
        migrations.AlterField(
            model_name="orderitem",
            name="product",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="order_items", to="catalog.product"
            ),
        ),
        migrations.AddConstraint(
            model_name="orderitem",
            constraint=models.UniqueConstraint(fields=("order", "variant"), name="order_item_one_line_per_variant"),
        ),
    ]
