from django.core.management.base import BaseCommand, CommandError

from inventory.selectors import ledger_mismatches


class Command(BaseCommand):
    help = "Verify that every product's quantities equal the sums of its stock-ledger deltas."

    def handle(self, *args, **options):
        mismatches = list(ledger_mismatches())
        for product in mismatches:
            self.stdout.write(
                f"MISMATCH {product.sku} (id {product.pk}): "
                f"available {product.stock_quantity} vs ledger {product.ledger_available}, "
                f"reserved {product.reserved_quantity} vs ledger {product.ledger_reserved}"
            )
        if mismatches:
            raise CommandError(f"{len(mismatches)} product(s) disagree with the stock ledger")
        self.stdout.write(self.style.SUCCESS("Stock ledger is consistent with every product."))
