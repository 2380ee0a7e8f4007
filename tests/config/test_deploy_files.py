"""Docker cannot run here, so the compose file and the Dockerfile are checked by reading them."""

import json
import shlex
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from django.db import connection

from tests.config.django_process import database_url, machine_env, probe

REPO = Path(__file__).resolve().parents[2]
START_COMMAND_STEPS = ["migrate", "createcachetable", "gunicorn"]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        return dict(item.split("=", 1) for item in env)
    return {key: str(value) for key, value in env.items()}


def _words(command: str) -> list[str]:
    """Shell words, opening ``sh -c "..."`` scripts too."""
    words = []
    for word in shlex.split(command):
        words += _words(word) if " " in word else [word]
    return words


def _steps_in_order(command: str) -> list[str]:
    return [word for word in _words(command) if word in START_COMMAND_STEPS]


def _dockerfile_instructions() -> list[tuple[str, str]]:
    logical, current = [], ""
    for line in (REPO / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        current += " " + stripped.rstrip("\\").strip()
        if not stripped.endswith("\\"):
            keyword, _, rest = current.strip().partition(" ")
            logical.append((keyword.upper(), rest.strip()))
            current = ""
    return logical


def test_compose_db_is_postgres_16_with_a_volume_and_a_healthcheck(compose):
    db = compose["services"]["db"]

    assert db["image"].startswith("postgres:16")
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in db["volumes"])
    assert db["volumes"][0].split(":")[0] in compose["volumes"]
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])


def test_compose_web_reaches_the_db_service_through_database_url(compose):
    db, web = compose["services"]["db"], compose["services"]["web"]
    db_env, web_env = _environment(db), _environment(web)

    url = urlsplit(web_env["DATABASE_URL"])
    assert url.scheme in ("postgres", "postgresql")
    assert (url.hostname, url.port) == ("db", 5432)
    assert url.path.lstrip("/") == db_env["POSTGRES_DB"]
    assert (url.username, url.password) == (db_env["POSTGRES_USER"], db_env["POSTGRES_PASSWORD"])
    assert web["depends_on"]["db"]["condition"] == "service_healthy"


def test_compose_web_runs_the_image_with_production_essentials(compose):
    web = compose["services"]["web"]
    env = _environment(web)

    assert web["build"] == "."
    assert env["DJANGO_SECRET_KEY"]
    assert env["HOST"] == "0.0.0.0"
    assert f"{env['PORT']}:{env['PORT']}" in web["ports"]


def test_compose_web_command_migrates_before_serving(compose):
    command = compose["services"]["web"]["command"]

    assert _steps_in_order(command) == START_COMMAND_STEPS
    assert "config/gunicorn.conf.py" in command
    assert "config.wsgi" in command


def test_compose_keeps_uploaded_images_in_a_volume(compose):
    web = compose["services"]["web"]
    media_root = _environment(web)["MEDIA_ROOT"]

    assert f"media:{media_root}" in web["volumes"]
    assert "media" in compose["volumes"]
    assert any(f"mkdir -p {media_root}" in run for keyword, run in _dockerfile_instructions() if keyword == "RUN")


def test_dockerfile_builds_a_non_root_gunicorn_image():
    instructions = _dockerfile_instructions()
    by_keyword: dict[str, list[str]] = {}
    for keyword, rest in instructions:
        by_keyword.setdefault(keyword, []).append(rest)

    assert by_keyword["FROM"][0].startswith("python:3.11")
    assert any("pip install -r requirements/production.txt" in run for run in by_keyword["RUN"])
    assert any("collectstatic --noinput" in run for run in by_keyword["RUN"])
    assert by_keyword["USER"][-1] not in ("root", "0")
    assert by_keyword["EXPOSE"] == ["8000"]
    assert "/health" in by_keyword["HEALTHCHECK"][0]
    command = shlex.join(json.loads(by_keyword["CMD"][-1]))  # the exec (JSON) form
    assert _steps_in_order(command) == START_COMMAND_STEPS
    assert "config/gunicorn.conf.py" in command


def test_dockerfile_copies_only_what_exists_and_ignores_local_state():
    for keyword, rest in _dockerfile_instructions():
        if keyword == "COPY":
            source = rest.split()[0]
            assert (REPO / source).exists(), source
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".venv", ".data", ".git"} <= set(ignored)


def _dockerfile_env() -> dict[str, str]:
    env = {}
    for keyword, rest in _dockerfile_instructions():
        if keyword == "ENV":
            env |= dict(word.split("=", 1) for word in shlex.split(rest))
    return env


@pytest.mark.django_db
def test_compose_serves_the_production_settings_over_plain_http(compose, tmp_path):
    env = machine_env() | _dockerfile_env() | _environment(compose["services"]["web"])
    env |= {"DATABASE_URL": database_url(connection.settings_dict), "MEDIA_ROOT": str(tmp_path)}  # no `db` host here

    found = probe(env, tmp_path)

    assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    assert found["settings"] == {
        "SECURE_SSL_REDIRECT": False,
        "SECURE_HSTS_SECONDS": 0,
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "CSRF_TRUSTED_ORIGINS": ["http://localhost:8000", "http://127.0.0.1:8000"],
    }
    answers = found["answers"]
    assert (answers["health_plain"]["status"], answers["plain_http"]["status"]) == (200, 401)  # not redirected
    assert all("strict-transport-security" not in answer["headers"] for answer in answers.values())


def test_compose_trusts_no_proxy(compose):
    """Clients reach gunicorn directly: X-Forwarded-For is whatever they send, so it must not be read
    (production's default, TRUSTED_PROXIES=1, is for the TLS proxy in front of a real deploy)."""
    assert _environment(compose["services"]["web"])["TRUSTED_PROXIES"] == "0"
