from config.routers import OptionalSlashRouter
from orders.views.orders import OrderViewSet
from orders.views.payments import PaymentViewSet
from orders.views.shipments import ShipmentViewSet

router = OptionalSlashRouter()
router.register("orders", OrderViewSet, basename="order")
router.register("payments", PaymentViewSet, basename="payment")
router.register("shipments", ShipmentViewSet, basename="shipment")

urlpatterns = router.urls
