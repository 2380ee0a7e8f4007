"""Helpers of the admin's imports (django-import-export) that every app shares."""

from config.exceptions import DomainError


def error_text(exc: DomainError) -> str:
    """A domain error for people: its message and its details."""
    details = "; ".join(f"{key}: {_plain(value)}" for key, value in exc.details.items())
    return f"{exc.message} ({details})" if details else exc.message


def _plain(value: object) -> str:
    if isinstance(value, list | tuple | set):
        return ", ".join(_plain(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key} {_plain(item)}" for key, item in value.items())
    return str(value)


def cell_text(value: object) -> str:
    """A cell as text: CSV gives strings, XLSX numbers (a SKU like 1001 arrives as 1001 or 1001.0)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
