"""DRF's rate throttles, keyed on ``config.client_address`` (the same client the login limits count)."""

from rest_framework import throttling

from config.client_address import client_address


class ClientAddressMixin:
    def get_ident(self, request) -> str | None:
        return client_address(request)


class AnonRateThrottle(ClientAddressMixin, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(ClientAddressMixin, throttling.UserRateThrottle):
    pass
