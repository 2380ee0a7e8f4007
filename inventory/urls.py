from rest_framework.routers import SimpleRouter

from inventory.views import ProductViewSet

router = SimpleRouter(trailing_slash="/?")
router.register("products", ProductViewSet, basename="product")

urlpatterns = router.urls
