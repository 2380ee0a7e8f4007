from django.core.management.base import BaseCommand, CommandError

from inventory.services.reservations import reservations_expire_due


class Command(BaseCommand):
    help = (
        "Move every ALLOCATED hold past its expires_at to EXPIRED and return its units (ledger kind EXPIRE). "
        "Safe to run concurrently; schedule it every minute (cron, systemd timer, Kubernetes CronJob)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500, help="holds per transaction (default 500)")

    def handle(self, *args, batch_size: int, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        expired = reservations_expire_due(batch_size=batch_size)
        self.stdout.write(f"expired {expired} reservation(s)")
