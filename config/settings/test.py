"""Test settings: real PostgreSQL, a fast password hasher, generous throttles (tests lower them when they need to)."""

from .base import *  # noqa: F403
from .base import REST_FRAMEWORK, env

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="insecure-test-key-0123456789abcdefghijklmnopqrstuvwxyz")
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
EMAIL_IN_BACKGROUND = False  # mail is in mail.outbox when the on-commit callbacks have run
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = None  # served from the apps by WhiteNoise; production runs collectstatic
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"anon": "10000/min", "user": "10000/min"}
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
STAFF_2FA_REQUIRED = False  # tests that need it turn it on
