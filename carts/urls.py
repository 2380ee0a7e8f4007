from carts.views import CartViewSet
from config.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("carts", CartViewSet, basename="cart")

urlpatterns = router.urls
