from config.routers import OptionalSlashRouter

router = OptionalSlashRouter()

urlpatterns = router.urls
