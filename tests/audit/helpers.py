"""Reading the audit trail in tests: an object's history rows, and what each changed."""

from accounts.models import User
from catalog.models import Brand, Category, Product, Variant
from catalog.services.audit import history_changes
from inventory.models import Location, Warehouse

AUDITED = (User, Brand, Category, Product, Variant, Warehouse, Location)


def trail(obj) -> list:
    """The history rows of ``obj`` (it may be deleted), oldest first."""
    model = type(obj)
    return list(model.history.filter(**{model._meta.pk.attname: obj.pk}).order_by("history_date", "history_id"))


def entries(obj) -> list[tuple]:
    """``(type, user id, {field: (old, new)})`` for each history row of ``obj``, oldest first."""
    return [(row.history_type, row.history_user_id, history_changes(row)) for row in trail(obj)]


def last_entry(obj) -> tuple:
    return entries(obj)[-1]


def history_rows() -> dict[str, int]:
    """How many history rows each audited model has."""
    return {model.__name__: model.history.count() for model in AUDITED}
