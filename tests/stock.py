"""Reading stock in tests the way the API reports it."""

from catalog.models import Product, Variant
from inventory.models import Stock
from inventory.selectors import ledger_mismatches, product_list_with_stock, reservation_mismatches
from tests.accounts.factories import UserFactory
from tests.commands import command_output


def stock_of(product: Product) -> tuple[int, int]:
    """(available, reserved) of a product over every variant and active location: seed 001's two numbers."""
    staff = UserFactory.build(role="ADMIN")
    row = product_list_with_stock(user=staff).values_list("stock_quantity", "reserved_quantity").get(pk=product.pk)
    return tuple(row)


def only_variant(product: Product) -> Variant:
    return Variant.objects.get(product=product)


def rows_of(variant: Variant) -> dict[str, tuple[int, int]]:
    """``{"WAREHOUSE/LOCATION": (on_hand, reserved)}`` for every stock row of a variant."""
    rows = Stock.objects.filter(variant=variant).select_related("location__warehouse")
    return {f"{row.location.warehouse.code}/{row.location.code}": (row.on_hand, row.reserved) for row in rows}


def assert_stock_consistent() -> None:
    """The ledger sums to every stock row and reservations hold exactly the reserved units."""
    assert list(ledger_mismatches()) == []
    assert list(reservation_mismatches()) == []
    assert "consistent" in command_output("check_stock")
