from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from orders.services.reconcile import payments_reconcile

OUTCOMES = ("succeeded", "failed", "refunded", "refund_declined", "unreachable")


class Command(BaseCommand):
    help = (
        "Settle the charges and refunds a crash or an unanswered gateway call left half-way, by asking the "
        "payment gateway (same idempotency keys: nothing is charged or refunded twice). A refund the gateway "
        "declines is recorded for a person (admin: payments awaiting the gateway) and not asked again. Schedule "
        "it every few minutes; runs that overlap are safe."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than-seconds",
            type=int,
            default=120,
            help="only charges and refunds requested at least this long ago, so calls still under way are "
            "left to their requests (default 120)",
        )

    def handle(self, *args, older_than_seconds: int, **options):
        if older_than_seconds < 0:
            raise CommandError("--older-than-seconds must not be negative")
        counts = payments_reconcile(older_than=timedelta(seconds=older_than_seconds))
        self.stdout.write(", ".join(f"{counts[outcome]} {outcome}" for outcome in OUTCOMES))
        if counts["unreachable"]:
            raise CommandError(f"the gateway did not answer for {counts['unreachable']} payment(s); run again later")
