"""URLs that fail on purpose, to test the 500 answer (mounted only by tests)."""

from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from config.urls import urlpatterns as project_urlpatterns


class FailingApiView(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError("secret internal detail")


def failing_django_view(request):
    raise RuntimeError("secret internal detail")


urlpatterns = [
    path("boom/api", FailingApiView.as_view()),
    path("boom/django", failing_django_view),
    *project_urlpatterns,
]

handler404 = "config.errors.not_found"
handler500 = "config.errors.server_error"
