import django_filters

from config.filters import IdFilter
from inventory.models import Location, MovementKind, Reservation, ReservationStatus, StockMovement


class StockMovementFilter(django_filters.FilterSet):
    sku = django_filters.CharFilter(field_name="stock__variant__sku", lookup_expr="iexact")
    warehouse_id = IdFilter(field_name="stock__location__warehouse_id")
    location_id = IdFilter(field_name="stock__location_id")
    reservation_id = IdFilter(field_name="reservation_id")
    kind = django_filters.ChoiceFilter(choices=MovementKind.choices)

    class Meta:
        model = StockMovement
        fields: list[str] = []


class ReservationFilter(django_filters.FilterSet):
    reference = django_filters.CharFilter(field_name="reference")
    status = django_filters.ChoiceFilter(choices=ReservationStatus.choices)
    order_id = django_filters.UUIDFilter(field_name="order_id")

    class Meta:
        model = Reservation
        fields: list[str] = []


class LocationFilter(django_filters.FilterSet):
    warehouse_id = IdFilter(field_name="warehouse_id")

    class Meta:
        model = Location
        fields: list[str] = []
