"""``/shipments``: parcels of paid orders. Staff create, ship and cancel them; customers read their own orders'."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from config.viewsets import GenericViewSet, validated
from orders.filters import ShipmentFilter
from orders.models import Shipment
from orders.permissions import CanShip
from orders.selectors import order_visible_check, shipment_list
from orders.serializers import ShipmentCreateInputSerializer, ShipmentOutputSerializer, ShipmentShipInputSerializer
from orders.services.shipments import shipment_cancel, shipment_create, shipment_ship


@extend_schema_view(
    list=extend_schema(responses=ShipmentOutputSerializer(many=True)),
    retrieve=extend_schema(responses=ShipmentOutputSerializer),
)
@extend_schema(tags=["shipments"])
class ShipmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    serializer_class = ShipmentOutputSerializer
    filterset_class = ShipmentFilter
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Shipment.objects.none()
        return shipment_list(user=self.request.user)

    def get_permissions(self):
        if self.action in ("create", "ship", "cancel"):
            return [CanShip()]
        return [IsAuthenticated()]

    @extend_schema(request=ShipmentCreateInputSerializer, responses={201: ShipmentOutputSerializer})
    def create(self, request):
        """A PENDING shipment for a PAID order (one open shipment per order)."""
        data = validated(ShipmentCreateInputSerializer, request)
        order_visible_check(user=request.user, order_id=data["order_id"])
        shipment = shipment_create(
            order_id=data["order_id"],
            actor=request.user,
            carrier=data["carrier"],
            tracking_number=data["tracking_number"],
        )
        return Response(ShipmentOutputSerializer(shipment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ShipmentShipInputSerializer, responses={200: ShipmentOutputSerializer})
    @action(detail=True, methods=["post"])
    def ship(self, request, pk=None):
        """PENDING -> SHIPPED: the order ships and its reserved stock leaves, in one transaction."""
        data = validated(ShipmentShipInputSerializer, request)
        shipment = shipment_ship(shipment_id=self.get_object().pk, actor=request.user, **data)
        return Response(ShipmentOutputSerializer(shipment).data)

    @extend_schema(request=None, responses={200: ShipmentOutputSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """PENDING -> CANCELLED; the order stays PAID."""
        shipment = shipment_cancel(shipment_id=self.get_object().pk, actor=request.user)
        return Response(ShipmentOutputSerializer(shipment).data)
