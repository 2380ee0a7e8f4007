from django.urls import re_path

from catalog.validators import SKU_PATTERN
from config.routers import OptionalSlashRouter
from inventory.views.products import ProductViewSet, VariantViewSet
from inventory.views.stock import LocationViewSet, ReservationViewSet, StockViewSet, WarehouseViewSet

router = OptionalSlashRouter()
router.register("products", ProductViewSet, basename="product")
router.register("variants", VariantViewSet, basename="variant")
router.register("warehouses", WarehouseViewSet, basename="warehouse")
router.register("locations", LocationViewSet, basename="location")
router.register("stock/reservations", ReservationViewSet, basename="reservation")
router.register("stock", StockViewSet, basename="stock")

# GET /stock/{sku} comes last: /stock/movements, /stock/receipts ... are matched first.
stock_of_sku = re_path(
    rf"^stock/(?P<sku>{SKU_PATTERN.strip('^$')})/?$", StockViewSet.as_view({"get": "sku"}), name="stock-sku"
)

urlpatterns = [*router.urls, stock_of_sku]
