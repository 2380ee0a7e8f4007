"""``manage.py check --deploy`` on the production settings, in a process with the environment a deploy sets."""

import re

import pytest

from tests.config.django_process import REPO, deploy_env, run_manage

PRODUCTION = "config.settings.production"
CHECK_ID = re.compile(r"^\S*: \((\w+\.[A-Z]\d+)\)", re.MULTILINE)


def _check_deploy(**variables: str):
    return run_manage("check", "--deploy", "--fail-level", "WARNING", env=deploy_env(PRODUCTION, **variables))


@pytest.fixture(scope="module")
def production_check():
    return _check_deploy()


def _issues(result) -> list[str]:
    output = result.stdout + result.stderr
    assert "System check identified" in output, output  # the check ran to its end
    return CHECK_ID.findall(output)


def test_check_deploy_finds_no_security_issue_in_production(production_check):
    assert [issue for issue in _issues(production_check) if issue != "drf_spectacular.W001"] == []


def test_check_deploy_passes_on_production_with_no_warnings(production_check):
    assert _issues(production_check) == []
    assert production_check.returncode == 0


def test_check_deploy_fails_on_a_misconfigured_production():
    result = _check_deploy(
        DJANGO_DEBUG="true",
        DJANGO_SECRET_KEY="short",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_SECURE_HSTS_SECONDS="0",
        DJANGO_SECURE_COOKIES="false",
    )

    assert result.returncode == 1
    assert {f"security.{n}" for n in ("W004", "W008", "W009", "W012", "W016", "W018")} <= set(_issues(result))


def test_production_will_not_start_without_a_secret_key():
    env = deploy_env(PRODUCTION)
    del env["DJANGO_SECRET_KEY"]

    result = run_manage("check", env=env)

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_ci_runs_the_deploy_check_on_the_production_settings():
    ci = (REPO / ".ci" / "run").read_text()

    assert "DJANGO_SETTINGS_MODULE=config.settings.production" in ci
    assert "manage.py check --deploy --fail-level WARNING || exit $?" in ci
