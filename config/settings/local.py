"""Development settings: what `make run` and `manage.py` use unless told otherwise."""

from .base import *  # noqa: F403
from .base import env

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="insecure-local-development-key-change-me-0123456789")
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = None  # served from the apps by WhiteNoise; production runs collectstatic

# Staff may sign in without a second factor until they enrol one (set STAFF_2FA_REQUIRED=true to try it).
STAFF_2FA_REQUIRED = env.bool("STAFF_2FA_REQUIRED", default=False)
