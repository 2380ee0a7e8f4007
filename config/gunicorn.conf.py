"""gunicorn settings for `make run` and the Docker image; every knob has an environment variable."""

import os

from config.log_config import logging_configure

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
accesslog = None  # django-structlog writes one JSON line per request

_logging = logging_configure(level=os.environ.get("LOG_LEVEL", "INFO"))
_logging["loggers"].update(
    {
        "gunicorn.error": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
    }
)
logconfig_dict = _logging
