"""Payments and shipments become records with lifecycles; unpaid orders can expire.

Existing rows keep their meaning: every payment is already settled (``completed_at`` is its
creation, a refunded one had its refund requested when it was refunded, ``message`` is now
``failure_reason``), every shipment was shipped (``created_at`` is its ``shipped_at``), and
orders and payments carry the installation's currency.
"""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models
from django.db.models import F

import orders.models


def settled_history(apps, schema_editor):
    Payment = apps.get_model("orders", "Payment")
    Shipment = apps.get_model("orders", "Shipment")
    Order = apps.get_model("orders", "Order")
    for order_id, currency in Order.objects.values_list("pk", "currency").iterator():
        Payment.objects.filter(order_id=order_id).update(currency=currency)
    Payment.objects.update(completed_at=F("created_at"))
    Payment.objects.filter(status="REFUNDED").update(refund_requested_at=F("refunded_at"))
    Shipment.objects.update(created_at=F("shipped_at"), status="SHIPPED")
    schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # check deferred foreign keys now, so ALTERs may follow


class Migration(migrations.Migration):
    dependencies = [("orders", "0002_items_reference_variants")]

    operations = [
        # orders
        migrations.AddField(model_name="order", name="expired_at", field=models.DateTimeField(blank=True, null=True)),
        migrations.AddField(
            model_name="order",
            name="currency",
            field=models.CharField(default=orders.models.installation_currency, max_length=3),
        ),
        migrations.AlterField(
            model_name="order",
            name="status",
            field=models.CharField(
                choices=[
                    ("PENDING", "Pending"),
                    ("PAID", "Paid"),
                    ("SHIPPED", "Shipped"),
                    ("CANCELLED", "Cancelled"),
                    ("EXPIRED", "Expired"),
                ],
                default="PENDING",
                max_length=16,
            ),
        ),
        migrations.RemoveConstraint(model_name="order", name="order_status_valid"),
        migrations.AddConstraint(
            model_name="order",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["PENDING", "PAID", "SHIPPED", "CANCELLED", "EXPIRED"])),
                name="order_status_valid",
            ),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                condition=models.Q(("status", "PENDING")), fields=["created_at"], name="order_pending_created_idx"
            ),
        ),
        # payments
        migrations.RenameField(model_name="payment", old_name="message", new_name="failure_reason"),
        migrations.AddField(
            model_name="payment",
            name="currency",
            field=models.CharField(default=orders.models.installation_currency, max_length=3),
        ),
        migrations.AddField(
            model_name="payment", name="provider", field=models.CharField(default="mock", max_length=50)
        ),
        migrations.AddField(
            model_name="payment", name="completed_at", field=models.DateTimeField(blank=True, null=True)
        ),
        migrations.AddField(
            model_name="payment", name="refund_requested_at", field=models.DateTimeField(blank=True, null=True)
        ),
        migrations.AlterField(
            model_name="payment",
            name="status",
            field=models.CharField(
                choices=[
                    ("PENDING", "Pending"),
                    ("SUCCEEDED", "Succeeded"),
                    ("FAILED", "Failed"),
                    ("REFUNDED", "Refunded"),
                ],
                default="PENDING",
                max_length=16,
            ),
        ),
        migrations.AlterModelOptions(name="payment", options={"ordering": ["-created_at", "-id"]}),
        migrations.RemoveConstraint(model_name="payment", name="payment_status_valid"),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["PENDING", "SUCCEEDED", "FAILED", "REFUNDED"])),
                name="payment_status_valid",
            ),
        ),
        # shipments
        migrations.AlterField(
            model_name="shipment",
            name="order",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="shipments", to="orders.order"
            ),
        ),
        migrations.AddField(
            model_name="shipment",
            name="status",
            field=models.CharField(
                choices=[("PENDING", "Pending"), ("SHIPPED", "Shipped"), ("CANCELLED", "Cancelled")],
                default="PENDING",
                max_length=16,
            ),
        ),
        migrations.AddField(
            model_name="shipment",
            name="created_at",
            field=models.DateTimeField(auto_now_add=True, default=django.utils.timezone.now),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="shipment", name="cancelled_at", field=models.DateTimeField(blank=True, null=True)
        ),
        migrations.AlterField(
            model_name="shipment", name="shipped_at", field=models.DateTimeField(blank=True, null=True)
        ),
        migrations.AlterField(
            model_name="shipment", name="carrier", field=models.CharField(blank=True, default="", max_length=50)
        ),
        migrations.AlterField(
            model_name="shipment",
            name="tracking_number",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AlterField(
            model_name="shipment",
            name="cost",
            field=models.DecimalField(decimal_places=2, default=0, max_digits=12),
        ),
        migrations.AlterModelOptions(name="shipment", options={"ordering": ["-created_at", "-id"]}),
        migrations.RunPython(settled_history, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__gte", 0)), name="payment_amount_nonnegative"
            ),
        ),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.CheckConstraint(
                condition=models.Q(("status", "PENDING"), ("completed_at__isnull", False), _connector="OR"),
                name="payment_completed_has_date",
            ),
        ),
        migrations.AddIndex(
            model_name="payment",
            index=models.Index(fields=["status", "created_at"], name="payment_status_created_idx"),
        ),
        migrations.AddIndex(
            model_name="payment",
            index=models.Index(
                condition=models.Q(("refund_requested_at__isnull", False), ("status", "SUCCEEDED")),
                fields=["refund_requested_at"],
                name="payment_refund_due_idx",
            ),
        ),
        migrations.AddConstraint(
            model_name="shipment",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["PENDING", "SHIPPED", "CANCELLED"])), name="shipment_status_valid"
            ),
        ),
        migrations.AddConstraint(
            model_name="shipment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "PENDING")), fields=("order",), name="shipment_one_open_per_order"
            ),
        ),
        migrations.AddConstraint(
            model_name="shipment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "SHIPPED")), fields=("order",), name="shipment_one_shipped_per_order"
            ),
        ),
        migrations.AddConstraint(
            model_name="shipment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("tracking_number", ""), _negated=True),
                fields=("carrier", "tracking_number"),
                name="shipment_tracking_number_unique",
            ),
        ),
        migrations.AddConstraint(
            model_name="shipment",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "SHIPPED"), _negated=True), ("shipped_at__isnull", False), _connector="OR"
                ),
                name="shipment_shipped_has_date",
            ),
        ),
    ]
