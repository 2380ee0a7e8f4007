"""A refund the gateway declines is recorded (it would be declined again with the same key), and the index of
the refunds ``reconcile_payments`` makes covers every payment with one due, FAILED ones included."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0004_payment_charge_requested"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="payment",
            name="payment_refund_due_idx",
        ),
        migrations.AddField(
            model_name="payment",
            name="refund_failed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="payment",
            name="refund_failure_reason",
            field=models.CharField(blank=True, default="", max_length=255),
        ),
        migrations.AddIndex(
            model_name="payment",
            index=models.Index(
                condition=models.Q(
                    ("refund_failed_at__isnull", True),
                    ("refund_requested_at__isnull", False),
                    ("refunded_at__isnull", True),
                ),
                fields=["refund_requested_at"],
                name="payment_refund_due_idx",
            ),
        ),
    ]
