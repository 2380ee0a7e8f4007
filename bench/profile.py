"""``make profile``: where a gunicorn worker spends its time under the spread workload.

Runs one sync worker, drives it with wrk as ``make bench`` does, and samples it with py-spy.
Writes the collapsed stacks to bench/results/profile.txt and prints the project, DRF and ORM
functions with the largest share of samples (inclusive), so the limits the README reports can
be checked.
"""

import os
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import build_world, running_server
from bench.run import RESULTS, ensure_tool, run_wrk

SECONDS = int(os.environ.get("PROFILE_SECONDS", "15"))
WATCHED = ("orders/", "inventory/", "catalog/", "accounts/", "config/", "rest_framework/", "django/db/", "simplejwt/")


def worker_pid(master_pid: int) -> int:
    children = subprocess.run(["pgrep", "-P", str(master_pid)], capture_output=True, text=True).stdout.split()
    if not children:
        raise SystemExit("no gunicorn worker found")
    return int(children[0])


def top_functions(raw: Path, limit: int = 25) -> list[tuple[float, str]]:
    inclusive: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        total += int(count)
        frames = {frame for frame in stack.split(";") if any(part in frame for part in WATCHED)}
        for frame in frames:
            inclusive[frame] += int(count)
    return [(100 * n / total, frame) for frame, n in inclusive.most_common(limit)]


def main() -> None:
    wrk = ensure_tool("wrk", "wrk")
    py_spy = str(Path(sys.executable).with_name("py-spy"))
    os.environ["WEB_CONCURRENCY"] = "1"
    RESULTS.mkdir(parents=True, exist_ok=True)
    with running_server(log_path=RESULTS / "profile-server.log") as server:
        world = build_world(server, products=1000, customers=8, stock=10_000_000)
        pid = worker_pid(server.process.pid)
        load = threading.Thread(
            target=run_wrk,
            kwargs={
                "wrk": wrk,
                "base_url": server.api.base_url,
                "world": world,
                "product_ids": world.product_ids,
                "clients": 4,
                "seconds": SECONDS + 2,
            },
        )
        load.start()
        raw = RESULTS / "profile.txt"
        record = [py_spy, "record", "--pid", str(pid), "--duration", str(SECONDS), "--rate", "200", "--nonblocking"]
        subprocess.run([*record, "--format", "raw", "--output", str(raw)], check=True, capture_output=True)
        load.join()
    print(f"share of samples in the worker (inclusive), {SECONDS} s of the spread workload:")
    for share, frame in top_functions(raw):
        print(f"{share:5.1f}%  {frame}")
    print(f"collapsed stacks (for any flame-graph tool): {raw}")


if __name__ == "__main__":
    main()
