"""Two-factor for staff (django-otp): enrolment, login with a code or a recovery code, the Django admin."""

from urllib.parse import parse_qs, urlparse

import pytest
from axes.models import AccessFailureLog
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts.exceptions import OtpInvalid
from accounts.models import Role, TokenFamily
from accounts.services.two_factor import otp_verify
from tests.accounts.otp import RECOVERY_CODES, enrol, next_code, wrong_code
from tests.assertions import error_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_otp_throttle(settings):
    """django-otp refuses to check a code for 1, 2, 4... seconds after a wrong one; these send codes back to back."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


@pytest.fixture
def staff_2fa_required(settings):
    settings.STAFF_2FA_REQUIRED = True


def login(client, user, password, **extra):
    return client.post("/auth/login", {"email": user.email, "password": password, **extra}, format="json")


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


# --- Login ---------------------------------------------------------------------------------------


def test_enrolled_staff_must_send_a_code(api_client, staff_user, password):
    enrol(staff_user)

    response = login(api_client, staff_user, password)

    assert response.status_code == 401
    error = error_of(response)
    assert error["code"] == "otp_required"
    assert error["details"] == {}
    assert not TokenFamily.objects.exists()


def test_enrolled_staff_sign_in_with_a_code(api_client, staff_user, password):
    device = enrol(staff_user)

    response = login(api_client, staff_user, password, otp=next_code(device))

    assert response.status_code == 200
    assert bearer(response.json()["access_token"]).get("/auth/me").json()["id"] == str(staff_user.pk)


def test_a_wrong_code_is_refused_and_counted_as_a_failed_login(api_client, admin_user, password):
    device = enrol(admin_user)

    response = login(api_client, admin_user, password, otp=wrong_code(device))

    assert response.status_code == 401
    assert error_of(response) | {"request_id": None} == {
        "code": "otp_invalid",
        "message": "The one-time code is wrong, expired or already used.",
        "details": {},
        "request_id": None,
    }
    assert list(AccessFailureLog.objects.values_list("username", flat=True)) == [admin_user.email]
    assert not TokenFamily.objects.exists()


def test_a_code_works_once(api_client, admin_user, password):
    device = enrol(admin_user)
    code = next_code(device)
    assert login(api_client, admin_user, password, otp=code).status_code == 200

    replay = login(api_client, admin_user, password, otp=code)

    assert replay.status_code == 401
    assert error_of(replay)["code"] == "otp_invalid"


def test_a_recovery_code_works_once(api_client, admin_user, password):
    enrol(admin_user)

    first = login(api_client, admin_user, password, otp=RECOVERY_CODES[0].upper())
    again = login(api_client, admin_user, password, otp=RECOVERY_CODES[0])

    assert first.status_code == 200
    assert again.status_code == 401
    assert error_of(again)["code"] == "otp_invalid"
    assert list(StaticToken.objects.values_list("token", flat=True)) == [RECOVERY_CODES[1].replace("-", "")]


def test_wrong_codes_are_throttled_by_django_otp(api_client, admin_user, password):
    device = enrol(admin_user)
    assert login(api_client, admin_user, password, otp=wrong_code(device)).status_code == 401

    right_too_soon = login(api_client, admin_user, password, otp=next_code(device))

    assert right_too_soon.status_code == 429
    error = error_of(right_too_soon)
    assert error["code"] == "otp_throttled"
    assert error["details"]["retry_after"] >= 1
    assert AccessFailureLog.objects.count() == 1  # a code that was not even checked is not a failed guess


@pytest.mark.usefixtures("no_otp_throttle")
def test_guessing_codes_locks_the_account_like_wrong_passwords(api_client, admin_user, password, settings):
    device = enrol(admin_user)

    statuses = [
        login(api_client, admin_user, password, otp=wrong_code(device)).status_code
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    right = login(api_client, admin_user, password, otp=next_code(device))

    assert statuses == [401] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    assert right.status_code == 429
    assert error_of(right)["code"] == "login_locked_out"
    assert not TokenFamily.objects.exists()


@pytest.mark.usefixtures("no_otp_throttle")
def test_a_right_code_after_a_wrong_one_signs_in(api_client, admin_user, password):
    device = enrol(admin_user)
    login(api_client, admin_user, password, otp=wrong_code(device))

    assert login(api_client, admin_user, password, otp=next_code(device)).status_code == 200


def test_the_password_is_checked_before_the_code(api_client, admin_user):
    device = enrol(admin_user)

    response = login(api_client, admin_user, "Wrong-Password-1", otp=next_code(device))

    assert response.status_code == 401
    assert error_of(response)["code"] == "invalid_credentials"


def test_staff_without_a_device_sign_in_without_a_code_when_not_required(api_client, staff_user, password):
    assert login(api_client, staff_user, password).status_code == 200


@pytest.mark.usefixtures("staff_2fa_required")
@pytest.mark.parametrize("role", [Role.CUSTOMER])
def test_customers_never_need_a_code(api_client, user_factory, password, role):
    customer = user_factory(role=role)

    assert login(api_client, customer, password).status_code == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_otp_throttle")
@pytest.mark.parametrize("kind", ["app", "recovery"])
def test_concurrent_uses_of_one_code_succeed_once(user_factory, in_threads, kind):
    admin = user_factory(role=Role.ADMIN)
    device = enrol(admin)
    code = next_code(device) if kind == "app" else RECOVERY_CODES[0]

    outcomes = in_threads(otp_verify, [{"user": admin, "otp": code} for _ in range(4)])

    assert sum(isinstance(o, TOTPDevice | StaticDevice) for o in outcomes) == 1
    assert sum(isinstance(o, OtpInvalid) for o in outcomes) == 3


# --- Enrolment -----------------------------------------------------------------------------------


def test_staff_enrol_an_authenticator_and_get_recovery_codes(client_for, api_client, staff_user, password):
    client = client_for(staff_user)

    started = client.post("/auth/2fa/totp", {}, format="json")

    assert started.status_code == 201
    body = started.json()
    assert set(body) == {"secret", "otpauth_uri"}
    uri = urlparse(body["otpauth_uri"])
    assert (uri.scheme, uri.netloc) == ("otpauth", "totp")
    assert uri.path == f"/Inventory%3A{staff_user.email.replace('@', '%40')}"
    assert parse_qs(uri.query)["secret"] == [body["secret"]]
    device = TOTPDevice.objects.get(user=staff_user)
    assert not device.confirmed
    assert login(api_client, staff_user, password).status_code == 200  # unconfirmed: not used yet

    confirmed = client.post("/auth/2fa/totp/confirm", {"otp": next_code(device)}, format="json")

    assert confirmed.status_code == 200
    codes = confirmed.json()["recovery_codes"]
    assert len(set(codes)) == 10
    assert all(len(code) == 11 and code[5] == "-" for code in codes)
    device.refresh_from_db()
    assert device.confirmed
    assert StaticDevice.objects.get(user=staff_user).token_set.count() == 10
    assert error_of(login(api_client, staff_user, password))["code"] == "otp_required"
    assert login(api_client, staff_user, password, otp=next_code(device)).status_code == 200
    assert login(api_client, staff_user, password, otp=codes[0]).status_code == 200


def test_confirm_refuses_a_wrong_code(client_for, admin_user):
    client = client_for(admin_user)
    client.post("/auth/2fa/totp", {}, format="json")
    device = TOTPDevice.objects.get(user=admin_user)

    response = client.post("/auth/2fa/totp/confirm", {"otp": wrong_code(device)}, format="json")

    assert response.status_code == 400
    assert error_of(response)["code"] == "otp_invalid"
    device.refresh_from_db()
    assert not device.confirmed
    assert device.throttling_failure_count == 1
    assert not StaticDevice.objects.exists()


def test_confirm_without_enrolment_is_a_conflict(client_for, admin_user):
    response = client_for(admin_user).post("/auth/2fa/totp/confirm", {"otp": "123456"}, format="json")

    assert response.status_code == 409
    assert error_of(response)["code"] == "otp_enrolment_missing"


def test_enrolling_again_replaces_the_pending_device(client_for, admin_user):
    client = client_for(admin_user)
    first = client.post("/auth/2fa/totp", {}, format="json").json()
    second = client.post("/auth/2fa/totp", {}, format="json").json()

    assert first["secret"] != second["secret"]
    assert TOTPDevice.objects.filter(user=admin_user).count() == 1


@pytest.mark.usefixtures("no_otp_throttle")
def test_re_enrolment_needs_a_current_code_and_replaces_the_old_factors(api_client, admin_user, password):
    old = enrol(admin_user)
    client = bearer(login(api_client, admin_user, password, otp=next_code(old)).json()["access_token"])

    without = client.post("/auth/2fa/totp", {}, format="json")
    wrong = client.post("/auth/2fa/totp", {"otp": wrong_code(old)}, format="json")
    started = client.post("/auth/2fa/totp", {"otp": RECOVERY_CODES[0]}, format="json")
    new = TOTPDevice.objects.get(user=admin_user, confirmed=False)
    codes = client.post("/auth/2fa/totp/confirm", {"otp": next_code(new)}, format="json").json()["recovery_codes"]

    assert (without.status_code, error_of(without)["code"]) == (401, "otp_required")
    assert (wrong.status_code, error_of(wrong)["code"]) == (401, "otp_invalid")
    assert started.status_code == 201
    assert list(TOTPDevice.objects.filter(user=admin_user).values_list("pk", flat=True)) == [new.pk]
    assert login(api_client, admin_user, password, otp=RECOVERY_CODES[1]).status_code == 401  # old codes are gone
    assert login(api_client, admin_user, password, otp=codes[0]).status_code == 200


def test_customers_cannot_enrol(customer_client):
    response = customer_client.post("/auth/2fa/totp", {}, format="json")

    assert response.status_code == 403
    assert error_of(response)["code"] == "staff_required"
    assert not TOTPDevice.objects.exists()


def test_enrolment_needs_a_login(api_client):
    response = api_client.post("/auth/2fa/totp", {}, format="json")

    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"


# --- STAFF_2FA_REQUIRED: first enrolment with the enrolment token ---------------------------------


@pytest.mark.usefixtures("staff_2fa_required")
def test_required_two_factor_hands_out_an_enrolment_token_and_no_tokens(api_client, staff_user, password, settings):
    response = login(api_client, staff_user, password)

    assert response.status_code == 401
    error = error_of(response)
    assert error["code"] == "otp_required"
    assert set(error["details"]) == {"enrol", "enrolment_token", "expires_in"}
    assert error["details"]["expires_in"] == settings.OTP_ENROLMENT_MINUTES * 60
    assert not TokenFamily.objects.exists()


@pytest.mark.usefixtures("staff_2fa_required")
def test_first_enrolment_with_the_enrolment_token(api_client, staff_user, password):
    enrolment_token = error_of(login(api_client, staff_user, password))["details"]["enrolment_token"]
    client = bearer(enrolment_token)

    assert client.post("/auth/2fa/totp", {}, format="json").status_code == 201
    device = TOTPDevice.objects.get(user=staff_user)
    confirmed = client.post("/auth/2fa/totp/confirm", {"otp": next_code(device)}, format="json")
    signed_in = login(api_client, staff_user, password, otp=next_code(device))

    assert confirmed.status_code == 200
    assert signed_in.status_code == 200


@pytest.mark.usefixtures("staff_2fa_required")
def test_the_enrolment_token_opens_nothing_else(api_client, admin_user, password):
    enrolment_token = error_of(login(api_client, admin_user, password))["details"]["enrolment_token"]
    client = bearer(enrolment_token)

    me = client.get("/auth/me")
    refresh = api_client.post("/auth/refresh", {"refresh_token": enrolment_token}, format="json")

    assert (me.status_code, error_of(me)["code"]) == (401, "token_not_valid")
    assert (refresh.status_code, error_of(refresh)["code"]) == (401, "token_not_valid")


@pytest.mark.usefixtures("staff_2fa_required")
def test_an_access_token_is_not_an_enrolment_token_for_someone_else(client_for, customer):
    response = client_for(customer).post("/auth/2fa/totp", {}, format="json")

    assert response.status_code == 403


# --- Django admin --------------------------------------------------------------------------------


def admin_login(client, user, password, **extra):
    return client.post("/admin/login/", {"username": user.email, "password": password, "next": "/admin/", **extra})


def test_admin_sign_in_asks_enrolled_staff_for_a_code(client, admin_user, password):
    device = enrol(admin_user)

    without = admin_login(client, admin_user, password)
    assert without.status_code == 200
    assert b"Enter the code from your authenticator app" in without.content
    assert client.get("/admin/").status_code == 302

    signed_in = admin_login(client, admin_user, password, otp=next_code(device))

    assert signed_in.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_admin_wrong_code_counts_as_a_failed_login(client, admin_user, password):
    device = enrol(admin_user)

    response = admin_login(client, admin_user, password, otp=wrong_code(device))

    assert response.status_code == 200
    assert b"wrong, expired or already used" in response.content
    assert list(AccessFailureLog.objects.values_list("username", flat=True)) == [admin_user.email]
    assert client.get("/admin/").status_code == 302


def test_admin_session_without_a_verified_device_is_sent_to_sign_in(client, admin_user):
    enrol(admin_user)
    client.force_login(admin_user)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_admin_sign_in_without_a_device_when_not_required(client, inventory_manager, password):
    assert admin_login(client, inventory_manager, password).status_code == 302
    assert client.get("/admin/").status_code == 200


@pytest.mark.usefixtures("staff_2fa_required")
def test_admin_sign_in_when_required_needs_an_enrolled_device(client, admin_user, password):
    response = admin_login(client, admin_user, password)

    assert response.status_code == 200
    assert b"enrol an authenticator app first" in response.content
    assert client.get("/admin/").status_code == 302
