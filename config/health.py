"""``GET /health``: the API answers and the database does a real round trip."""

from django.db import DatabaseError, connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


def database_ping() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        return False


HealthSerializer = inline_serializer("Health", {"status": serializers.CharField(), "database": serializers.CharField()})


class HealthView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes: list = []

    @extend_schema(responses={200: HealthSerializer, 503: HealthSerializer}, tags=["health"])
    def get(self, request):
        if database_ping():
            return Response({"status": "ok", "database": "ok"})
        return Response({"status": "error", "database": "unavailable"}, status=503)
