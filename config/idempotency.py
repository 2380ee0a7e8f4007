"""The ``Idempotency-Key`` request header, read the same way by every endpoint that takes one."""

from rest_framework.exceptions import ValidationError

MAX_LENGTH = 255  # as the orders' ``idempotency_key`` column


def idempotency_key_of(request) -> str | None:
    """The request's ``Idempotency-Key`` header, or None without one; a malformed key is a 400 on the header."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not 1 <= len(key) <= MAX_LENGTH or not key.isprintable() or key != key.strip():
        raise ValidationError({"Idempotency-Key": [f"Must be 1 to {MAX_LENGTH} printable characters."]})
    return key
