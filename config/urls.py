from django.conf import settings
from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.errors import method_not_allowed
from config.health import HealthView

READ_ONLY = ("GET", "HEAD", "OPTIONS")


class DocsView(SpectacularSwaggerView):
    """Swagger UI. OPTIONS answers with the allowed methods (DRF's metadata has no HTML rendering)."""

    def options(self, request, *args, **kwargs):
        return HttpResponse(headers={"Allow": ", ".join(READ_ONLY)})


urlpatterns = [
    path("admin/", admin.site.urls),
    re_path(r"^health/?$", HealthView.as_view(), name="health"),
    re_path(r"^schema/?$", SpectacularAPIView.as_view(), name="schema"),
    re_path(r"^docs/?$", DocsView.as_view(url_name="schema"), name="docs"),
    path("", include("accounts.urls")),
    path("", include("catalog.urls")),
    path("", include("inventory.urls")),
    path("", include("orders.urls")),
    path("", include("carts.urls")),
]


@csrf_exempt  # it never writes: any other method is a 405
def media(request, path: str):
    """Uploaded product images from the local media folder (S3-compatible storage serves its own)."""
    if request.method == "OPTIONS":
        return HttpResponse(headers={"Allow": ", ".join(READ_ONLY)})
    if request.method not in READ_ONLY:
        return method_not_allowed(request, allowed=READ_ONLY)
    return serve(request, path, document_root=settings.MEDIA_ROOT)


if settings.SERVE_MEDIA:
    urlpatterns.append(re_path(rf"^{settings.MEDIA_URL.strip('/')}/(?P<path>.*)$", media, name="media"))

handler400 = "config.errors.bad_request"
handler403 = "config.errors.permission_denied"
handler404 = "config.errors.not_found"
handler500 = "config.errors.server_error"
