"""Django under another settings module, in a child process with the environment a deploy would set.

Settings modules are read once per process, so the only honest way to test ``local`` or
``production`` from the test run is to start a new Python for each.
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[2]
SETTINGS_MODULES = ["config.settings.local", "config.settings.test", "config.settings.production"]
DEPLOY_HOST = "api.example.com"
_CONFIG_PREFIXES = ("DJANGO_", "DATABASE_URL", "EMBEDDED_POSTGRES_")


def database_url(settings_dict: dict) -> str:
    """``DATABASE_URL`` for a connection's settings; a Unix socket directory goes in ``?host=``."""
    user, password = quote(settings_dict["USER"] or "", safe=""), quote(settings_dict["PASSWORD"] or "", safe="")
    host, port, name = settings_dict["HOST"] or "", settings_dict["PORT"] or "5432", quote(settings_dict["NAME"])
    if host.startswith("/"):
        return f"postgres://{user}:{password}@/{name}?host={quote(host)}&port={port}"
    return f"postgres://{user}:{password}@{host}:{port}/{name}"


def machine_env() -> dict[str, str]:
    """The machine's environment without this test run's Django and database settings."""
    return {key: value for key, value in os.environ.items() if not key.startswith(_CONFIG_PREFIXES)}


def deploy_env(settings_module: str, **variables: str) -> dict[str, str]:
    """``machine_env()`` plus what a deploy sets for ``settings_module`` (production: key, hosts, database)."""
    env = machine_env() | {"DJANGO_SETTINGS_MODULE": settings_module}
    if settings_module.endswith(".production"):
        env |= {
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": DEPLOY_HOST,
            "DJANGO_CSRF_TRUSTED_ORIGINS": f"https://{DEPLOY_HOST}",
            "DATABASE_URL": "postgres://deploy:unused@127.0.0.1:1/unused",
        }
    return env | variables


def run_python(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return run_python("manage.py", *args, env=env)


def probe(env: dict[str, str], tmp_path) -> dict:
    """``{"answers": {name: {status, headers (lower-case names)}}, "settings": {...}}`` from probe_headers.py."""
    out = tmp_path / "probe.json"
    result = run_python("-m", "tests.config.probe_headers", str(out), env=env)
    assert result.returncode == 0, result.stderr
    found = json.loads(out.read_text())
    for answer in found["answers"].values():
        answer["headers"] = {name.lower(): value for name, value in answer["headers"].items()}
    return found
