"""A real server to measure: gunicorn with the production settings on the project's database.

Used by the benchmark (``make bench``), the stress test (``make stress``) and the schema fuzzer
(``make fuzz``). Everything it creates (users; seed-001 products: one variant each, stock
received at ``MAIN/DEFAULT``) goes through the HTTP API, except the first admin, made with
``createsuperuser --noinput`` as an operator would.
"""

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BENCH_DB = "inventory_bench"
PASSWORD = "Bench-Passphrase-2026"


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values)) - 1))
    return sorted_values[index]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(**overrides: str) -> dict[str, str]:
    """Environment of the server and the manage.py calls: production settings, a throwaway secret."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50),
        "DJANGO_SECURE_COOKIES": "false",
        "DJANGO_SECURE_SSL_REDIRECT": "false",  # plain HTTP on loopback
        "THROTTLE_ANON_RATE": "1000000/min",
        "THROTTLE_USER_RATE": "1000000/min",
        "AXES_FAILURE_LIMIT": "1000",
        "LOGIN_CLIENT_FAILURE_LIMIT": "1000000",
        "STAFF_2FA_REQUIRED": "false",  # the harness logs its admin in with a password only
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
    }
    if not env.get("DATABASE_URL"):
        env["EMBEDDED_POSTGRES_DB"] = BENCH_DB
    env.update(overrides)
    return env


def manage(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run([PYTHON, "manage.py", *args], cwd=REPO, env=env, check=True, capture_output=True, text=True)
    return result.stdout


def database_settings(env: dict[str, str]) -> dict:
    """The DATABASES['default'] entry the server uses (starts the embedded server if needed)."""
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "d = settings.DATABASES['default']; "
        "print(json.dumps({k: str(d.get(k) or '') for k in ('NAME', 'USER', 'PASSWORD', 'HOST', 'PORT')}))"
    )
    out = subprocess.run([PYTHON, "-c", code], cwd=REPO, env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def libpq_conninfo(db: dict) -> str:
    parts = {"dbname": db["NAME"], "user": db["USER"], "host": db["HOST"], "port": db["PORT"]}
    if db["PASSWORD"]:
        parts["password"] = db["PASSWORD"]
    return " ".join(f"{key}={value}" for key, value in parts.items() if value)


def recreate_bench_database(env: dict[str, str]) -> None:
    """On the embedded server, start every run from an empty database of its own."""
    if env.get("DATABASE_URL"):
        return
    import psycopg

    db = database_settings({**env, "EMBEDDED_POSTGRES_DB": "postgres"})
    with psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname="postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


class ApiError(Exception):
    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body[:300]}")
        self.status = status
        self.body = body


@dataclass
class Api:
    base_url: str

    def call(self, method: str, path: str, *, token: str | None = None, body: dict | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else {}
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            return exc.code, json.loads(raw) if raw else {}

    def ok(self, method: str, path: str, **kwargs) -> dict:
        status, body = self.call(method, path, **kwargs)
        if status >= 300:
            raise ApiError(status, json.dumps(body))
        return body

    def login(self, email: str, password: str = PASSWORD) -> str:
        return self.ok("POST", "/auth/login", body={"email": email, "password": password})["access_token"]


@dataclass
class Server:
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def api(self) -> Api:
        return Api(f"http://127.0.0.1:{self.port}")

    def start(self, log_path: Path) -> None:
        env = {**self.env, "HOST": "127.0.0.1", "PORT": str(self.port)}
        self._log = log_path.open("w")
        self.process = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "-c", "config/gunicorn.conf.py", "config.wsgi"],
            cwd=REPO,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; see {log_path}")
            try:
                if self.api.call("GET", "/health")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer /health within 60 s; see {log_path}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self._log.close()


@contextmanager
def running_server(*, log_path: Path, **env_overrides: str):
    """Migrate the database, then serve it with gunicorn until the block ends."""
    env = server_env(**env_overrides)
    recreate_bench_database(env)
    manage("migrate", "--noinput", env=env)
    manage("createcachetable", env=env)
    server = Server(env=env)
    server.start(log_path)
    try:
        yield server
    finally:
        server.stop()


@dataclass
class World:
    """What a run set up: an admin token, customer tokens, product ids and their (only) variants' ids."""

    run_id: str
    admin_email: str
    admin_token: str
    customer_tokens: list[str]
    customer_emails: list[str]
    product_ids: list[int]
    variant_ids: list[int]


def build_world(server: Server, *, products: int, customers: int, stock: int, price: str = "10.00") -> World:
    run_id = secrets.token_hex(4)
    admin_email = f"bench-admin-{run_id}@example.com"
    manage(
        "createsuperuser",
        "--noinput",
        env={**server.env, "DJANGO_SUPERUSER_EMAIL": admin_email, "DJANGO_SUPERUSER_PASSWORD": PASSWORD},
    )
    api = server.api
    admin_token = api.login(admin_email)
    emails = [f"bench-{run_id}-{n}@example.com" for n in range(customers)]
    for email in emails:
        api.ok("POST", "/auth/register", token=admin_token, body={"email": email, "password": PASSWORD})
    created = [
        api.ok(
            "POST",
            "/products",
            token=admin_token,
            body={"sku": f"B{run_id}-{n:05d}", "name": f"Bench {n}", "price": price, "stock_quantity": stock},
        )
        for n in range(products)
    ]
    return World(
        run_id=run_id,
        admin_email=admin_email,
        admin_token=admin_token,
        customer_tokens=[api.login(email) for email in emails],
        customer_emails=emails,
        product_ids=[product["id"] for product in created],
        variant_ids=[only_variant["id"] for product in created for only_variant in product["variants"]],
    )
