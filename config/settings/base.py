"""Settings shared by every environment; all configuration comes from the environment."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from config.embedded_postgres import data_dir_from_env, database_settings
from config.log_config import logging_configure

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])

# Database: DATABASE_URL when set, otherwise the embedded server in EMBEDDED_POSTGRES_DIR.
if env.str("DATABASE_URL", default=""):
    DATABASES = {"default": env.db("DATABASE_URL")}
else:
    DATABASES = {
        "default": database_settings(
            data_dir=data_dir_from_env(), name=env.str("EMBEDDED_POSTGRES_DB", default="inventory")
        )
    }
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache("CACHE_URL", default="dbcache://django_cache")}

INSTALLED_APPS = [
    "accounts.admin_config.StaffAdminConfig",  # django.contrib.admin, with two-factor sign-in for staff
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_structlog",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "import_export",
    "simple_history",  # the audit trail: history tables of staff-edited models (README, "Security")
    "accounts",
    "catalog",
    "inventory",
    "orders",
    "carts",
]

MIDDLEWARE = [
    "config.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.middleware.RequestLogMiddleware",
    "config.middleware.RequestContextMiddleware",
    "axes.middleware.AxesMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",  # the request user, when a service names no actor
]

ROOT_URLCONF = "config.urls"
CSRF_FAILURE_VIEW = "config.errors.csrf_failure"
WSGI_APPLICATION = "config.wsgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / ".data" / "static"

# Uploaded files (product images): local media folder by default, S3-compatible storage when
# MEDIA_STORAGE=s3 (django-storages, configured by its own AWS_* variables).
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / ".data" / "media")))
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if env.str("MEDIA_STORAGE", default="local") == "s3":
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default=None),
            "region_name": env.str("AWS_S3_REGION_NAME", default=None),
            "custom_domain": env.str("AWS_S3_CUSTOM_DOMAIN", default=None),
            "default_acl": None,
            "querystring_auth": env.bool("AWS_QUERYSTRING_AUTH", default=False),
        },
    }
    SERVE_MEDIA = False
PRODUCT_IMAGE_MAX_BYTES = env.int("PRODUCT_IMAGE_MAX_BYTES", default=5 * 1024 * 1024)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework_simplejwt.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "config.pagination.StandardPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "config.throttling.AnonRateThrottle",
        "config.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON_RATE", default="120/min"),
        "user": env.str("THROTTLE_USER_RATE", default="1200/min"),
    },
    "EXCEPTION_HANDLER": "config.errors.api_exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Inventory and Order Management API",
    "DESCRIPTION": "B2B inventory and order management backend.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.schema.add_error_responses",
    ],
}

# Authentication: lockouts, password reset, two-factor for staff (accounts/; README "Authentication").
# Failed logins (django-axes, accounts/lockouts.py): an account locks after AXES_FAILURE_LIMIT failures
# for it, whatever the client; a client (IP address) locks only after LOGIN_CLIENT_FAILURE_LIMIT failures
# within LOGIN_CLIENT_WINDOW_MINUTES (credential stuffing), so one office behind one NAT is not locked out
# by one forgetful colleague. Answers to a locked account or client are not counted as failures.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # one row per failure: what the per-client window counts
AXES_HANDLER = "accounts.lockouts.LoginLockoutHandler"
AXES_USERNAME_FORM_FIELD = "email"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.lockouts.lockout_response"
AXES_VERBOSE = False
LOGIN_CLIENT_FAILURE_LIMIT = env.int("LOGIN_CLIENT_FAILURE_LIMIT", default=100)
LOGIN_CLIENT_WINDOW_MINUTES = env.int("LOGIN_CLIENT_WINDOW_MINUTES", default=15)


def trusted_proxies(*, default: int) -> int:
    """``TRUSTED_PROXIES`` from the environment: a number of proxies, 0 or more."""
    count = env.int("TRUSTED_PROXIES", default=default)
    if count < 0:
        raise ImproperlyConfigured("TRUSTED_PROXIES is a number of proxies: 0 or more.")
    return count


# The client's address, which the per-client login limit, axes, DRF's throttles and the request log key on
# (config.client_address): TRUSTED_PROXIES is how many proxies stand in front of Django, each appending the
# address it was reached from to X-Forwarded-For; 0 (no proxy): REMOTE_ADDR, and the header is ignored.
# Production reads it from the environment (default 1: one TLS-terminating proxy).
TRUSTED_PROXIES = trusted_proxies(default=0)
AXES_CLIENT_IP_CALLABLE = "config.client_address.client_address"
# axes.W006 wants ip_address among the lockout parameters; the per-client limit is that lockout, done so that
# one client's failures never lock the other accounts behind its address.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
# Password reset: Django's token generator; the token dies with the password it was made for.
PASSWORD_RESET_MINUTES = env.int("PASSWORD_RESET_MINUTES", default=30)
PASSWORD_RESET_TIMEOUT = PASSWORD_RESET_MINUTES * 60
# A link for the reset email, e.g. https://shop.example.com/reset?uid={uid}&token={token} (empty: the
# email carries uid and token for POST /auth/password-reset/confirm).
PASSWORD_RESET_URL = env.str("PASSWORD_RESET_URL", default="")
globals().update(env.email_url("EMAIL_URL", default="smtp://localhost:25"))  # EMAIL_BACKEND, EMAIL_HOST, ...
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="no-reply@localhost")
# Account emails go out on a worker thread (accounts/notifications.py): no answer waits for the mail server.
EMAIL_IN_BACKGROUND = env.bool("EMAIL_IN_BACKGROUND", default=True)
# Two-factor for staff (django-otp: TOTP, recovery codes). Staff with a confirmed device always need a
# code; STAFF_2FA_REQUIRED makes it mandatory for every staff account (on in production settings).
STAFF_2FA_REQUIRED = env.bool("STAFF_2FA_REQUIRED", default=False)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Inventory")
OTP_ENROLMENT_MINUTES = env.int("OTP_ENROLMENT_MINUTES", default=10)
OTP_RECOVERY_CODES = 10

DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID = True
DJANGO_STRUCTLOG_IP_LOGGING_ENABLED = True
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")

LOGGING = logging_configure(level=LOG_LEVEL)
STOCK_LOCK_TIMEOUT_MS = env.int("STOCK_LOCK_TIMEOUT_MS", default=5000)

# Catalog: one currency per installation, shown on every owner of a price.
CURRENCY = env.str("CURRENCY", default="USD").upper()

# Orders
SHIPPING_FLAT_RATE = Decimal(env.str("SHIPPING_FLAT_RATE", default="0.00")).quantize(Decimal("0.01"))
PAYMENT_GATEWAY = env.str("PAYMENT_GATEWAY", default="orders.gateway.MockGateway")
MOCK_PAYMENT_FAIL = env.bool("MOCK_PAYMENT_FAIL", default=False)
DB_RETRY_ATTEMPTS = env.int("DB_RETRY_ATTEMPTS", default=3)
# A PENDING order older than this many minutes expires and its reservations are released (0: never).
ORDER_PAYMENT_TIMEOUT_MINUTES = env.int("ORDER_PAYMENT_TIMEOUT_MINUTES", default=60)

# --- Security headers and request limits (issue 12, deployment); HTTPS-only settings live in production.py ---
# Sent on every response by SecurityMiddleware, under every settings module.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = env.str("DJANGO_REFERRER_POLICY", default="same-origin")
X_FRAME_OPTIONS = "DENY"
# Request bodies (config/limits.py): 413 payload_too_large above these, before the body is read.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("REQUEST_BODY_MAX_BYTES", default=1024 * 1024)
# multipart/form-data (file uploads): the largest image plus room for the form's other fields.
UPLOAD_BODY_MAX_BYTES = env.int("UPLOAD_BODY_MAX_BYTES", default=PRODUCT_IMAGE_MAX_BYTES + 1024 * 1024)
MIDDLEWARE.insert(
    MIDDLEWARE.index("config.middleware.RequestContextMiddleware") + 1, "config.limits.RequestBodyLimitMiddleware"
)
