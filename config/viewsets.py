"""The viewset bases every app uses: DRF's, with OPTIONS answered as its route is; and ``validated``.

DRF checks an OPTIONS request as the ``metadata`` action, which no ``get_permissions`` names, so
it would fall to a view's default rule (staff only on the catalog, any user on order actions).
Here it is allowed when the caller may use any method of the route, and refused otherwise as the
route's first method refuses them (401 or 403), so OPTIONS never says more or less than the route.
"""

from rest_framework import serializers, viewsets
from rest_framework.exceptions import NotAuthenticated, PermissionDenied


def validated(serializer_class: type[serializers.Serializer], request) -> dict:
    """The request body checked by ``serializer_class``; a bad one raises DRF's ``ValidationError`` (400)."""
    data = serializer_class(data=request.data)
    data.is_valid(raise_exception=True)
    return data.validated_data


class RouteOptionsMixin:
    def check_permissions(self, request):
        if self.action != "metadata":
            return super().check_permissions(request)
        refusal = None
        for method, action in self.action_map.items():
            if method in ("options", "head"):
                continue
            self.action = action
            try:
                super().check_permissions(request)
                return None
            except (NotAuthenticated, PermissionDenied) as exc:
                refusal = refusal or exc
            finally:
                self.action = "metadata"
        if refusal is not None:
            raise refusal
        return None


class GenericViewSet(RouteOptionsMixin, viewsets.GenericViewSet):
    pass


class ViewSet(RouteOptionsMixin, viewsets.ViewSet):
    pass
