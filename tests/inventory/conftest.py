import pytest
from rest_framework.test import APIClient

from accounts.models import Role

ROLES = {"admin": Role.ADMIN, "inventory_manager": Role.INVENTORY_MANAGER, "customer": Role.CUSTOMER}


@pytest.fixture
def client_as(client_for, user_factory):
    """``client_as(role)``: an API client for a fresh user of ``role``, or without a token for "anonymous"."""

    def make(role: str) -> APIClient:
        if role == "anonymous":
            return APIClient()
        return client_for(user_factory(role=ROLES[role]))

    return make
