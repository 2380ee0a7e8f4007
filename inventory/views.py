import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.permissions import IsAdmin, IsStaff
from inventory.filters import ProductFilter
from inventory.selectors import product_list, stock_movement_list
from inventory.serializers import (
    ProductCreateInputSerializer,
    ProductOutputSerializer,
    ProductUpdateInputSerializer,
    StockAdjustmentInputSerializer,
    StockAdjustmentOutputSerializer,
    StockMovementOutputSerializer,
)
from inventory.services import product_create, product_delete, product_update, stock_adjust

_ETAG = re.compile(r'^(?:W/)?"?(\d+)"?$')
IF_MATCH = OpenApiParameter(
    "If-Match", OpenApiTypes.STR, OpenApiParameter.HEADER, description='The version you edited, e.g. "3".'
)


def _with_etag(response: Response, version: int) -> Response:
    response["ETag"] = f'"{version}"'
    return response


def _if_match_version(request) -> int | None:
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    match = _ETAG.match(header.strip())
    if not match:
        raise ValidationError({"If-Match": ['Expected a product version such as "3".']})
    return int(match.group(1))


@extend_schema_view(
    list=extend_schema(responses=ProductOutputSerializer(many=True)),
    retrieve=extend_schema(responses=ProductOutputSerializer),
)
@extend_schema(tags=["products"])
class ProductViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = ProductOutputSerializer
    filterset_class = ProductFilter
    lookup_value_regex = r"\d{1,18}"

    def get_queryset(self):
        return product_list(user=self.request.user)

    def get_permissions(self):
        if self.action in ("list", "retrieve"):
            return [IsAuthenticated()]
        if self.action == "destroy":
            return [IsAdmin()]
        return [IsStaff()]

    def retrieve(self, request, *args, **kwargs):
        product = self.get_object()
        return _with_etag(Response(ProductOutputSerializer(product).data), product.version)

    @extend_schema(request=ProductCreateInputSerializer, responses={201: ProductOutputSerializer})
    def create(self, request):
        data = ProductCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        product = product_create(actor=request.user, **data.validated_data)
        response = Response(ProductOutputSerializer(product).data, status=status.HTTP_201_CREATED)
        return _with_etag(response, product.version)

    @extend_schema(
        request=ProductUpdateInputSerializer, responses={200: ProductOutputSerializer}, parameters=[IF_MATCH]
    )
    def partial_update(self, request, pk=None):
        data = ProductUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        changes = dict(data.validated_data)
        expected_version = changes.pop("version", None) or _if_match_version(request)
        product = product_update(
            product_id=self.get_object().pk, actor=request.user, changes=changes, expected_version=expected_version
        )
        return _with_etag(Response(ProductOutputSerializer(product).data), product.version)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        product_delete(product_id=self.get_object().pk, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=StockAdjustmentInputSerializer, responses={201: StockAdjustmentOutputSerializer})
    @action(detail=True, methods=["post"], url_path="stock-adjustments")
    def stock_adjustments(self, request, pk=None):
        data = StockAdjustmentInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        movement = stock_adjust(product_id=self.get_object().pk, actor=request.user, **data.validated_data)
        body = StockAdjustmentOutputSerializer({"movement": movement, "product": movement.product}).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(responses=StockMovementOutputSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], url_path="stock-movements")
    def stock_movements(self, request, pk=None):
        page = self.paginate_queryset(stock_movement_list(product_id=self.get_object().pk))
        return self.get_paginated_response(StockMovementOutputSerializer(page, many=True).data)
