"""The one error shape, ``{"error": {"code", "message", "details", "request_id"}}``, for every 4xx and 5xx.

``api_exception_handler`` is DRF's ``EXCEPTION_HANDLER``; the ``handler*`` views cover
routes outside DRF (unknown URLs, the admin) and ``lockout_response`` covers django-axes.
"""

import structlog
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
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


def api_exception_handler(exc: Exception, context: dict) -> Response:
    request = context.get("request")
    if isinstance(exc, DomainError):
        return Response(
            error_body(request=request, code=exc.code, message=exc.message, details=exc.details),
            status=exc.status,
        )
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
    return _json_error(request, status_code=400, code="bad_request", message="Bad request.")


def permission_denied(request, exception=None) -> JsonResponse:
    return _json_error(
        request, status_code=403, code="permission_denied", message="You do not have permission to perform this action."
    )


def csrf_failure(request, reason="") -> JsonResponse:
    """Django's CSRF check (admin forms only: the API authenticates with bearer tokens, not cookies)."""
    return _json_error(request, status_code=403, code="csrf_failed", message="CSRF verification failed.")


def not_found(request, exception=None) -> JsonResponse:
    return _json_error(request, status_code=404, code="not_found", message="Not found.")


def server_error(request) -> JsonResponse:
    return _json_error(request, status_code=500, code="server_error", message="Internal server error.")


def lockout_response(request, original_response=None, credentials=None) -> JsonResponse:
    """django-axes: too many failed logins for this account or client."""
    from axes.helpers import get_cool_off

    cool_off = get_cool_off(request)
    retry_after = int(cool_off.total_seconds()) if cool_off else None
    response = JsonResponse(
        error_body(
            request=request,
            code="login_locked_out",
            message="Too many failed login attempts; try again later.",
            details={"retry_after": retry_after},
        ),
        status=429,
    )
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response
