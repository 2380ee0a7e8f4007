import pytest

from orders.gateway import MockGateway, payment_gateway


@pytest.fixture(autouse=True)
def gateway(settings) -> MockGateway:
    """The mock payment gateway, its memory and call counts emptied for each test."""
    settings.PAYMENT_GATEWAY = "orders.gateway.MockGateway"
    mock = payment_gateway()
    mock.reset()
    return mock
