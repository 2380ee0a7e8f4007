"""Brands, categories, variant snapshots and product images. Products themselves render with their
stock, so ``/products`` and ``/variants/{id}`` are served by ``inventory.views``."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.permissions import IsStaff
from catalog.models import Category, ProductImage
from catalog.selectors import brand_list, category_list, product_list, variant_snapshot
from catalog.serializers import (
    BrandCreateInputSerializer,
    BrandOutputSerializer,
    CategoryCreateInputSerializer,
    CategoryOutputSerializer,
    CategoryUpdateInputSerializer,
    ProductImageInputSerializer,
    ProductImageOutputSerializer,
    VariantSnapshotOutputSerializer,
)
from catalog.services.brands import brand_create
from catalog.services.categories import category_create, category_update
from catalog.services.images import product_image_add, product_image_delete
from config.db import entry_point
from config.viewsets import GenericViewSet, ViewSet, validated

ID = r"\d{1,18}"


class _StaffWrites:
    def get_permissions(self):
        if self.action in ("list", "retrieve"):
            return [IsAuthenticated()]
        return [IsStaff()]


@extend_schema(tags=["catalog"])
class BrandViewSet(_StaffWrites, mixins.ListModelMixin, GenericViewSet):
    serializer_class = BrandOutputSerializer
    queryset = brand_list()

    @extend_schema(request=BrandCreateInputSerializer, responses={201: BrandOutputSerializer})
    def create(self, request):
        data = validated(BrandCreateInputSerializer, request)
        brand = entry_point(brand_create, **data, actor=request.user)
        return Response(BrandOutputSerializer(brand).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["catalog"])
class CategoryViewSet(_StaffWrites, mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    serializer_class = CategoryOutputSerializer
    lookup_value_regex = ID

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Category.objects.none()
        return category_list(user=self.request.user)

    @extend_schema(request=CategoryCreateInputSerializer, responses={201: CategoryOutputSerializer})
    def create(self, request):
        data = validated(CategoryCreateInputSerializer, request)
        category = entry_point(category_create, **data, actor=request.user)
        return Response(CategoryOutputSerializer(category).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CategoryUpdateInputSerializer, responses={200: CategoryOutputSerializer})
    def partial_update(self, request, pk=None):
        data = validated(CategoryUpdateInputSerializer, request)
        category = entry_point(
            category_update,
            category_id=self.get_object().pk,
            changes=dict(data),
            actor=request.user,
        )
        return Response(CategoryOutputSerializer(category).data)


@extend_schema(tags=["catalog"])
class VariantSnapshotViewSet(ViewSet):
    """``GET /variants/{id}/snapshot``: what an order copies of a sellable variant (404 otherwise, for staff too)."""

    lookup_value_regex = ID

    @extend_schema(responses={200: VariantSnapshotOutputSerializer})
    @action(detail=True, methods=["get"])
    def snapshot(self, request, pk=None):
        snapshot = variant_snapshot(variant_id=int(pk))
        if snapshot is None:
            raise NotFound()
        return Response(VariantSnapshotOutputSerializer(snapshot).data)


@extend_schema(tags=["catalog"])
class ProductImageViewSet(GenericViewSet):
    """``POST /products/{product_id}/images`` (multipart) and ``DELETE /products/{product_id}/images/{id}``."""

    permission_classes = [IsStaff]
    parser_classes = [MultiPartParser, FormParser]
    serializer_class = ProductImageOutputSerializer
    lookup_value_regex = ID

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ProductImage.objects.none()
        return ProductImage.objects.filter(product_id=self.kwargs["product_id"])

    def _product_id(self) -> int:
        product = product_list(user=self.request.user).filter(pk=self.kwargs["product_id"]).first()
        if product is None:
            raise NotFound()
        return product.pk

    @extend_schema(
        request={"multipart/form-data": ProductImageInputSerializer}, responses={201: ProductImageOutputSerializer}
    )
    def create(self, request, product_id=None):
        product_id = self._product_id()
        data = validated(ProductImageInputSerializer, request)
        image = product_image_add(
            product_id=product_id,
            upload=data["file"],
            alt=data["alt"],
            position=data.get("position"),
        )
        return Response(ProductImageOutputSerializer(image, context={"request": request}).data, status=201)

    @extend_schema(responses={204: None})
    def destroy(self, request, product_id=None, pk=None):
        product_image_delete(product_id=self._product_id(), image_id=self.get_object().pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
