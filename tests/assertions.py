"""Assertions shared by the API tests."""


def error_of(response) -> dict:
    """The ``error`` object of a response, after checking it has the one error shape."""
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert list(body) == ["error"]
    assert set(body["error"]) == {"code", "message", "details", "request_id"}
    assert body["error"]["request_id"] == response["X-Request-ID"]
    return body["error"]


def field_errors(response) -> dict:
    """``details.fields`` of a 400 ``validation_error``, after checking the status and the error shape."""
    assert response.status_code == 400, response.content
    error = error_of(response)
    assert error["code"] == "validation_error"
    return error["details"]["fields"]
