from rest_framework.routers import SimpleRouter


class OptionalSlashRouter(SimpleRouter):
    """Routes that answer both ``/products`` and ``/products/`` (no redirect, no 404)."""

    def __init__(self) -> None:
        super().__init__()
        self.trailing_slash = "/?"
