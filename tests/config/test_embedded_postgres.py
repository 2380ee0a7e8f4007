"""The embedded server: concurrent start-up, stale state after a crash, stop."""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from config.embedded_postgres import database_settings, server_start, server_stop

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def data_dir(tmp_path):
    path = tmp_path / "pg"
    yield path
    server_stop(data_dir=path)


def _connect(settings: dict) -> int:
    with psycopg.connect(
        host=settings["HOST"], port=settings["PORT"], user=settings["USER"], dbname=settings["NAME"]
    ) as conn:
        return conn.execute("SELECT pg_backend_pid()").fetchone()[0]


def _run_python(code: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE, text=True)


def test_database_settings_is_safe_when_processes_start_at_once(data_dir):
    code = (
        "import json; from pathlib import Path; from config.embedded_postgres import database_settings; "
        f"print(json.dumps(database_settings(data_dir=Path({str(data_dir)!r}), name='app')))"
    )
    processes = [_run_python(code) for _ in range(4)]
    results = [json.loads(p.communicate(timeout=120)[0]) for p in processes]

    assert all(p.returncode == 0 for p in processes)
    assert len({(r["HOST"], r["PORT"]) for r in results}) == 1
    assert _connect(results[0]) > 0


def test_server_start_recovers_from_a_stale_pid_file(data_dir):
    server_start(data_dir=data_dir)
    server_stop(data_dir=data_dir)
    # A crash can leave postmaster.pid behind, naming a pid that now belongs to another process.
    (data_dir / "postmaster.pid").write_text(f"{os.getpid()}\n{data_dir}\n")

    settings = database_settings(data_dir=data_dir, name="app")

    assert _connect(settings) > 0


def test_server_survives_a_killed_owner_and_is_reused(data_dir):
    code = (
        "import os, signal; from pathlib import Path; from config.embedded_postgres import server_start; "
        f"server_start(data_dir=Path({str(data_dir)!r})); os.kill(os.getpid(), signal.SIGKILL)"
    )
    owner = _run_python(code)
    owner.communicate(timeout=120)
    assert owner.returncode == -signal.SIGKILL
    postmaster_pid = int((data_dir / "postmaster.pid").read_text().splitlines()[0])

    settings = database_settings(data_dir=data_dir, name="app")

    assert _connect(settings) > 0
    assert int((data_dir / "postmaster.pid").read_text().splitlines()[0]) == postmaster_pid


def test_server_stop_stops_it_and_reports_when_nothing_runs(data_dir):
    server_start(data_dir=data_dir)

    assert server_stop(data_dir=data_dir) is True
    assert not (data_dir / "postmaster.pid").exists()
    assert server_stop(data_dir=data_dir) is False
