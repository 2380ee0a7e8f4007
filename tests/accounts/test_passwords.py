"""Password reset (emailed single-use token) and password change; both revoke every refresh token."""

import re
import threading

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from structlog.testing import capture_logs

from accounts.exceptions import InvalidToken
from accounts.models import TokenFamily, TokenRevocation, User
from accounts.services.passwords import password_reset_confirm
from accounts.services.tokens import auth_tokens_issue
from tests.assertions import error_of, field_errors

pytestmark = pytest.mark.django_db

NEW = "Brand-New-Passphrase-31"


def reset_request(client, email):
    return client.post("/auth/password-reset", {"email": email}, format="json")


def reset_confirm(client, **payload):
    return client.post("/auth/password-reset/confirm", payload, format="json")


def emailed_link(message) -> dict:
    return dict(re.findall(r"^(uid|token): (\S+)$", message.body, flags=re.MULTILINE))


def refresh(client, token):
    return client.post("/auth/refresh", {"refresh_token": token}, format="json")


def test_reset_request_emails_a_token_after_commit(api_client, customer, django_capture_on_commit_callbacks):
    with capture_logs() as logs, django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = reset_request(api_client, customer.email.upper())
        assert mail.outbox == []  # nothing leaves before the transaction commits
    for callback in callbacks:
        with capture_logs() as logs:
            callback()

    assert response.status_code == 202
    assert response.content == b""
    [message] = mail.outbox
    assert message.to == [customer.email]
    assert message.subject == "Reset your password"
    link = emailed_link(message)
    assert link["uid"] == urlsafe_base64_encode(force_bytes(customer.pk))
    assert default_token_generator.check_token(customer, link["token"])
    assert [log for log in logs if log["event"] == "email_sent"] == [
        {"event": "email_sent", "to": customer.email, "template": "password_reset", "log_level": "info"}
    ]


def test_reset_request_for_an_unknown_email_answers_the_same_and_sends_nothing(
    api_client, customer, django_capture_on_commit_callbacks
):
    with capture_logs() as logs, django_capture_on_commit_callbacks(execute=True) as unknown_callbacks:
        unknown = reset_request(api_client, "nobody@example.com")
    with django_capture_on_commit_callbacks(execute=True) as known_callbacks:
        known = reset_request(api_client, customer.email)

    assert (unknown.status_code, unknown.content) == (known.status_code, known.content) == (202, b"")
    assert len(unknown_callbacks) == len(known_callbacks) == 1  # the same work, but for what the job does
    assert [log["event"] for log in logs if log["event"].startswith(("password_reset", "email"))] == [
        "password_reset_unknown_email"
    ]
    assert [m.to for m in mail.outbox] == [[customer.email]]


class HeldMailBackend(BaseEmailBackend):
    """A mail server that accepts a message only once the test lets it (``release``): a slow SMTP server
    whose slowness the test decides, without sleeping."""

    release: threading.Event
    done: threading.Event
    sent: list[tuple[bool, list[str]]]

    def send_messages(self, messages):
        released = self.release.wait(timeout=30)  # False: nobody let it go (the request waited for it)
        self.sent.extend((released, message.to) for message in messages)
        self.done.set()
        return len(messages)


@pytest.fixture
def held_mail(settings):
    settings.EMAIL_BACKEND = f"{__name__}.HeldMailBackend"
    settings.EMAIL_IN_BACKGROUND = True
    HeldMailBackend.release, HeldMailBackend.done, HeldMailBackend.sent = threading.Event(), threading.Event(), []
    yield HeldMailBackend
    HeldMailBackend.release.set()


@pytest.mark.django_db(transaction=True)
def test_reset_request_does_not_wait_for_the_mail_server(api_client, customer, held_mail):
    response = reset_request(api_client, customer.email)  # answered while the mail server holds the message
    held_mail.release.set()

    assert held_mail.done.wait(timeout=30)
    assert response.status_code == 202
    assert held_mail.sent == [(True, [customer.email])]  # sent after the answer, once released


def test_reset_request_sends_nothing_to_inactive_accounts(api_client, user_factory, django_capture_on_commit_callbacks):
    user = user_factory(is_active=False)

    with django_capture_on_commit_callbacks(execute=True):
        response = reset_request(api_client, user.email)

    assert response.status_code == 202
    assert mail.outbox == []


def test_reset_request_link_uses_the_configured_url(api_client, customer, settings, django_capture_on_commit_callbacks):
    settings.PASSWORD_RESET_URL = "https://shop.example.com/reset?uid={uid}&token={token}"

    with django_capture_on_commit_callbacks(execute=True):
        reset_request(api_client, customer.email)

    uid = urlsafe_base64_encode(force_bytes(customer.pk))
    assert f"https://shop.example.com/reset?uid={uid}&token=" in mail.outbox[0].body


def test_reset_request_validates_the_email(api_client):
    assert "email" in field_errors(reset_request(api_client, "not-an-email"))


def test_reset_confirm_sets_the_password_and_revokes_every_refresh_token(api_client, customer, password):
    phone = auth_tokens_issue(user=customer)
    laptop = auth_tokens_issue(user=customer)
    uid = urlsafe_base64_encode(force_bytes(customer.pk))
    token = default_token_generator.make_token(customer)

    response = reset_confirm(api_client, uid=uid, token=token, new_password=NEW)

    assert response.status_code == 204
    assert User.objects.get(pk=customer.pk).check_password(NEW)
    assert refresh(api_client, phone.refresh_token).status_code == 401
    assert refresh(api_client, laptop.refresh_token).status_code == 401
    assert set(TokenFamily.objects.values_list("revoked_reason", flat=True)) == {TokenRevocation.PASSWORD_RESET}
    old = api_client.post("/auth/login", {"email": customer.email, "password": password}, format="json")
    new = api_client.post("/auth/login", {"email": customer.email, "password": NEW}, format="json")
    assert (old.status_code, new.status_code) == (401, 200)


def test_reset_token_works_once(api_client, customer):
    uid = urlsafe_base64_encode(force_bytes(customer.pk))
    token = default_token_generator.make_token(customer)
    assert reset_confirm(api_client, uid=uid, token=token, new_password=NEW).status_code == 204

    again = reset_confirm(api_client, uid=uid, token=token, new_password="Yet-Another-Passphrase-5")

    assert again.status_code == 400
    error = error_of(again)
    assert error["code"] == "invalid_token"
    assert error["details"] == {}
    assert User.objects.get(pk=customer.pk).check_password(NEW)


@pytest.mark.parametrize(
    "breakage", ["wrong_token", "garbage_uid", "unknown_uid", "another_users_token", "expired", "inactive"]
)
def test_reset_confirm_refuses_bad_tokens(api_client, customer, user_factory, password, settings, breakage):
    uid = urlsafe_base64_encode(force_bytes(customer.pk))
    token = default_token_generator.make_token(customer)
    if breakage == "wrong_token":
        token = token[:-3] + "abc"
    elif breakage == "garbage_uid":
        uid = "!!not-base64!!"
    elif breakage == "unknown_uid":
        uid = urlsafe_base64_encode(force_bytes(user_factory.build().pk))
    elif breakage == "another_users_token":
        token = default_token_generator.make_token(user_factory())
    elif breakage == "expired":
        settings.PASSWORD_RESET_TIMEOUT = -1
    elif breakage == "inactive":
        User.objects.filter(pk=customer.pk).update(is_active=False)

    response = reset_confirm(api_client, uid=uid, token=token, new_password=NEW)

    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid_token"
    assert User.objects.get(pk=customer.pk).check_password(password)


def test_reset_confirm_runs_the_password_validators(api_client, customer, password):
    refresh_token = auth_tokens_issue(user=customer).refresh_token
    uid = urlsafe_base64_encode(force_bytes(customer.pk))
    token = default_token_generator.make_token(customer)

    response = reset_confirm(api_client, uid=uid, token=token, new_password="12345678")

    messages = field_errors(response)["new_password"]
    assert "This password is too common." in messages
    assert "This password is entirely numeric." in messages
    assert User.objects.get(pk=customer.pk).check_password(password)
    assert refresh(api_client, refresh_token).status_code == 200
    assert reset_confirm(api_client, uid=uid, token=token, new_password=NEW).status_code == 204  # still unused


@pytest.mark.django_db(transaction=True)
def test_concurrent_resets_with_one_token_succeed_once(user_factory, in_threads):
    user = user_factory()
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    calls = [{"uid": uid, "token": token, "new_password": f"{NEW}-{i}"} for i in range(4)]

    outcomes = in_threads(password_reset_confirm, calls)

    assert sum(isinstance(o, User) for o in outcomes) == 1
    assert sum(isinstance(o, InvalidToken) for o in outcomes) == 3
    [winner] = [calls[i]["new_password"] for i, o in enumerate(outcomes) if isinstance(o, User)]
    assert User.objects.get(pk=user.pk).check_password(winner)


def test_password_change_sets_the_password_and_revokes_every_refresh_token(client_for, api_client, customer, password):
    other_login = auth_tokens_issue(user=customer)
    client = client_for(customer)

    response = client.post("/auth/password-change", {"old_password": password, "new_password": NEW}, format="json")

    assert response.status_code == 204
    assert User.objects.get(pk=customer.pk).check_password(NEW)
    assert refresh(api_client, other_login.refresh_token).status_code == 401
    assert not TokenFamily.objects.filter(user=customer, revoked_at__isnull=True).exists()
    assert set(TokenFamily.objects.values_list("revoked_reason", flat=True)) == {TokenRevocation.PASSWORD_CHANGED}


def test_password_change_refuses_a_wrong_old_password(client_for, api_client, customer, password):
    client = client_for(customer)
    refresh_token = auth_tokens_issue(user=customer).refresh_token

    response = client.post("/auth/password-change", {"old_password": "Wrong-1", "new_password": NEW}, format="json")

    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid_password"
    assert error["details"] == {}
    assert User.objects.get(pk=customer.pk).check_password(password)
    assert refresh(api_client, refresh_token).status_code == 200


def test_password_change_wrong_old_passwords_count_as_failed_logins(
    client_for, api_client, customer, password, settings
):
    client = client_for(customer)
    body = {"old_password": "Wrong-1", "new_password": NEW}

    statuses = [client.post("/auth/password-change", body, format="json").status_code for _ in range(5)]
    right_old = client.post("/auth/password-change", {"old_password": password, "new_password": NEW}, format="json")
    login = api_client.post("/auth/login", {"email": customer.email, "password": password}, format="json")

    assert statuses == [400] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    assert right_old.status_code == 429
    assert error_of(login)["code"] == "login_locked_out"
    assert User.objects.get(pk=customer.pk).check_password(password)


def test_password_change_runs_the_password_validators(client_for, customer, password):
    response = client_for(customer).post(
        "/auth/password-change", {"old_password": password, "new_password": customer.email}, format="json"
    )

    assert field_errors(response)["new_password"] == ["The password is too similar to the email."]
    assert User.objects.get(pk=customer.pk).check_password(password)


def test_password_change_needs_a_login(api_client, password):
    response = api_client.post("/auth/password-change", {"old_password": password, "new_password": NEW}, format="json")

    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"


def test_signing_in_retires_earlier_reset_tokens(api_client, customer, password):
    uid = urlsafe_base64_encode(force_bytes(customer.pk))
    token = default_token_generator.make_token(customer)
    assert api_client.post("/auth/login", {"email": customer.email, "password": password}).status_code == 200

    response = reset_confirm(api_client, uid=uid, token=token, new_password=NEW)

    assert error_of(response)["code"] == "invalid_token"  # Django's tokens include last_login
