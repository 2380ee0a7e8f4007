"""The client's address behind TRUSTED_PROXIES proxies: what the per-client login limit and the anonymous
throttle count. Each proxy appends the address it was reached from to X-Forwarded-For, so only the
right-most TRUSTED_PROXIES entries are true; a client can write anything to the left of them."""

import pytest
from axes.models import AccessFailureLog
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import TokenFamily
from config.client_address import client_address
from tests.assertions import error_of

pytestmark = pytest.mark.django_db

WRONG = "Wrong-Password-1"
PROXY = "10.0.0.2"  # REMOTE_ADDR of every request that came through the proxy


@pytest.fixture
def trusted_proxies(settings):
    """Set TRUSTED_PROXIES and what the settings derive from it, as a deploy's environment would."""

    def trust(count: int) -> None:
        settings.TRUSTED_PROXIES = count

    return trust


@pytest.fixture
def anon_rate(monkeypatch):
    cache.clear()  # throttle history is shared across tests: start from none
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/min", "user": "1000/min"})


def through_proxy(forwarded_for: str) -> APIClient:
    """A client behind the proxy: ``forwarded_for`` is the header as the proxy passes it on."""
    return APIClient(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded_for)


def login(client, email, password):
    return client.post("/auth/login", {"email": email, "password": password}, format="json")


def anonymous_call(client):
    return client.post("/auth/refresh", {"refresh_token": "x"}, format="json")


def assert_client_locked_out(response):
    assert response.status_code == 429
    error = error_of(response)
    assert (error["code"], error["details"]["scope"]) == ("login_locked_out", "client")


def test_behind_a_proxy_the_login_client_limit_counts_each_client_apart(
    trusted_proxies, user_factory, password, settings
):
    trusted_proxies(1)
    settings.LOGIN_CLIENT_FAILURE_LIMIT = 3
    victims, bystander = user_factory.create_batch(3), user_factory()
    stuffer = through_proxy("198.51.100.1")

    statuses = [login(stuffer, victim.email, WRONG).status_code for victim in victims]
    stuffer_again = login(stuffer, bystander.email, password)
    # the stuffer writes another address into the header; the proxy appends the real one after it
    stuffer_forging = login(through_proxy("203.0.113.9, 198.51.100.1"), bystander.email, password)
    # an unclosed quote, which django-ipware's parser lets swallow the entries after it
    stuffer_quoting = login(through_proxy('203.0.113.9, ", 198.51.100.1'), bystander.email, password)
    colleague = login(through_proxy("198.51.100.2"), bystander.email, password)

    assert statuses == [401, 401, 401]
    assert_client_locked_out(stuffer_again)
    assert_client_locked_out(stuffer_forging)
    assert_client_locked_out(stuffer_quoting)
    assert colleague.status_code == 200
    assert list(AccessFailureLog.objects.values_list("ip_address", flat=True)) == ["198.51.100.1"] * 3
    assert list(TokenFamily.objects.values_list("user_id", flat=True)) == [bystander.pk]


def test_behind_two_proxies_the_client_is_the_second_address_from_the_right(
    trusted_proxies, user_factory, password, settings
):
    trusted_proxies(2)  # e.g. a CDN, then the TLS proxy: the CDN's address is appended last
    settings.LOGIN_CLIENT_FAILURE_LIMIT = 2
    victims, bystander = user_factory.create_batch(2), user_factory()
    stuffer = through_proxy("203.0.113.9, 198.51.100.1, 192.0.2.10")

    statuses = [login(stuffer, victim.email, WRONG).status_code for victim in victims]
    stuffer_again = login(through_proxy("198.51.100.1, 192.0.2.10"), bystander.email, password)
    colleague = login(through_proxy("198.51.100.2, 192.0.2.10"), bystander.email, password)

    assert statuses == [401, 401]
    assert_client_locked_out(stuffer_again)
    assert colleague.status_code == 200
    assert set(AccessFailureLog.objects.values_list("ip_address", flat=True)) == {"198.51.100.1"}


def test_without_a_proxy_a_forged_forwarded_for_does_not_escape_the_login_client_limit(
    trusted_proxies, user_factory, password, settings
):
    trusted_proxies(0)
    settings.LOGIN_CLIENT_FAILURE_LIMIT = 3
    victims, bystander = user_factory.create_batch(3), user_factory()

    def forging(n: int) -> APIClient:
        return APIClient(REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")

    statuses = [login(forging(n), victim.email, WRONG).status_code for n, victim in enumerate(victims)]
    forged_again = login(forging(99), bystander.email, password)

    assert statuses == [401, 401, 401]
    assert_client_locked_out(forged_again)
    assert list(AccessFailureLog.objects.values_list("ip_address", flat=True)) == ["198.51.100.1"] * 3
    assert not TokenFamily.objects.exists()


@pytest.mark.usefixtures("anon_rate")
def test_behind_a_proxy_the_anonymous_throttle_counts_each_client_apart(trusted_proxies):
    trusted_proxies(1)
    first = through_proxy("198.51.100.1")

    statuses = [anonymous_call(first).status_code for _ in range(2)]
    first_again = anonymous_call(first)
    first_forging = anonymous_call(through_proxy("203.0.113.9, 198.51.100.1"))
    first_quoting = anonymous_call(through_proxy('203.0.113.9, ", 198.51.100.1'))
    second = anonymous_call(through_proxy("198.51.100.2"))

    assert statuses == [401, 401]
    assert (first_again.status_code, error_of(first_again)["code"]) == (429, "throttled")
    assert (first_forging.status_code, error_of(first_forging)["code"]) == (429, "throttled")
    assert (first_quoting.status_code, error_of(first_quoting)["code"]) == (429, "throttled")
    assert (second.status_code, error_of(second)["code"]) == (401, "token_not_valid")


@pytest.mark.usefixtures("anon_rate")
def test_without_a_proxy_a_forged_forwarded_for_does_not_escape_the_anonymous_throttle(trusted_proxies):
    trusted_proxies(0)

    def forging(n: int) -> APIClient:
        return APIClient(REMOTE_ADDR="198.51.100.1", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")

    statuses = [anonymous_call(forging(n)).status_code for n in range(2)]
    forged_again = anonymous_call(forging(99))
    elsewhere = anonymous_call(APIClient(REMOTE_ADDR="198.51.100.2"))

    assert statuses == [401, 401]
    assert (forged_again.status_code, error_of(forged_again)["code"]) == (429, "throttled")
    assert elsewhere.status_code == 401


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "expected"),
    [
        (0, None, PROXY),
        (0, "203.0.113.9", PROXY),
        (1, None, PROXY),
        (1, "198.51.100.1", "198.51.100.1"),
        (1, "203.0.113.9, 198.51.100.1", "198.51.100.1"),
        (1, '203.0.113.9, ", 198.51.100.1', "198.51.100.1"),
        (1, '"203.0.113.9, 198.51.100.1', "198.51.100.1"),
        (1, "198.51.100.1 ,  2001:db8::1 ", "2001:db8::1"),
        (2, "203.0.113.9, 198.51.100.1, 192.0.2.10", "198.51.100.1"),
        (2, "198.51.100.1", "198.51.100.1"),  # fewer entries than proxies: the left-most
        (1, "not-an-address", PROXY),  # only a misconfigured proxy writes this: counted against the proxy
        (1, "203.0.113.9, 198.51.100.1:4711", PROXY),
    ],
)
def test_client_address(rf, settings, proxies, forwarded_for, expected):
    settings.TRUSTED_PROXIES = proxies
    meta = {"REMOTE_ADDR": PROXY} | ({"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for is not None else {})
    assert client_address(rf.get("/", **meta)) == expected
