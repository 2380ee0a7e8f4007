"""The one error shape, ``{"error": {"code", "message", "details", "request_id"}}``, for every 4xx and 5xx.

``api_exception_handler`` is DRF's ``EXCEPTION_HANDLER``; the ``handler*`` views cover
routes outside DRF (unknown URLs, the admin); ``accounts.lockouts`` answers django-axes' lockouts.
"""

import structlog
from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from config.exceptions import DomainError
from config.middleware import request_id_of

logger = structlog.get_logger(__name__)


def error_body(*, request, code: str, message: str, details: dict | None = None) -> dict:
    return {
        "error": {
            "code": code,
            "message": message,
            "details": details or {},
            "request_id": request_id_of(request) if request is not None else None,
        }
    }


def _as_drf_exception(exc: Exception) -> Exception:
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(as_serializer_error(exc))
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    return exc


def _describe(exc: exceptions.APIException) -> tuple[str, str, dict]:
    """Code, message and details of a DRF exception."""
    if isinstance(exc, exceptions.ValidationError):
        fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return "validation_error", "Invalid input.", {"fields": fields}
    detail = exc.detail
    if isinstance(detail, dict):  # simplejwt's InvalidToken carries {"detail", "code", "messages"}
        return str(detail.get("code", exc.default_code)), str(detail.get("detail", "")), {}
    details = {"retry_after": exc.wait} if isinstance(exc, exceptions.Throttled) else {}
    code = detail.code if isinstance(detail, exceptions.ErrorDetail) else exc.default_code
    return str(code), str(detail), details


def _suspicious_answer(exc: SuspiciousOperation) -> tuple[int, str, str, dict]:
    """Status, code, message and details for a request Django refused to parse (its own limits)."""
    if isinstance(exc, RequestDataTooBig):  # the form fields of a body passed DATA_UPLOAD_MAX_MEMORY_SIZE
        max_bytes = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return 413, "payload_too_large", f"The request data may be at most {max_bytes} bytes.", {"max_bytes": max_bytes}
    if isinstance(exc, TooManyFieldsSent):
        max_fields = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        return 400, "too_many_fields", f"At most {max_fields} fields may be sent.", {"max_fields": max_fields}
    if isinstance(exc, TooManyFilesSent):
        max_files = settings.DATA_UPLOAD_MAX_NUMBER_FILES
        return 400, "too_many_files", f"At most {max_files} files may be sent.", {"max_files": max_files}
    return 400, "bad_request", "Bad request.", {}


def api_exception_handler(exc: Exception, context: dict) -> Response:
    request = context.get("request")
    if isinstance(exc, DomainError):
        return Response(
            error_body(request=request, code=exc.code, message=exc.message, details=exc.details),
            status=exc.status,
        )
    if isinstance(exc, SuspiciousOperation):
        status_code, code, message, details = _suspicious_answer(exc)
        logger.warning("request_refused", reason=type(exc).__name__, code=code)
        return Response(error_body(request=request, code=code, message=message, details=details), status=status_code)
    exc = _as_drf_exception(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        logger.exception("unhandled_exception", exc_info=exc)
        return Response(
            error_body(request=request, code="server_error", message="Internal server error."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    code, message, details = _describe(exc)
    response.data = error_body(request=request, code=code, message=message, details=details)
    return response


def _json_error(request, *, status_code: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(error_body(request=request, code=code, message=message), status=status_code)


def bad_request(request, exception=None) -> JsonResponse:
    """Django answers a ``SuspiciousOperation`` outside DRF (the admin's forms) with this view."""
    if isinstance(exception, SuspiciousOperation):
        status_code, code, message, details = _suspicious_answer(exception)
        return JsonResponse(
            error_body(request=request, code=code, message=message, details=details), status=status_code
        )
    return _json_error(request, status_code=400, code="bad_request", message="Bad request.")


def permission_denied(request, exception=None) -> JsonResponse:
    return _json_error(
        request, status_code=403, code="permission_denied", message="You do not have permission to perform this action."
    )


def csrf_failure(request, reason="") -> JsonResponse:
    """Django's CSRF check (admin forms only: the API authenticates with bearer tokens, not cookies)."""
    return _json_error(request, status_code=403, code="csrf_failed", message="CSRF verification failed.")


def method_not_allowed(request, *, allowed: tuple[str, ...]) -> JsonResponse:
    response = _json_error(
        request, status_code=405, code="method_not_allowed", message=f'Method "{request.method}" not allowed.'
    )
    response["Allow"] = ", ".join(allowed)
    return response


def not_found(request, exception=None) -> JsonResponse:
    return _json_error(request, status_code=404, code="not_found", message="Not found.")


def server_error(request) -> JsonResponse:
    return _json_error(request, status_code=500, code="server_error", message="Internal server error.")
