"""Child process of test_security_headers.py: a few requests through the whole middleware stack of the
settings module in ``DJANGO_SETTINGS_MODULE``; writes each answer's status and headers, and the HTTPS
settings in force, as JSON to the file named by the first argument (stdout carries the request logs)."""

import json
import sys
from pathlib import Path

import django

TWO_MIB = 2 * 1024 * 1024
# name -> (method, path, body, through the TLS proxy)
REQUESTS = {
    "ok": ("get", "/health", None, True),
    "django_404": ("get", "/no-such-page", None, True),
    "api_401": ("get", "/auth/me", None, True),
    "too_large_413": ("post", "/auth/login", b"{" + b" " * TWO_MIB + b"}", True),
    "plain_http": ("get", "/auth/me", None, False),
    "health_plain": ("get", "/health", None, False),  # the container's health check
}
HTTPS_SETTINGS = [
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "CSRF_TRUSTED_ORIGINS",
]


def main() -> None:
    django.setup()
    from django.conf import settings
    from django.test import Client

    client = Client(HTTP_HOST=settings.ALLOWED_HOSTS[0])
    answers = {}
    for name, (method, path, body, proxied) in REQUESTS.items():
        headers = {"x-forwarded-proto": "https"} if proxied else {}
        kwargs = {"data": body, "content_type": "application/json"} if body is not None else {}
        response = getattr(client, method)(path, headers=headers, **kwargs)
        answers[name] = {"status": response.status_code, "headers": dict(response.headers)}
    in_force = {name: getattr(settings, name) for name in HTTPS_SETTINGS}
    Path(sys.argv[1]).write_text(json.dumps({"answers": answers, "settings": in_force}))


if __name__ == "__main__":
    main()
