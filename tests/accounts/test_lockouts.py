"""Failed-login lockouts: by account, and by client only past LOGIN_CLIENT_FAILURE_LIMIT."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from rest_framework.test import APIClient

from accounts.models import TokenFamily
from tests.assertions import error_of

pytestmark = pytest.mark.django_db

WRONG = "Wrong-Password-1"


def login(client, email, password):
    return client.post("/auth/login", {"email": email, "password": password}, format="json")


def test_a_locked_account_does_not_lock_out_colleagues_on_the_same_address(
    api_client, user_factory, password, settings
):
    forgetful, colleague = user_factory(), user_factory()
    statuses = [login(api_client, forgetful.email, WRONG).status_code for _ in range(settings.AXES_FAILURE_LIMIT)]

    colleague_login = login(api_client, colleague.email, password)
    forgetful_login = login(api_client, forgetful.email, password)

    assert statuses == [401] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    assert colleague_login.status_code == 200
    assert forgetful_login.status_code == 429
    assert error_of(forgetful_login)["details"]["scope"] == "account"
    assert not TokenFamily.objects.filter(user=forgetful).exists()


def test_a_locked_account_is_locked_from_every_address(api_client, customer, password, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(api_client, customer.email, WRONG)

    response = login(APIClient(REMOTE_ADDR="203.0.113.7"), customer.email, password)

    assert response.status_code == 429
    assert error_of(response)["code"] == "login_locked_out"


def test_answers_to_a_locked_account_are_not_counted_as_failures(api_client, user_factory, password, settings):
    settings.LOGIN_CLIENT_FAILURE_LIMIT = settings.AXES_FAILURE_LIMIT + 1
    locked, colleague = user_factory(), user_factory()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(api_client, locked.email, WRONG)

    retries = [login(api_client, locked.email, WRONG).status_code for _ in range(5)]
    colleague_login = login(api_client, colleague.email, password)

    assert retries == [429] * 5
    assert AccessFailureLog.objects.filter(ip_address="127.0.0.1").count() == settings.AXES_FAILURE_LIMIT
    assert AccessAttempt.objects.get(username=locked.email).failures_since_start == settings.AXES_FAILURE_LIMIT
    assert colleague_login.status_code == 200


def test_account_lockout_ends_with_its_cool_off(api_client, customer, password, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(api_client, customer.email, WRONG)
    assert login(api_client, customer.email, password).status_code == 429

    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - settings.AXES_COOLOFF_TIME)

    assert login(api_client, customer.email, password).status_code == 200


def test_successful_login_resets_the_account_failure_count(api_client, customer, password, settings):
    before = [login(api_client, customer.email, WRONG).status_code for _ in range(settings.AXES_FAILURE_LIMIT - 1)]
    assert login(api_client, customer.email, password).status_code == 200
    after = [login(api_client, customer.email, WRONG).status_code for _ in range(settings.AXES_FAILURE_LIMIT - 1)]

    assert before == after == [401] * (settings.AXES_FAILURE_LIMIT - 1)
    assert login(api_client, customer.email, password).status_code == 200


def test_client_threshold_stops_credential_stuffing(api_client, user_factory, password, settings):
    settings.LOGIN_CLIENT_FAILURE_LIMIT = 3
    victims, bystander = user_factory.create_batch(4), user_factory()

    statuses = [login(api_client, victim.email, WRONG).status_code for victim in victims]
    right_password = login(api_client, bystander.email, password)
    elsewhere = login(APIClient(REMOTE_ADDR="203.0.113.7"), bystander.email, password)

    assert statuses == [401, 401, 401, 429]
    assert right_password.status_code == 429
    error = error_of(right_password)
    assert error["code"] == "login_locked_out"
    assert error["details"]["scope"] == "client"
    assert 0 < error["details"]["retry_after"] <= 15 * 60
    assert right_password["Retry-After"] == str(error["details"]["retry_after"])
    assert AccessFailureLog.objects.count() == 3  # the answers to a locked client were not counted
    assert elsewhere.status_code == 200
    assert list(TokenFamily.objects.values_list("user_id", flat=True)) == [bystander.pk]


def test_client_threshold_window_passes(api_client, user_factory, password, settings):
    settings.LOGIN_CLIENT_FAILURE_LIMIT = 3
    victims, bystander = user_factory.create_batch(3), user_factory()
    for victim in victims:
        login(api_client, victim.email, WRONG)
    assert login(api_client, bystander.email, password).status_code == 429

    oldest = AccessFailureLog.objects.order_by("attempt_time").first()
    AccessFailureLog.objects.filter(pk=oldest.pk).update(attempt_time=oldest.attempt_time - timedelta(minutes=15))

    assert login(api_client, bystander.email, password).status_code == 200


def test_client_threshold_default_is_far_above_the_account_limit(settings):
    assert settings.LOGIN_CLIENT_FAILURE_LIMIT == 100
    assert settings.LOGIN_CLIENT_WINDOW_MINUTES == 15
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username"]
