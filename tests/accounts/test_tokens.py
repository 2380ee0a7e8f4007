"""Refresh-token families: rotation, reuse detection, revocation."""

import pytest
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from structlog.testing import capture_logs

from accounts.exceptions import InvalidCredentials, TokenRefused
from accounts.models import TokenFamily, TokenRevocation, User
from accounts.services.tokens import TokenPair, auth_logout, auth_tokens_issue, auth_tokens_refresh
from accounts.tokens import FAMILY_CLAIM
from tests.assertions import error_of


def refresh(client, token):
    return client.post("/auth/refresh", {"refresh_token": token}, format="json")


def family_of(token: str) -> TokenFamily:
    return TokenFamily.objects.get(pk=RefreshToken(token, verify=False)[FAMILY_CLAIM])


def blacklisted(*tokens: str) -> list[bool]:
    jtis = [RefreshToken(token, verify=False)["jti"] for token in tokens]
    return [BlacklistedToken.objects.filter(token__jti=jti).exists() for jti in jtis]


@pytest.mark.django_db
def test_rotate_a_to_b_then_reusing_a_kills_b(api_client, customer, password):
    a = api_client.post("/auth/login", {"email": customer.email, "password": password}, format="json").json()
    b = refresh(api_client, a["refresh_token"]).json()

    with capture_logs() as logs:
        reused = refresh(api_client, a["refresh_token"])
    b_after = refresh(api_client, b["refresh_token"])

    assert reused.status_code == 401
    error = error_of(reused)
    assert error["code"] == "token_not_valid"
    assert "already used" in error["message"]
    assert b_after.status_code == 401
    assert error_of(b_after)["code"] == "token_not_valid"
    family = family_of(b["refresh_token"])
    assert family.revoked_reason == TokenRevocation.REUSED
    assert family.revoked_at is not None
    assert blacklisted(a["refresh_token"], b["refresh_token"]) == [True, True]
    assert [(log["event"], log["family_id"]) for log in logs if log["event"] == "refresh_token_reused"] == [
        ("refresh_token_reused", str(family.pk))
    ]


@pytest.mark.django_db
def test_reuse_revokes_only_its_own_family(customer):
    phone, laptop = auth_tokens_issue(user=customer), auth_tokens_issue(user=customer)
    auth_tokens_refresh(refresh_token=phone.refresh_token)

    with pytest.raises(TokenRefused):
        auth_tokens_refresh(refresh_token=phone.refresh_token)

    assert isinstance(auth_tokens_refresh(refresh_token=laptop.refresh_token), TokenPair)
    assert TokenFamily.objects.filter(user=customer, revoked_at__isnull=True).count() == 1


@pytest.mark.django_db
def test_every_rotation_stays_in_the_login_family(customer):
    first = auth_tokens_issue(user=customer)
    second = auth_tokens_refresh(refresh_token=first.refresh_token)
    third = auth_tokens_refresh(refresh_token=second.refresh_token)

    family = family_of(first.refresh_token)
    assert family_of(third.refresh_token) == family
    assert family.current_jti == RefreshToken(third.refresh_token, verify=False)["jti"]
    assert family.rotated_at is not None
    assert blacklisted(first.refresh_token, second.refresh_token, third.refresh_token) == [True, True, False]
    assert OutstandingToken.objects.filter(user=customer).count() == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_uses_of_one_token_rotate_once_and_count_as_reuse(user_factory, in_threads):
    user = user_factory()
    refresh_token = auth_tokens_issue(user=user).refresh_token

    outcomes = in_threads(auth_tokens_refresh, [{"refresh_token": refresh_token} for _ in range(5)])

    winners = [o for o in outcomes if isinstance(o, TokenPair)]
    assert len(winners) == 1
    assert sum(isinstance(o, TokenRefused) for o in outcomes) == 4
    assert OutstandingToken.objects.filter(user=user).count() == 2  # the login's token and one rotation
    with pytest.raises(TokenRefused):
        auth_tokens_refresh(refresh_token=winners[0].refresh_token)
    assert TokenFamily.objects.get(user=user).revoked_reason == TokenRevocation.REUSED


@pytest.mark.django_db
def test_logout_revokes_the_family(customer):
    first = auth_tokens_issue(user=customer)
    second = auth_tokens_refresh(refresh_token=first.refresh_token)

    auth_logout(user=customer, refresh_token=second.refresh_token)

    with pytest.raises(TokenRefused):
        auth_tokens_refresh(refresh_token=second.refresh_token)
    assert family_of(second.refresh_token).revoked_reason == TokenRevocation.LOGOUT


@pytest.mark.django_db
def test_logout_with_a_rotated_token_is_reuse(customer):
    first = auth_tokens_issue(user=customer)
    second = auth_tokens_refresh(refresh_token=first.refresh_token)

    with pytest.raises(TokenRefused):
        auth_logout(user=customer, refresh_token=first.refresh_token)

    with pytest.raises(TokenRefused):
        auth_tokens_refresh(refresh_token=second.refresh_token)
    assert family_of(second.refresh_token).revoked_reason == TokenRevocation.REUSED


@pytest.mark.django_db
def test_refresh_token_issued_before_families_rotates_once(customer):
    legacy = str(RefreshToken.for_user(customer))

    pair = auth_tokens_refresh(refresh_token=legacy)

    assert family_of(pair.refresh_token).user == customer
    with pytest.raises(TokenRefused):
        auth_tokens_refresh(refresh_token=legacy)


@pytest.mark.django_db
def test_tokens_issue_refuses_a_password_changed_since_the_check(customer):
    checked = User.objects.get(pk=customer.pk)
    customer.set_password("Another-Passphrase-77")
    customer.save()

    with pytest.raises(InvalidCredentials):
        auth_tokens_issue(user=checked)

    assert not TokenFamily.objects.exists()
    assert not OutstandingToken.objects.exists()


@pytest.mark.django_db
def test_access_tokens_carry_the_family(api_client, customer, password):
    body = api_client.post("/auth/login", {"email": customer.email, "password": password}, format="json").json()

    assert RefreshToken(body["refresh_token"], verify=False)[FAMILY_CLAIM] == str(
        TokenFamily.objects.get(user=customer).pk
    )
