"""Production settings: no secret defaults, HTTPS behind a TLS-terminating proxy.

`manage.py check --deploy` passes with these defaults (tests/config/test_deploy_check.py). Serving
production settings over plain HTTP (docker-compose.yml) takes DJANGO_SECURE_SSL_REDIRECT=false and
DJANGO_SECURE_COOKIES=false; HSTS is only ever sent on HTTPS responses.
"""

from .base import *  # noqa: F403
from .base import STORAGES, env, trusted_proxies

SECRET_KEY = env.str("DJANGO_SECRET_KEY")

# The proxy terminates TLS and says so in X-Forwarded-Proto; it must overwrite any value a client sends.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Each proxy appends the address it was reached from to X-Forwarded-For (config.client_address); without
# a proxy (docker-compose.yml) set TRUSTED_PROXIES=0, or every client could choose its own address.
TRUSTED_PROXIES = trusted_proxies(default=1)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^health/?$"]  # the container and load balancer health checks speak plain HTTP
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
# Origins (scheme://host[:port]) whose admin form posts are trusted besides the request's own host.
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}

# Two-factor authentication is mandatory for staff (admins, inventory managers); see README "Authentication".
STAFF_2FA_REQUIRED = env.bool("STAFF_2FA_REQUIRED", default=True)
