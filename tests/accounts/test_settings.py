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
