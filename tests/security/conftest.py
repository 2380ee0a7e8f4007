import pytest

from tests.orders.conftest import gateway  # noqa: F401 - the same emptied mock gateway for every test here
from tests.security.world import World


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def world(db) -> World:
    return World()
