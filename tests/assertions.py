"""Assertions shared by the API tests."""


def error_of(response) -> dict:
    """The ``error`` object of a response, after checking it has the one error shape."""
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["error"]
    assert set(body["error"]) == {"code", "message", "details", "request_id"}
    assert body["error"]["request_id"] == response["X-Request-ID"]
    return body["error"]
