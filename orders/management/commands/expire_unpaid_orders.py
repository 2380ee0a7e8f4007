from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from orders.services.expiry import orders_expire_due


class Command(BaseCommand):
    help = (
        "Expire every PENDING order older than ORDER_PAYMENT_TIMEOUT_MINUTES: it becomes EXPIRED, its "
        "reservations are released (ledger kind RELEASE) and its pending payments fail (order_expired). "
        "Safe to run concurrently; schedule it every minute (cron, systemd timer, Kubernetes CronJob)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=100, help="orders per transaction (default 100)")

    def handle(self, *args, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        if settings.ORDER_PAYMENT_TIMEOUT_MINUTES <= 0:
            self.stdout.write("order expiry is off (ORDER_PAYMENT_TIMEOUT_MINUTES=0)")
            return
        expired = orders_expire_due(batch_size=batch_size)
        self.stdout.write(f"expired {expired} order(s)")
