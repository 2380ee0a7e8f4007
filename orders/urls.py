from config.routers import OptionalSlashRouter
from orders.views import OrderViewSet

router = OptionalSlashRouter()
router.register("orders", OrderViewSet, basename="order")

urlpatterns = router.urls
