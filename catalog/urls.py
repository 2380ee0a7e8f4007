from catalog.views import BrandViewSet, CategoryViewSet, ProductImageViewSet, VariantSnapshotViewSet
from config.routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("brands", BrandViewSet, basename="brand")
router.register("categories", CategoryViewSet, basename="category")
router.register("variants", VariantSnapshotViewSet, basename="variant-snapshot")
router.register(r"products/(?P<product_id>\d{1,18})/images", ProductImageViewSet, basename="product-image")

urlpatterns = router.urls
