"""Request body limits, answered in the error shape before anything reads the body.

A body is refused by its declared ``Content-Length``, so an oversized one is never read:

- ``multipart/form-data`` (file uploads: product images, admin imports) up to ``UPLOAD_BODY_MAX_BYTES``;
  the catalog's own check then answers 413 ``image_too_large`` above ``PRODUCT_IMAGE_MAX_BYTES``;
- every other body up to ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (``REQUEST_BODY_MAX_BYTES``, 1 MiB).

Under WSGI the application never reads more than the declared length, so a ``Content-Length``
smaller than the body only truncates it (a 400 from the parser). A body without a length
(``Transfer-Encoding: chunked``) would be read as empty: it is answered 411 instead.
Django's own guard (``RequestDataTooBig`` when the form fields of a multipart body pass
``DATA_UPLOAD_MAX_MEMORY_SIZE``) is answered 413 by ``config.errors``.
"""

from django.conf import settings
from django.http import JsonResponse

from config.errors import error_body

MULTIPART = "multipart/form-data"


def body_limit_of(request) -> int:
    """The largest body this request may declare, chosen by its content type."""
    if request.content_type == MULTIPART:
        return settings.UPLOAD_BODY_MAX_BYTES
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def payload_too_large(request, *, max_bytes: int) -> JsonResponse:
    return JsonResponse(
        error_body(
            request=request,
            code="payload_too_large",
            message=f"The request body may be at most {max_bytes} bytes.",
            details={"max_bytes": max_bytes},
        ),
        status=413,
    )


class RequestBodyLimitMiddleware:
    """Answers 413 ``payload_too_large``, 411 ``length_required`` or 400 ``invalid_content_length``
    before the view (or any middleware) reads the body."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refusal = self._refusal(request)
        return refusal if refusal is not None else self.get_response(request)

    def _refusal(self, request) -> JsonResponse | None:
        declared = request.META.get("CONTENT_LENGTH") or ""
        if not declared:
            if request.META.get("HTTP_TRANSFER_ENCODING"):
                return JsonResponse(
                    error_body(
                        request=request,
                        code="length_required",
                        message="Send the body with a Content-Length header; chunked bodies are not accepted.",
                    ),
                    status=411,
                )
            return None
        if not declared.isascii() or not declared.isdigit():
            return JsonResponse(
                error_body(
                    request=request,
                    code="invalid_content_length",
                    message="The Content-Length header must be a whole number of bytes.",
                ),
                status=400,
            )
        max_bytes = body_limit_of(request)
        if int(declared) > max_bytes:
            return payload_too_large(request, max_bytes=max_bytes)
        return None
