import pytest
from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import Role, User
from tests.assertions import error_of, field_errors

pytestmark = pytest.mark.django_db

STRONG = "Str0ng-Passphrase-42"


def register(client, **payload):
    return client.post("/auth/register", payload, format="json")


def login(client, email, password):
    return client.post("/auth/login", {"email": email, "password": password}, format="json")


def test_register_creates_customer_by_default(api_client):
    response = register(api_client, email="New.Buyer@Example.COM", password=STRONG)

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "email", "role"}
    assert body["email"] == "new.buyer@example.com"
    assert body["role"] == "customer"
    user = User.objects.get(pk=body["id"])
    assert user.role == Role.CUSTOMER
    assert user.check_password(STRONG)
    assert STRONG not in response.content.decode()


def test_register_accepts_explicit_customer_role_with_trailing_slash(api_client):
    response = api_client.post("/auth/register/", {"email": "c@example.com", "password": STRONG, "role": "customer"})

    assert response.status_code == 201
    assert response.json()["role"] == "customer"


@pytest.mark.parametrize("role", ["admin", "inventory_manager", "ADMIN"])
def test_register_refuses_staff_roles_to_anonymous_callers(api_client, role):
    response = register(api_client, email="sneaky@example.com", password=STRONG, role=role)

    assert response.status_code == 403
    assert error_of(response)["code"] == "role_not_allowed"
    assert not User.objects.filter(email="sneaky@example.com").exists()


def test_register_refuses_staff_roles_to_customers(client_for, customer):
    response = register(client_for(customer), email="x@example.com", password=STRONG, role="admin")

    assert response.status_code == 403
    assert error_of(response)["code"] == "role_not_allowed"


@pytest.mark.parametrize("role", ["admin", "inventory_manager", "customer"])
def test_register_lets_admin_create_any_role(client_for, admin_user, role):
    response = register(client_for(admin_user), email=f"{role}@example.com", password=STRONG, role=role)

    assert response.status_code == 201
    assert response.json()["role"] == role
    assert User.objects.get(email=f"{role}@example.com").role == role.upper()


def test_register_rejects_duplicate_email_in_any_case(api_client, customer):
    response = register(api_client, email=customer.email.upper(), password=STRONG)

    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "email_taken"
    assert User.objects.filter(email=customer.email).count() == 1


@pytest.mark.parametrize("password", ["short", "password123", "12345678901", "newbuyer-example"])
def test_register_rejects_weak_passwords(api_client, password):
    response = register(api_client, email="newbuyer@example.com", password=password)

    assert field_errors(response)["password"]
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"password": STRONG}, "email"),
        ({"email": "not-an-email", "password": STRONG}, "email"),
        ({"email": "a@example.com"}, "password"),
        ({"email": "a@example.com", "password": STRONG, "role": "superhero"}, "role"),
    ],
)
def test_register_names_the_invalid_field(api_client, payload, field):
    response = api_client.post("/auth/register", payload, format="json")

    assert response.status_code == 400
    assert field in error_of(response)["details"]["fields"]
    assert not User.objects.exists()


def test_login_returns_bearer_tokens(api_client, customer, password):
    response = login(api_client, customer.email.upper(), password)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "refresh_token", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    assert api_client.get("/auth/me").json()["id"] == str(customer.pk)


def test_login_records_last_login_and_sets_no_cookie(api_client, customer, password):
    response = login(api_client, customer.email, password)

    assert response.status_code == 200
    assert dict(response.cookies) == {}
    assert User.objects.get(pk=customer.pk).last_login is not None


@pytest.mark.parametrize("which", ["wrong_password", "unknown_email"])
def test_login_refuses_wrong_credentials(api_client, customer, which):
    email = customer.email if which == "wrong_password" else "nobody@example.com"

    response = login(api_client, email, "Wrong-Password-1")

    assert response.status_code == 401
    assert error_of(response)["code"] == "invalid_credentials"


def test_login_refuses_inactive_accounts(api_client, user_factory, password):
    user = user_factory(is_active=False)

    assert login(api_client, user.email, password).status_code == 401


def test_login_locks_out_after_repeated_failures(api_client, customer, password, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert login(api_client, customer.email, "Wrong-Password-1").status_code == 401

    locked = login(api_client, customer.email, "Wrong-Password-1")
    assert locked.status_code == 429
    error = error_of(locked)
    assert error["code"] == "login_locked_out"
    assert error["details"] == {"retry_after": 15 * 60, "scope": "account"}
    assert locked["Retry-After"] == str(15 * 60)

    still_locked = login(api_client, customer.email, password)
    assert still_locked.status_code == 429
    assert error_of(still_locked)["details"]["scope"] == "account"
    assert 0 < error_of(still_locked)["details"]["retry_after"] <= 15 * 60
    assert "access_token" not in still_locked.json()


def test_refresh_rotates_and_reuse_revokes_the_whole_family(api_client, customer, password):
    first = login(api_client, customer.email, password).json()

    rotated = api_client.post("/auth/refresh", {"refresh_token": first["refresh_token"]}, format="json")
    assert rotated.status_code == 200
    body = rotated.json()
    assert set(body) == {"access_token", "token_type", "refresh_token", "expires_in"}
    assert body["refresh_token"] != first["refresh_token"]
    again = api_client.post("/auth/refresh/", {"refresh_token": body["refresh_token"]}, format="json")
    assert again.status_code == 200
    newest = again.json()["refresh_token"]

    reused = api_client.post("/auth/refresh", {"refresh_token": first["refresh_token"]}, format="json")
    assert reused.status_code == 401
    assert error_of(reused)["code"] == "token_not_valid"

    descendant = api_client.post("/auth/refresh", {"refresh_token": newest}, format="json")
    assert descendant.status_code == 401
    assert error_of(descendant)["code"] == "token_not_valid"


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c"])
def test_refresh_rejects_invalid_tokens(api_client, token):
    response = api_client.post("/auth/refresh", {"refresh_token": token}, format="json")

    assert response.status_code in (400, 401)
    assert error_of(response)["code"] in ("validation_error", "token_not_valid")


def test_refresh_refuses_an_access_token(api_client, customer, password):
    access = login(api_client, customer.email, password).json()["access_token"]

    response = api_client.post("/auth/refresh", {"refresh_token": access}, format="json")

    assert response.status_code == 401


def test_logout_revokes_the_refresh_token(client_for, customer, password, api_client):
    tokens = login(api_client, customer.email, password).json()
    client = client_for(customer)

    response = client.post("/auth/logout", {"refresh_token": tokens["refresh_token"]}, format="json")

    assert response.status_code == 204
    refused = api_client.post("/auth/refresh", {"refresh_token": tokens["refresh_token"]}, format="json")
    assert refused.status_code == 401


def test_logout_refuses_someone_elses_token(client_for, customer, user_factory, password, api_client):
    other = user_factory()
    others_refresh = login(api_client, other.email, password).json()["refresh_token"]

    response = client_for(customer).post("/auth/logout", {"refresh_token": others_refresh}, format="json")

    assert response.status_code == 401
    assert api_client.post("/auth/refresh", {"refresh_token": others_refresh}, format="json").status_code == 200


def test_logout_requires_authentication(api_client):
    response = api_client.post("/auth/logout", {"refresh_token": "x"}, format="json")

    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"


def test_me_returns_the_caller(client_for, inventory_manager):
    response = client_for(inventory_manager).get("/auth/me/")

    assert response.status_code == 200
    assert response.json() == {
        "id": str(inventory_manager.pk),
        "email": inventory_manager.email,
        "role": "inventory_manager",
    }


def test_me_requires_a_token(api_client):
    response = api_client.get("/auth/me")

    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_me_rejects_a_tampered_token(api_client, customer, password):
    access = login(api_client, customer.email, password).json()["access_token"]
    header, payload, signature = access.split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}AAAA"
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tampered}")

    response = api_client.get("/auth/me")

    assert response.status_code == 401
    assert error_of(response)["code"] == "token_not_valid"


def test_me_rejects_a_refresh_token_used_as_access_token(api_client, customer, password):
    refresh = login(api_client, customer.email, password).json()["refresh_token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {refresh}")

    assert api_client.get("/auth/me").status_code == 401


def test_anonymous_requests_are_throttled(api_client, monkeypatch):
    cache.clear()  # throttle history is shared across tests (and workers): start from none
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/min", "user": "1000/min"})

    statuses = [api_client.post("/auth/refresh", {"refresh_token": "x"}).status_code for _ in range(3)]
    throttled = api_client.post("/auth/refresh", {"refresh_token": "x"})

    assert statuses == [401, 401, 401]
    assert throttled.status_code == 429
    error = error_of(throttled)
    assert error["code"] == "throttled"
    assert error["details"]["retry_after"] > 0
    assert int(throttled["Retry-After"]) > 0


def test_authenticated_requests_are_throttled_per_user(client_for, customer, user_factory, monkeypatch):
    client = client_for(customer)
    other = client_for(user_factory())
    cache.clear()
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "1000/min", "user": "2/min"})

    assert [client.get("/auth/me").status_code for _ in range(2)] == [200, 200]
    assert client.get("/auth/me").status_code == 429
    assert other.get("/auth/me").status_code == 200


def test_schema_documents_the_authentication_endpoints(api_client):
    schema = api_client.get("/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()

    paths = {p.rstrip("/"): ops for p, ops in schema["paths"].items()}
    for path, status in [
        ("/auth/password-reset", "202"),
        ("/auth/password-reset/confirm", "204"),
        ("/auth/password-change", "204"),
        ("/auth/2fa/totp", "201"),
        ("/auth/2fa/totp/confirm", "200"),
    ]:
        assert status in paths[path]["post"]["responses"], path
        assert "default" in paths[path]["post"]["responses"], path
    login_body = schema["components"]["schemas"]["LoginInputRequest"]["properties"]
    assert set(login_body) == {"email", "password", "otp"}
    assert "otpEnrolmentToken" in schema["components"]["securitySchemes"]
