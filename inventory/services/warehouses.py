"""Warehouses and their storage locations; every change is in the audit trail (who, when, old and new values)."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import IntegrityError, transaction

from accounts.models import User, audit_actor
from catalog.services.audit import changes_recorded
from config.db import unique_violation
from inventory.exceptions import CodeTaken, DefaultLocationFixed, UnknownWarehouse
from inventory.models import DEFAULT_LOCATION_CODE, Location, Warehouse

WAREHOUSE_FIELDS = frozenset({"name", "address", "priority", "is_active"})
LOCATION_FIELDS = frozenset({"code", "is_active"})


def code_normalize(code: str) -> str:
    """Warehouse and location codes are stored trimmed and upper-case (``main`` clashes with ``MAIN``)."""
    return code.strip().upper()


@contextmanager
def _code_free(code: str) -> Iterator[None]:
    """Turn the unique violation of a code inside the block into ``CodeTaken``."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        if unique_violation(exc) is None:
            raise
        raise CodeTaken(f"The code {code!r} is already used.", code=code) from exc


@transaction.atomic
def warehouse_create(
    *, code: str, name: str, address: str = "", priority: int = 100, actor: User | None = None
) -> Warehouse:
    """Create a warehouse with its receiving location ``DEFAULT``."""
    code = code_normalize(code)
    with audit_actor(actor):
        with _code_free(code):
            warehouse = Warehouse.objects.create(code=code, name=name.strip(), address=address, priority=priority)
        Location.objects.create(warehouse=warehouse, code=DEFAULT_LOCATION_CODE)
    return warehouse


@transaction.atomic
def warehouse_update(*, warehouse_id: int, changes: dict, actor: User | None) -> Warehouse:
    """Rename, re-prioritise, deactivate or reactivate a warehouse (inactive: receives and allocates nothing)."""
    unknown = set(changes) - WAREHOUSE_FIELDS
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    if "name" in changes:
        changes = {**changes, "name": changes["name"].strip()}
    with changes_recorded(Warehouse, pks=[warehouse_id], actor=actor):
        Warehouse.objects.filter(pk=warehouse_id).update(**changes)
    return Warehouse.objects.get(pk=warehouse_id)


@transaction.atomic
def location_create(*, warehouse_id: int, code: str, actor: User | None = None) -> Location:
    if not Warehouse.objects.filter(pk=warehouse_id).exists():
        raise UnknownWarehouse("The warehouse does not exist.", warehouse_ids=[warehouse_id])
    code = code_normalize(code)
    with _code_free(code), audit_actor(actor):
        return Location.objects.create(warehouse_id=warehouse_id, code=code)


@transaction.atomic
def location_update(*, location_id: int, changes: dict, actor: User | None) -> Location:
    """Rename, deactivate or reactivate a location; the ``DEFAULT`` location keeps its code."""
    unknown = set(changes) - LOCATION_FIELDS
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    if "code" in changes:
        code = code_normalize(changes["code"])
        location = Location.objects.get(pk=location_id)
        if location.code == DEFAULT_LOCATION_CODE and code != DEFAULT_LOCATION_CODE:
            raise DefaultLocationFixed(
                "The DEFAULT location receives goods and keeps its code.", location_id=location_id
            )
        changes = {**changes, "code": code}
        with _code_free(code), changes_recorded(Location, pks=[location_id], actor=actor):
            Location.objects.filter(pk=location_id).update(**changes)
    else:
        with changes_recorded(Location, pks=[location_id], actor=actor):
            Location.objects.filter(pk=location_id).update(**changes)
    return Location.objects.select_related("warehouse").get(pk=location_id)
