from django.core.management.base import BaseCommand, CommandError

from inventory.selectors import ledger_mismatches, reservation_mismatches


def _where(row) -> str:
    return f"{row.variant.sku} at {row.location.warehouse.code}/{row.location.code} (stock row {row.pk})"


class Command(BaseCommand):
    help = (
        "Verify that every stock row equals the sums of its ledger deltas, and that its reserved units "
        "equal what its ALLOCATED reservations hold. Exits non-zero on any drift."
    )

    def handle(self, *args, **options):
        problems = 0
        for row in ledger_mismatches():
            problems += 1
            self.stdout.write(
                f"LEDGER MISMATCH {_where(row)}: on hand {row.on_hand} vs ledger {row.ledger_on_hand}, "
                f"reserved {row.reserved} vs ledger {row.ledger_reserved}"
            )
        for row in reservation_mismatches():
            problems += 1
            self.stdout.write(f"RESERVATION MISMATCH {_where(row)}: reserved {row.reserved} vs held {row.held}")
        if problems:
            raise CommandError(f"{problems} stock row(s) disagree with the ledger or the reservations")
        self.stdout.write(self.style.SUCCESS("Stock ledger and reservations are consistent with every stock row."))
