"""``/payments``: the payment records of orders. Customers pay and read their own; admins settle them."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from config.viewsets import GenericViewSet, validated
from orders.filters import PaymentFilter
from orders.models import Payment
from orders.permissions import CanPay, CanSettlePayments
from orders.selectors import order_visible_check, payment_list
from orders.serializers import (
    PaymentCreateInputSerializer,
    PaymentFailInputSerializer,
    PaymentOutputSerializer,
    PaymentSucceedInputSerializer,
)
from orders.services.payments import payment_create, payment_fail, payment_succeed


@extend_schema_view(
    list=extend_schema(responses=PaymentOutputSerializer(many=True)),
    retrieve=extend_schema(responses=PaymentOutputSerializer),
)
@extend_schema(tags=["payments"])
class PaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, GenericViewSet):
    serializer_class = PaymentOutputSerializer
    filterset_class = PaymentFilter
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Payment.objects.none()
        return payment_list(user=self.request.user)

    def get_permissions(self):
        if self.action == "create":
            return [CanPay()]
        if self.action in ("succeed", "fail"):
            return [CanSettlePayments()]
        return [IsAuthenticated()]

    @extend_schema(request=PaymentCreateInputSerializer, responses={201: PaymentOutputSerializer})
    def create(self, request):
        """A PENDING payment of the order's amount (the order's customer or an admin)."""
        data = validated(PaymentCreateInputSerializer, request)
        order_visible_check(user=request.user, order_id=data["order_id"])
        payment = payment_create(order_id=data["order_id"], actor=request.user, provider=data["provider"])
        return Response(PaymentOutputSerializer(payment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=PaymentSucceedInputSerializer, responses={200: PaymentOutputSerializer})
    @action(detail=True, methods=["post"])
    def succeed(self, request, pk=None):
        """PENDING -> SUCCEEDED (admins, for the provider); the order becomes PAID."""
        data = validated(PaymentSucceedInputSerializer, request)
        payment = payment_succeed(
            payment_id=self.get_object().pk, actor=request.user, provider_reference=data.get("provider_reference")
        )
        return Response(PaymentOutputSerializer(payment).data)

    @extend_schema(request=PaymentFailInputSerializer, responses={200: PaymentOutputSerializer})
    @action(detail=True, methods=["post"])
    def fail(self, request, pk=None):
        """PENDING -> FAILED with a reason (admins, for the provider); the order does not change."""
        data = validated(PaymentFailInputSerializer, request)
        payment = payment_fail(payment_id=self.get_object().pk, actor=request.user, reason=data["reason"])
        return Response(PaymentOutputSerializer(payment).data)
