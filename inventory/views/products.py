"""Products with their stock (seed 001's ``/products``) and their variants."""

import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.permissions import IsAdmin, IsStaff
from catalog.models import Product, Variant
from catalog.selectors import product_list
from catalog.serializers import VariantCreateInputSerializer, VariantUpdateInputSerializer
from catalog.services.products import product_archive, product_create, product_publish, product_update
from catalog.services.variants import VariantIn, variant_create, variant_update
from config.db import entry_point
from config.viewsets import GenericViewSet, validated
from inventory.filters.products import ProductFilter
from inventory.selectors import (
    product_list_with_stock,
    product_with_stock,
    stock_movement_list,
    variant_with_stock,
)
from inventory.serializers.products import (
    ProductCreateInputSerializer,
    ProductOutputSerializer,
    ProductUpdateInputSerializer,
    StockAdjustmentOutputSerializer,
    VariantOutputSerializer,
)
from inventory.serializers.stock import (
    StockAdjustmentInputSerializer,
    StockMovementOutputSerializer,
)
from inventory.services.products import product_create_with_stock, product_remove, product_stock_adjust

ID = r"\d{1,18}"
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
    if not match or int(match.group(1)) > 2**31 - 1:
        raise ValidationError({"If-Match": ['Expected a product version such as "3".']})
    return int(match.group(1))


# --- products and variants


@extend_schema_view(
    list=extend_schema(responses=ProductOutputSerializer(many=True)),
    retrieve=extend_schema(responses=ProductOutputSerializer),
)
@extend_schema(tags=["products"])
class ProductViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    serializer_class = ProductOutputSerializer
    filterset_class = ProductFilter
    lookup_value_regex = ID

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Product.objects.none()
        return product_list_with_stock(user=self.request.user)

    def get_permissions(self):
        if self.action in ("list", "retrieve"):
            return [IsAuthenticated()]
        if self.action == "destroy":
            return [IsAdmin()]
        return [IsStaff()]

    def _render(self, product_id: int, *, created: bool = False) -> Response:
        product = product_with_stock(user=self.request.user, product_id=product_id)
        response = Response(
            ProductOutputSerializer(product, context={"request": self.request}).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
        return _with_etag(response, product.version)

    def _product_id(self) -> int:
        """The product of the URL, if the caller may see it (404 otherwise), without computing its stock."""
        product_id = product_list(user=self.request.user).filter(pk=self.kwargs["pk"]).values_list("pk", flat=True)
        found = product_id.first()
        if found is None:
            raise NotFound()
        return found

    def retrieve(self, request, *args, **kwargs):
        product = self.get_object()
        response = Response(ProductOutputSerializer(product, context={"request": request}).data)
        return _with_etag(response, product.version)

    @extend_schema(request=ProductCreateInputSerializer, responses={201: ProductOutputSerializer})
    def create(self, request):
        data = validated(ProductCreateInputSerializer, request)
        fields = dict(data)
        if "sku" in fields:
            publish = fields.pop("status", "PUBLISHED") == "PUBLISHED"
            product = product_create_with_stock(actor=request.user, publish=publish, **fields)
        else:
            fields.pop("status", None)
            product = entry_point(product_create, **fields, actor=request.user)
        return self._render(product.pk, created=True)

    @extend_schema(
        request=ProductUpdateInputSerializer, responses={200: ProductOutputSerializer}, parameters=[IF_MATCH]
    )
    def partial_update(self, request, pk=None):
        data = validated(ProductUpdateInputSerializer, request)
        changes = dict(data)
        expected = {changes.pop("version", None), _if_match_version(request)} - {None}
        product = entry_point(
            product_update,
            product_id=self._product_id(),
            changes=changes,
            expected_versions=expected,
            actor=request.user,
        )
        return self._render(product.pk)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        product_remove(product_id=self._product_id(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: ProductOutputSerializer})
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        return self._render(entry_point(product_publish, product_id=self._product_id(), actor=request.user).pk)

    @extend_schema(request=None, responses={200: ProductOutputSerializer})
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        return self._render(entry_point(product_archive, product_id=self._product_id(), actor=request.user).pk)

    @extend_schema(request=VariantCreateInputSerializer, responses={201: VariantOutputSerializer})
    @action(detail=True, methods=["post"])
    def variants(self, request, pk=None):
        data = validated(VariantCreateInputSerializer, request)
        variant = entry_point(
            variant_create, product_id=self._product_id(), variant=VariantIn(**data), actor=request.user
        )
        return Response(VariantOutputSerializer(variant_with_stock(variant_id=variant.pk)).data, status=201)

    @extend_schema(request=StockAdjustmentInputSerializer, responses={201: StockAdjustmentOutputSerializer})
    @action(detail=True, methods=["post"], url_path="stock-adjustments")
    def stock_adjustments(self, request, pk=None):
        """Seed 001: adjust the stock of a one-variant product at ``MAIN/DEFAULT``."""
        data = validated(StockAdjustmentInputSerializer, request)
        movement = product_stock_adjust(product_id=self._product_id(), actor=request.user, **data)
        product = product_with_stock(user=request.user, product_id=movement.stock.variant.product_id)
        body = StockAdjustmentOutputSerializer({"movement": movement, "product": product}, context={"request": request})
        return Response(body.data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=StockMovementOutputSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], url_path="stock-movements")
    def stock_movements(self, request, pk=None):
        movements = stock_movement_list(filters={"stock__variant__product_id": self._product_id()})
        page = self.paginate_queryset(movements)
        return self.get_paginated_response(StockMovementOutputSerializer(page, many=True).data)


@extend_schema(tags=["products"])
class VariantViewSet(GenericViewSet):
    """``PATCH /variants/{id}``: price, name, options, activity."""

    permission_classes = [IsStaff]
    serializer_class = VariantOutputSerializer
    lookup_value_regex = ID
    queryset = Variant.objects.all()

    @extend_schema(request=VariantUpdateInputSerializer, responses={200: VariantOutputSerializer})
    def partial_update(self, request, pk=None):
        data = validated(VariantUpdateInputSerializer, request)
        variant = entry_point(variant_update, variant_id=self.get_object().pk, changes=dict(data), actor=request.user)
        return Response(VariantOutputSerializer(variant_with_stock(variant_id=variant.pk)).data)
