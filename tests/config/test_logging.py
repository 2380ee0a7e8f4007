from contextlib import contextmanager

import pytest
import structlog
from rest_framework.test import APIClient
from structlog.testing import capture_logs as structlog_capture_logs

pytestmark = pytest.mark.django_db


@contextmanager
def capture_logs():
    """Capture log events with the request context merged in, as the JSON renderer sees them."""
    with structlog_capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        yield logs


def finished_lines(logs: list[dict]) -> list[dict]:
    return [line for line in logs if line["event"] == "request_finished"]


def test_request_log_line_has_the_request_fields(client_for, customer):
    client = client_for(customer)

    with capture_logs() as logs:
        response = client.get("/auth/me", HTTP_X_REQUEST_ID="req-42")

    (line,) = finished_lines(logs)
    assert line["request_id"] == "req-42"
    assert line["user_id"] == str(customer.pk)
    assert line["method"] == "GET"
    assert line["path"] == "/auth/me"
    assert line["status"] == response.status_code == 200
    assert isinstance(line["duration_ms"], float)
    assert line["duration_ms"] >= 0


def test_request_id_is_echoed(api_client):
    response = api_client.get("/health", HTTP_X_REQUEST_ID="abc-123")

    assert response["X-Request-ID"] == "abc-123"


def test_request_id_is_generated_when_missing(api_client):
    first = api_client.get("/health")["X-Request-ID"]
    second = api_client.get("/health")["X-Request-ID"]

    assert len(first) == 36
    assert first != second


def test_malformed_request_id_is_replaced(api_client):
    with capture_logs() as logs:
        response = api_client.get("/health", HTTP_X_REQUEST_ID='evil"\nid')

    assert response["X-Request-ID"] != 'evil"\nid'
    assert finished_lines(logs)[0]["request_id"] == response["X-Request-ID"]


def test_anonymous_request_logs_no_user(api_client):
    with capture_logs() as logs:
        api_client.get("/nope")

    (line,) = finished_lines(logs)
    assert line["user_id"] is None
    assert line["status"] == 404


def test_the_request_log_names_the_client_address_as_the_login_limits_count_it(settings):
    settings.TRUSTED_PROXIES = 1
    client = APIClient(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR='203.0.113.9, ", 198.51.100.1')

    with capture_logs() as logs:
        client.get("/health")

    assert finished_lines(logs)[0]["ip"] == "198.51.100.1"
