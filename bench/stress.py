"""``make stress``: the last-units race and opposite-order orders against the running server.

Round after round, 200 concurrent buyers (real HTTP connections, released together by a
barrier) each try to buy one unit of a product that has 50: in odd rounds all 50 sit in
``MAIN/DEFAULT``, in even rounds they are split between ``MAIN`` and a second warehouse that
allocation prefers (so orders are served from both). Exactly 50 must win, the other 150 must
get a clean 400 ``insufficient_stock``, and no request may fail with a 5xx. Then
multi-line orders for [A, B] and [B, A] run side by side: all must succeed. PostgreSQL's own
deadlock counter must not move. Exits non-zero on any violation.
"""

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import (
    REPO,
    Server,
    build_world,
    database_settings,
    libpq_conninfo,
    manage,
    percentile,
    running_server,
)


def post_order(port: int, token: str, items: list[dict]) -> tuple[int, dict, float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    body = json.dumps({"items": items})
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    started = time.perf_counter()
    try:
        connection.request("POST", "/orders", body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        elapsed_ms = (time.perf_counter() - started) * 1000
        return response.status, json.loads(payload) if payload else {}, elapsed_ms
    finally:
        connection.close()


def burst(port: int, calls: list[tuple[str, list[dict]]]) -> list[tuple[int, dict, float]]:
    """Fire all calls at once: each thread waits at a barrier, then sends its request."""
    barrier = threading.Barrier(len(calls))

    def one(call: tuple[str, list[dict]]):
        barrier.wait(timeout=120)
        return post_order(port, *call)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(one, calls))


def deadlock_count(db: dict) -> int:
    import psycopg

    with psycopg.connect(libpq_conninfo(db)) as conn:
        return conn.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()").fetchone()[0]


def new_warehouse(server: Server, admin_token: str, *, code: str) -> int:
    """A second warehouse that allocation prefers to ``MAIN`` (priority 50 < 100)."""
    body = {"code": code, "name": f"Stress {code}", "priority": 50}
    return server.api.ok("POST", "/warehouses", token=admin_token, body=body)["id"]


def new_product(
    server: Server, admin_token: str, *, sku: str, stock: int, elsewhere: tuple[int, int] | None = None
) -> int:
    """A seed-001 product with ``stock`` units at MAIN/DEFAULT, and ``elsewhere`` = (warehouse id, units) received."""
    body = {"sku": sku, "name": sku, "price": "10.00", "stock_quantity": stock}
    product_id = server.api.ok("POST", "/products", token=admin_token, body=body)["id"]
    if elsewhere is not None:
        warehouse_id, units = elsewhere
        receipt = {
            "warehouse_id": warehouse_id,
            "reference": f"stress {sku}",
            "lines": [{"sku": sku, "quantity": units}],
        }
        server.api.ok("POST", "/stock/receipts", token=admin_token, body=receipt)
    return product_id


def product_state(server: Server, admin_token: str, product_id: int) -> tuple[int, int]:
    product = server.api.ok("GET", f"/products/{product_id}", token=admin_token)
    return product["stock_quantity"], product["reserved_quantity"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buyers", type=int, default=int(os.environ.get("STRESS_BUYERS", "200")))
    parser.add_argument("--units", type=int, default=int(os.environ.get("STRESS_UNITS", "50")))
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("STRESS_ROUNDS", "10")))
    args = parser.parse_args()
    problems: list[str] = []
    loser_latencies: list[float] = []
    os.environ.setdefault("WEB_CONCURRENCY", "4")

    (REPO / "bench" / "results").mkdir(parents=True, exist_ok=True)
    with running_server(log_path=REPO / "bench" / "results" / "stress-server.log") as server:
        accounts = max(1, args.buyers // 5)
        print(f"creating {accounts} customer accounts for {args.buyers} buyers...", flush=True)
        world = build_world(server, products=0, customers=accounts, stock=0)
        tokens = [world.customer_tokens[i % accounts] for i in range(args.buyers)]
        db = database_settings(server.env)
        deadlocks_before = deadlock_count(db)

        second = new_warehouse(server, world.admin_token, code=f"S{world.run_id}")

        for round_number in range(1, args.rounds + 1):
            sku = f"S{world.run_id}-{round_number}"
            if round_number % 2:
                product_id = new_product(server, world.admin_token, sku=sku, stock=args.units)
            else:
                at_main = args.units // 2
                elsewhere = (second, args.units - at_main)
                product_id = new_product(server, world.admin_token, sku=sku, stock=at_main, elsewhere=elsewhere)
            results = burst(server.port, [(token, [{"product_id": product_id, "quantity": 1}]) for token in tokens])
            won = [r for r in results if r[0] == 201]
            lost = [r for r in results if r[0] == 400 and r[1].get("error", {}).get("code") == "insufficient_stock"]
            other = [r for r in results if r not in won and r not in lost]
            loser_latencies += [r[2] for r in lost]
            state = product_state(server, world.admin_token, product_id)
            where = "MAIN" if round_number % 2 else "split over two warehouses"
            print(
                f"round {round_number} ({where}): {len(won)} sold, {len(lost)} clean 400s, {len(other)} other; "
                f"stock {state}"
            )
            if len(won) != args.units or len(lost) != args.buyers - args.units or other:
                problems.append(f"round {round_number}: {len(won)} won, {len(lost)} lost, others {other[:3]}")
            if state != (0, args.units):
                problems.append(f"round {round_number}: product ended at (available, reserved) = {state}")

        a = new_product(server, world.admin_token, sku=f"S{world.run_id}-A", stock=10_000)
        b = new_product(server, world.admin_token, sku=f"S{world.run_id}-B", stock=10_000)
        forward = [{"product_id": a, "quantity": 1}, {"product_id": b, "quantity": 1}]
        backward = list(reversed(forward))
        mixed = burst(server.port, [(token, forward if i % 2 else backward) for i, token in enumerate(tokens)])
        failed = [r for r in mixed if r[0] != 201]
        print(f"opposite-order orders: {len(mixed) - len(failed)} of {len(mixed)} succeeded")
        if failed:
            problems.append(f"opposite-order orders failed: {[(r[0], r[1]) for r in failed[:3]]}")
        expected = (10_000 - args.buyers, args.buyers)
        for product_id in (a, b):
            if product_state(server, world.admin_token, product_id) != expected:
                problems.append(f"product {product_id} is not at {expected}")

        deadlocks = deadlock_count(db) - deadlocks_before
        if deadlocks:
            problems.append(f"PostgreSQL reported {deadlocks} deadlock(s)")
        try:
            manage("check_stock", env=server.env)
        except subprocess.CalledProcessError as exc:
            problems.append(f"check_stock failed: {exc}")
        server_errors = sum(1 for r in mixed if r[0] >= 500)
        if server_errors:
            problems.append(f"{server_errors} 5xx answers")

    loser_latencies.sort()
    print(
        f"losers' 400s: p50 {percentile(loser_latencies, 50):.0f} ms, p99 {percentile(loser_latencies, 99):.0f} ms "
        f"(each burst of {args.buyers} arrives at once on {os.environ['WEB_CONCURRENCY']} workers); "
        f"deadlocks: {deadlocks}"
    )
    if problems:
        print("STRESS FAILED:\n  " + "\n  ".join(problems))
        return 1
    print(f"stress passed: {args.rounds} rounds, nothing oversold, no 5xx, no deadlock")
    return 0


if __name__ == "__main__":
    sys.exit(main())
