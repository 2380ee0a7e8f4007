"""Every answer, under every settings module, carries ``X-Content-Type-Options: nosniff`` and a
``Referrer-Policy``: each module runs in its own process (tests/config/probe_headers.py)."""

import pytest
from django.db import connection

from tests.config.django_process import SETTINGS_MODULES, database_url, deploy_env, probe

pytestmark = pytest.mark.django_db


def _probe(settings_module: str, tmp_path) -> dict:
    return probe(deploy_env(settings_module, DATABASE_URL=database_url(connection.settings_dict)), tmp_path)


def _answers(settings_module: str, tmp_path) -> dict[str, dict]:
    return _probe(settings_module, tmp_path)["answers"]


@pytest.mark.parametrize("settings_module", SETTINGS_MODULES)
def test_every_answer_carries_nosniff_and_a_referrer_policy(settings_module, tmp_path):
    answers = _answers(settings_module, tmp_path)

    production = settings_module.endswith(".production")
    assert {name: answer["status"] for name, answer in answers.items()} == {
        "ok": 200,
        "django_404": 404,
        "api_401": 401,
        "too_large_413": 413,
        "plain_http": 301 if production else 401,
        "health_plain": 200,  # exempt from the HTTPS redirect
    }
    for name, answer in answers.items():
        assert answer["headers"]["x-content-type-options"] == "nosniff", name
        assert answer["headers"]["referrer-policy"] == "same-origin", name


def test_production_sends_hsts_on_https_and_redirects_plain_http(tmp_path):
    found = _probe("config.settings.production", tmp_path)
    answers = found["answers"]

    assert found["settings"] == {
        "SECURE_SSL_REDIRECT": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "CSRF_TRUSTED_ORIGINS": ["https://api.example.com"],
    }
    assert answers["ok"]["headers"]["strict-transport-security"] == "max-age=31536000; includeSubDomains; preload"
    assert answers["plain_http"]["headers"]["location"] == "https://api.example.com/auth/me"
    assert "strict-transport-security" not in answers["plain_http"]["headers"]


@pytest.mark.parametrize("settings_module", ["config.settings.local", "config.settings.test"])
def test_local_and_test_settings_serve_plain_http_without_hsts(settings_module, tmp_path):
    answers = _answers(settings_module, tmp_path)

    assert all("strict-transport-security" not in answer["headers"] for answer in answers.values())
