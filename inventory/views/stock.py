"""Warehouses, locations, stock operations, a SKU's stock and the ledger, and reservations (staff only)."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from accounts.permissions import IsStaff
from catalog.models import Variant
from catalog.validators import sku_normalize
from config.db import entry_point
from config.viewsets import GenericViewSet, validated
from inventory.filters.stock import LocationFilter, ReservationFilter, StockMovementFilter
from inventory.models import Location, Reservation, StockMovement, Warehouse
from inventory.selectors import reservation_list, stock_movement_list, stock_of_variant
from inventory.serializers.stock import (
    AdjustmentInputSerializer,
    LocationCreateInputSerializer,
    LocationOutputSerializer,
    LocationUpdateInputSerializer,
    MovementsOutputSerializer,
    ReceiptInputSerializer,
    ReservationAllocateInputSerializer,
    ReservationHoldInputSerializer,
    ReservationOutputSerializer,
    StockMovementOutputSerializer,
    StockOutputSerializer,
    TransferInputSerializer,
    WarehouseCreateInputSerializer,
    WarehouseOutputSerializer,
    WarehouseUpdateInputSerializer,
)
from inventory.services.adjustments import stock_adjust
from inventory.services.receipts import ReceiptLine, stock_receipt_create
from inventory.services.reservations import (
    SkuLine,
    reservation_allocate,
    reservation_commit,
    reservation_hold,
    reservation_release,
)
from inventory.services.transfers import stock_transfer
from inventory.services.warehouses import location_create, location_update, warehouse_create, warehouse_update

ID = r"\d{1,18}"


def _movements(movements: list[StockMovement]) -> Response:
    return Response(MovementsOutputSerializer({"movements": movements}).data, status=status.HTTP_201_CREATED)


# --- warehouses and locations


@extend_schema(tags=["warehouses"])
class WarehouseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    permission_classes = [IsStaff]
    serializer_class = WarehouseOutputSerializer
    lookup_value_regex = ID
    queryset = Warehouse.objects.order_by("code")

    @extend_schema(request=WarehouseCreateInputSerializer, responses={201: WarehouseOutputSerializer})
    def create(self, request):
        data = validated(WarehouseCreateInputSerializer, request)
        warehouse = entry_point(warehouse_create, **data, actor=request.user)
        return Response(WarehouseOutputSerializer(warehouse).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=WarehouseUpdateInputSerializer, responses={200: WarehouseOutputSerializer})
    def partial_update(self, request, pk=None):
        data = validated(WarehouseUpdateInputSerializer, request)
        warehouse = entry_point(
            warehouse_update, warehouse_id=self.get_object().pk, changes=dict(data), actor=request.user
        )
        return Response(WarehouseOutputSerializer(warehouse).data)


@extend_schema(tags=["warehouses"])
class LocationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    permission_classes = [IsStaff]
    serializer_class = LocationOutputSerializer
    lookup_value_regex = ID
    filterset_class = LocationFilter

    def get_queryset(self):
        return Location.objects.order_by("code", "warehouse__code")

    @extend_schema(request=LocationCreateInputSerializer, responses={201: LocationOutputSerializer})
    def create(self, request):
        data = validated(LocationCreateInputSerializer, request)
        location = entry_point(location_create, **data, actor=request.user)
        return Response(LocationOutputSerializer(location).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=LocationUpdateInputSerializer, responses={200: LocationOutputSerializer})
    def partial_update(self, request, pk=None):
        data = validated(LocationUpdateInputSerializer, request)
        location = entry_point(
            location_update, location_id=self.get_object().pk, changes=dict(data), actor=request.user
        )
        return Response(LocationOutputSerializer(location).data)


# --- stock


@extend_schema(tags=["stock"])
class StockViewSet(GenericViewSet):
    """Goods in, counts, transfers, a SKU's stock across warehouses, and the ledger."""

    permission_classes = [IsStaff]
    serializer_class = StockMovementOutputSerializer
    filterset_class = StockMovementFilter

    def get_queryset(self):
        return stock_movement_list()

    @extend_schema(request=ReceiptInputSerializer, responses={201: MovementsOutputSerializer})
    @action(detail=False, methods=["post"])
    def receipts(self, request):
        fields = validated(ReceiptInputSerializer, request)
        movements = stock_receipt_create(
            warehouse_id=fields["warehouse_id"],
            reference=fields["reference"],
            reason=fields["reason"],
            lines=[ReceiptLine(**line) for line in fields["lines"]],
            actor=request.user,
        )
        return _movements(movements)

    @extend_schema(request=AdjustmentInputSerializer, responses={201: MovementsOutputSerializer})
    @action(detail=False, methods=["post"])
    def adjustments(self, request):
        data = validated(AdjustmentInputSerializer, request)
        return _movements([stock_adjust(actor=request.user, **data)])

    @extend_schema(request=TransferInputSerializer, responses={201: MovementsOutputSerializer})
    @action(detail=False, methods=["post"])
    def transfers(self, request):
        data = validated(TransferInputSerializer, request)
        return _movements(stock_transfer(actor=request.user, **data))

    @extend_schema(responses=StockMovementOutputSerializer(many=True))
    @action(detail=False, methods=["get"])
    def movements(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(StockMovementOutputSerializer(page, many=True).data)

    @extend_schema(responses=StockOutputSerializer, filters=False)
    def sku(self, request, sku: str):
        body = stock_of_variant(variant=variants_by_sku_or_404(sku))
        return Response(StockOutputSerializer(body).data)


def variants_by_sku_or_404(sku: str) -> Variant:
    """The variant a path names, in any case. SKUs may hold ``/``, so the route's optional trailing slash
    lands in ``sku``: ``/stock/PEN-1/`` is ``PEN-1`` unless a SKU ``PEN-1/`` exists."""
    sku = sku_normalize(sku)
    found = {variant.sku: variant for variant in Variant.objects.filter(sku__in={sku, sku.removesuffix("/")})}
    variant = found.get(sku) or found.get(sku.removesuffix("/"))
    if variant is None:
        raise NotFound()
    return variant


@extend_schema(tags=["reservations"])
class ReservationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    permission_classes = [IsStaff]
    serializer_class = ReservationOutputSerializer
    filterset_class = ReservationFilter
    lookup_value_regex = ID

    def get_queryset(self):
        return reservation_list()

    def _render(self, reservation: Reservation, *, created: bool = False) -> Response:
        fresh = reservation_list().get(pk=reservation.pk)
        return Response(
            ReservationOutputSerializer(fresh).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )

    @extend_schema(request=ReservationHoldInputSerializer, responses={201: ReservationOutputSerializer})
    def create(self, request):
        data = validated(ReservationHoldInputSerializer, request)
        return self._render(reservation_hold(actor=request.user, **data), created=True)

    @extend_schema(request=ReservationAllocateInputSerializer, responses={201: ReservationOutputSerializer})
    @action(detail=False, methods=["post"])
    def allocate(self, request):
        fields = validated(ReservationAllocateInputSerializer, request)
        reservation = reservation_allocate(
            lines=[SkuLine(**line) for line in fields["lines"]],
            reference=fields["reference"],
            ttl_seconds=fields.get("ttl_seconds"),
            actor=request.user,
        )
        return self._render(reservation, created=True)

    @extend_schema(request=None, responses={200: ReservationOutputSerializer})
    @action(detail=True, methods=["post"])
    def release(self, request, pk=None):
        return self._render(reservation_release(reservation_id=self.get_object().pk, actor=request.user))

    @extend_schema(request=None, responses={200: ReservationOutputSerializer})
    @action(detail=True, methods=["post"])
    def commit(self, request, pk=None):
        return self._render(reservation_commit(reservation_id=self.get_object().pk, actor=request.user))
