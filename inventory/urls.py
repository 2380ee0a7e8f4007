from config.routers import OptionalSlashRouter
from inventory.views import ProductViewSet

router = OptionalSlashRouter()
router.register("products", ProductViewSet, basename="product")

urlpatterns = router.urls
