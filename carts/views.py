"""``/carts``: a customer's own carts; staff get 403, anonymous callers 401, another customer's cart is 404."""

import uuid

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from carts.exceptions import CartNotFound
from carts.filters import CartFilter
from carts.models import Cart
from carts.selectors import cart_get, cart_list, cart_view
from carts.serializers import (
    CartCreateInputSerializer,
    CartItemAddInputSerializer,
    CartItemUpdateInputSerializer,
    CartOutputSerializer,
    CheckoutInputSerializer,
)
from carts.services.carts import cart_clear, cart_create, cart_item_add, cart_item_remove, cart_item_update
from carts.services.checkout import cart_checkout
from config.idempotency import idempotency_key_of
from config.viewsets import GenericViewSet, validated
from orders.permissions import CanPlaceOrders
from orders.serializers import OrderOutputSerializer, order_as_placed

VARIANT_ID = OpenApiParameter("variant_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="A variant's id.")
CHECKOUT_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="Optional, unique per checkout you mean once (e.g. a UUID). Repeating the checkout of a cart with "
    "the key that placed its order returns that order again (201, header Idempotent-Replayed: true); "
    "without it, a checked-out cart is 409 cart_checked_out.",
)


def _cart_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise CartNotFound("Cart not found.", cart_id=value) from None


@extend_schema_view(
    list=extend_schema(responses=CartOutputSerializer(many=True)),
    retrieve=extend_schema(responses=CartOutputSerializer),
)
@extend_schema(tags=["carts"])
class CartViewSet(mixins.ListModelMixin, GenericViewSet):
    serializer_class = CartOutputSerializer
    filterset_class = CartFilter
    permission_classes = [CanPlaceOrders]
    lookup_value_regex = r"[0-9a-fA-F-]{32,36}"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Cart.objects.none()
        return cart_list(owner=self.request.user)

    def _cart(self, cart_id, *, status_code: int = status.HTTP_200_OK) -> Response:
        cart = cart_get(owner=self.request.user, cart_id=cart_id)
        return Response(CartOutputSerializer(cart_view(cart)).data, status=status_code)

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(CartOutputSerializer([cart_view(cart) for cart in page], many=True).data)

    @extend_schema(request=None, responses={201: CartOutputSerializer})
    def create(self, request):
        validated(CartCreateInputSerializer, request)
        cart = cart_create(owner=request.user)
        return self._cart(cart.pk, status_code=status.HTTP_201_CREATED)

    def retrieve(self, request, pk=None):
        return self._cart(_cart_id(pk))

    @extend_schema(request=CartItemAddInputSerializer, responses={200: CartOutputSerializer})
    @action(detail=True, methods=["post"], url_path="items")
    def items(self, request, pk=None):
        data = validated(CartItemAddInputSerializer, request)
        cart = cart_item_add(cart_id=_cart_id(pk), owner=request.user, **data)
        return self._cart(cart.pk)

    @extend_schema(
        methods=["PUT"],
        request=CartItemUpdateInputSerializer,
        responses={200: CartOutputSerializer},
        parameters=[VARIANT_ID],
    )
    @extend_schema(methods=["DELETE"], request=None, responses={200: CartOutputSerializer}, parameters=[VARIANT_ID])
    @action(detail=True, methods=["put", "delete"], url_path=r"items/(?P<variant_id>[0-9]{1,20})")
    def item(self, request, pk=None, variant_id=None):
        if request.method == "PUT":
            data = validated(CartItemUpdateInputSerializer, request)
            cart = cart_item_update(cart_id=_cart_id(pk), owner=request.user, variant_id=int(variant_id), **data)
        else:
            cart = cart_item_remove(cart_id=_cart_id(pk), owner=request.user, variant_id=int(variant_id))
        return self._cart(cart.pk)

    @extend_schema(request=None, responses={200: CartOutputSerializer})
    @action(detail=True, methods=["post"])
    def clear(self, request, pk=None):
        cart = cart_clear(cart_id=_cart_id(pk), owner=request.user)
        return self._cart(cart.pk)

    @extend_schema(request=None, responses={201: OrderOutputSerializer}, parameters=[CHECKOUT_KEY])
    @action(detail=True, methods=["post"])
    def checkout(self, request, pk=None):
        validated(CheckoutInputSerializer, request)
        checkout = cart_checkout(cart_id=_cart_id(pk), owner=request.user, idempotency_key=idempotency_key_of(request))
        if checkout.replayed:
            return Response(
                order_as_placed(checkout.order),
                status=status.HTTP_201_CREATED,
                headers={"Idempotent-Replayed": "true"},
            )
        return Response(OrderOutputSerializer(checkout.order).data, status=status.HTTP_201_CREATED)
