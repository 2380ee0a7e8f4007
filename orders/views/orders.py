from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from config.idempotency import idempotency_key_of
from config.viewsets import GenericViewSet, validated
from orders.filters import OrderFilter
from orders.models import Order
from orders.permissions import CanExpire, CanPay, CanPlaceOrders, CanShip
from orders.selectors import order_list
from orders.serializers import (
    OrderCreateInputSerializer,
    OrderOutputSerializer,
    ShipmentShipInputSerializer,
    order_as_placed,
)
from orders.services.expiry import order_expire
from orders.services.placement import OrderLine, order_place
from orders.services.workflow import order_cancel, order_pay, order_ship

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Optional, unique per request you mean once (e.g. a UUID). A retry with the same key and body "
    "returns the original order; with another body, 422; while the first is in flight, 409.",
)


@extend_schema_view(
    list=extend_schema(responses=OrderOutputSerializer(many=True)),
    retrieve=extend_schema(responses=OrderOutputSerializer),
)
@extend_schema(tags=["orders"])
class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    serializer_class = OrderOutputSerializer
    filterset_class = OrderFilter
    lookup_value_regex = r"[0-9a-fA-F-]{32,36}"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Order.objects.none()
        return order_list(user=self.request.user)

    def get_permissions(self):
        if self.action == "create":
            return [CanPlaceOrders()]
        if self.action == "pay":
            return [CanPay()]
        if self.action == "ship":
            return [CanShip()]
        if self.action == "expire":
            return [CanExpire()]
        return [IsAuthenticated()]

    @extend_schema(
        request=OrderCreateInputSerializer, responses={201: OrderOutputSerializer}, parameters=[IDEMPOTENCY_KEY]
    )
    def create(self, request):
        data = validated(OrderCreateInputSerializer, request)
        placement = order_place(
            customer=request.user,
            lines=[OrderLine(**item) for item in data["items"]],
            idempotency_key=idempotency_key_of(request),
        )
        if placement.replayed:
            return Response(
                order_as_placed(placement.order),
                status=status.HTTP_201_CREATED,
                headers={"Idempotent-Replayed": "true"},
            )
        return Response(OrderOutputSerializer(placement.order).data, status=status.HTTP_201_CREATED)

    def _transition(self, service, **arguments):
        order = service(order_id=self.get_object().pk, actor=self.request.user, **arguments)
        return Response(OrderOutputSerializer(order).data)

    @extend_schema(request=None, responses={200: OrderOutputSerializer})
    @action(detail=True, methods=["post"])
    def pay(self, request, pk=None):
        return self._transition(order_pay)

    @extend_schema(request=ShipmentShipInputSerializer, responses={200: OrderOutputSerializer})
    @action(detail=True, methods=["post"])
    def ship(self, request, pk=None):
        """PAID -> SHIPPED in one call: the open shipment, or a new one (carrier ``flat-rate`` unless given), ships."""
        return self._transition(order_ship, **validated(ShipmentShipInputSerializer, request))

    @extend_schema(request=None, responses={200: OrderOutputSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._transition(order_cancel)

    @extend_schema(request=None, responses={200: OrderOutputSerializer})
    @action(detail=True, methods=["post"])
    def expire(self, request, pk=None):
        """PENDING -> EXPIRED (staff, overdue or not): the reservations are released; EXPIRED answers as it is."""
        return self._transition(order_expire)
