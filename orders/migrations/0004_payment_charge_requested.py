"""Payments record when their charge was sent to the gateway, so a crash before its answer can be reconciled."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0003_payment_shipment_lifecycles"),
    ]

    operations = [
        migrations.AddField(
            model_name="payment",
            name="charge_requested_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddIndex(
            model_name="payment",
            index=models.Index(
                condition=models.Q(("charge_requested_at__isnull", False), ("status", "PENDING")),
                fields=["charge_requested_at"],
                name="payment_charge_due_idx",
            ),
        ),
    ]
