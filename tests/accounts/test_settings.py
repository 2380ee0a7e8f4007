"""Two-factor is mandatory for staff under the production settings, optional under local and test."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

REPO = Path(__file__).resolve().parents[2]


def staff_2fa_required_under(module: str) -> str:
    env = {key: value for key, value in os.environ.items() if key != "STAFF_2FA_REQUIRED"}
    env |= {"DJANGO_SETTINGS_MODULE": module, "DJANGO_SECRET_KEY": "x" * 60}
    code = "import django; django.setup(); from django.conf import settings; print(settings.STAFF_2FA_REQUIRED)"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True)
    return result.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("module", "expected"),
    [("config.settings.production", "True"), ("config.settings.local", "False")],
)
def test_staff_2fa_required_by_settings_module(module, expected):
    assert staff_2fa_required_under(module) == expected


def test_staff_2fa_is_off_in_test_settings():
    assert settings.STAFF_2FA_REQUIRED is False


def _settings_run(module: str, code: str, **variables: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "TRUSTED_PROXIES"}
    env |= {"DJANGO_SETTINGS_MODULE": module, "DJANGO_SECRET_KEY": "x" * 60} | variables
    code = f"import django; django.setup(); from django.conf import settings as s; {code}"
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True)


@pytest.mark.parametrize(
    ("module", "variables", "expected"),
    [
        ("config.settings.production", {}, "1"),
        ("config.settings.production", {"TRUSTED_PROXIES": "0"}, "0"),
        ("config.settings.production", {"TRUSTED_PROXIES": "2"}, "2"),
        ("config.settings.local", {}, "0"),
    ],
)
def test_trusted_proxies_by_settings_module(module, variables, expected):
    result = _settings_run(module, "print(s.TRUSTED_PROXIES, s.AXES_CLIENT_IP_CALLABLE)", **variables)
    assert result.stdout.split() == [expected, "config.client_address.client_address"]


def test_a_negative_trusted_proxies_is_refused_at_start():
    result = _settings_run("config.settings.production", "print(s.TRUSTED_PROXIES)", TRUSTED_PROXIES="-1")
    assert result.returncode != 0
    assert "TRUSTED_PROXIES is a number of proxies: 0 or more." in result.stderr


def test_test_settings_trust_no_proxy():
    assert settings.TRUSTED_PROXIES == 0
    assert settings.AXES_CLIENT_IP_CALLABLE == "config.client_address.client_address"
