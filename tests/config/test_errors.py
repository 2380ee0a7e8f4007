"""Every 4xx and 5xx answers ``{"error": {"code", "message", "details", "request_id"}}``."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.assertions import error_of, field_errors

pytestmark = pytest.mark.django_db


def test_malformed_json_is_400(api_client):
    response = api_client.post("/auth/login", data="{not json", content_type="application/json")

    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"


def test_validation_error_lists_fields(api_client):
    response = api_client.post("/auth/login", {"email": "nope"})

    assert set(field_errors(response)) == {"email", "password"}


def test_wrong_content_type_is_415(api_client):
    response = api_client.post("/auth/login", data="email=a", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"


def test_missing_token_is_401(api_client):
    response = api_client.get("/auth/me")

    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"


def test_malformed_authorization_header_is_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer")

    response = api_client.get("/auth/me")

    assert response.status_code == 401
    assert error_of(response)["code"] == "bad_authorization_header"


def test_role_refusal_is_403(api_client):
    response = api_client.post("/auth/register", {"email": "a@example.com", "password": "x", "role": "admin"})

    assert response.status_code == 403
    assert error_of(response)["code"] == "role_not_allowed"


@pytest.mark.parametrize("path", ["/nope", "/auth/nope", "/auth", "/products/123/unknown"])
def test_unknown_route_is_404(api_client, path):
    response = api_client.get(path)

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_wrong_method_is_405(client_for, customer):
    response = client_for(customer).delete("/auth/me")

    assert response.status_code == 405
    error = error_of(response)
    assert error["code"] == "method_not_allowed"
    assert "DELETE" in error["message"]


def test_wrong_method_on_public_route_is_405(api_client):
    response = api_client.get("/auth/login")

    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


@pytest.mark.urls("tests.config.urls_failing")
@pytest.mark.parametrize("path", ["/boom/api", "/boom/django"])
def test_unhandled_exception_is_500_without_details(path):
    client = APIClient(raise_request_exception=False)

    response = client.get(path, HTTP_X_REQUEST_ID="trace-500")

    assert response.status_code == 500
    error = error_of(response)
    assert error == {
        "code": "server_error",
        "message": "Internal server error.",
        "details": {},
        "request_id": "trace-500",
    }
    assert b"secret internal detail" not in response.content
    assert b"Traceback" not in response.content


def test_csrf_failure_in_the_admin_is_403_in_the_error_shape(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)

    response = client.post("/admin/catalog/product/add/", {"sku": "X"})

    assert response.status_code == 403
    assert error_of(response)["code"] == "csrf_failed"
