"""Looking up the locations a stock operation names (one query), with the errors every operation shares."""

from collections.abc import Iterable

from django.db.models import Q

from inventory.exceptions import LocationInactive, UnknownLocation
from inventory.models import DEFAULT_LOCATION_CODE, DEFAULT_WAREHOUSE_CODE, Location, Warehouse


def locations_get(*, location_ids: Iterable[int], default_of_warehouse: int | None = None) -> dict[int, Location]:
    """The named locations by id (``UnknownLocation`` lists every missing one), plus the warehouse's DEFAULT."""
    wanted = set(location_ids)
    condition = Q(pk__in=wanted)
    if default_of_warehouse is not None:
        condition |= Q(warehouse_id=default_of_warehouse, code=DEFAULT_LOCATION_CODE)
    found = {location.pk: location for location in Location.objects.select_related("warehouse").filter(condition)}
    missing = sorted(wanted - set(found))
    if missing:
        raise UnknownLocation("Some locations do not exist.", location_ids=missing)
    return found


def locations_receiving_check(locations: Iterable[Location]) -> None:
    """Inactive locations, or locations of inactive warehouses, receive nothing."""
    inactive = sorted(loc.pk for loc in locations if not (loc.is_active and loc.warehouse.is_active))
    if inactive:
        raise LocationInactive("Inactive locations (or warehouses) receive nothing.", location_ids=inactive)


def default_location() -> Location:
    """``MAIN/DEFAULT``: where seed-001's product stock lives (a migration creates it; recreated if missing)."""
    warehouse, _ = Warehouse.objects.get_or_create(
        code=DEFAULT_WAREHOUSE_CODE, defaults={"name": "Main warehouse", "priority": 100}
    )
    location, _ = Location.objects.get_or_create(warehouse=warehouse, code=DEFAULT_LOCATION_CODE)
    location.warehouse = warehouse
    return location
