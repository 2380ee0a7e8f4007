"""Request id and request-log context around django-structlog's RequestMiddleware, and that middleware."""

import re
import time
import uuid

import structlog
from django_structlog.middlewares import RequestMiddleware

from config.client_address import client_address

REQUEST_ID_META = "HTTP_X_REQUEST_ID"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def request_id_of(request) -> str | None:
    return request.META.get(REQUEST_ID_META)


class RequestIdMiddleware:
    """Reuse a well-formed incoming ``X-Request-ID`` (or make one) and echo it on the response.

    Runs first, so django-structlog (which trusts the header) logs the same id.
    A malformed id is replaced rather than written into the logs.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get(REQUEST_ID_META, "")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else str(uuid.uuid4())
        request.META[REQUEST_ID_META] = request_id
        response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response


class RequestContextMiddleware:
    """Adds method, path, status and duration_ms to the request's log lines."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        structlog.contextvars.bind_contextvars(method=request.method, path=request.path)
        response = self.get_response(request)
        structlog.contextvars.bind_contextvars(
            status=response.status_code,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
        )
        return response


class RequestLogMiddleware(RequestMiddleware):
    """django-structlog's request log, with the client's address found as the login limits find it."""

    @classmethod
    def bind_ip(cls, request) -> None:
        structlog.contextvars.bind_contextvars(ip=client_address(request))
