import pytest

from orders.payments import MockGateway, payment_gateway
from tests.security.world import World


@pytest.fixture(autouse=True)
def gateway(settings) -> MockGateway:
    """The mock payment gateway, emptied for each test."""
    settings.PAYMENT_GATEWAY = "orders.payments.MockGateway"
    mock = payment_gateway()
    mock.reset()
    return mock


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def world(db) -> World:
    return World()
