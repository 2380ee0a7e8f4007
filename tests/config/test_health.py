import socket

import pytest
from django.db import connection


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/health", "/health/"])
def test_health_reports_ok_after_a_database_round_trip(api_client, path, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = api_client.get(path)

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.stock_books_unchecked
@pytest.mark.django_db(transaction=True)
def test_health_answers_503_when_the_database_is_unreachable(api_client, monkeypatch):
    connection.close()
    monkeypatch.setitem(connection.settings_dict, "HOST", "127.0.0.1")
    monkeypatch.setitem(connection.settings_dict, "PORT", str(_closed_port()))
    try:
        response = api_client.get("/health")
    finally:
        connection.close()

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unavailable"}
