"""``make stress``: races on every path that moves stock, money or an order's status, against the running server.

1. The last units: round after round, 200 concurrent buyers (real HTTP connections, released
   together by a barrier) each try to buy one unit of a product that has 50 through
   ``POST /orders``: in odd rounds all 50 sit in ``MAIN/DEFAULT``, in even rounds they are split
   between ``MAIN`` and a second warehouse that allocation prefers. Exactly 50 must win, the other
   150 must get a clean 400 ``insufficient_stock``.
2. Opposite-order orders: multi-line orders for [A, B] and [B, A] side by side; all must succeed.
3. Carts: 100 carts (one scarce unit and two plentiful ones each, 40 customers' carts) check out
   at once for 25 units: exactly 25 orders, clean 400s for the rest, the winners' carts CHECKED_OUT with
   their order, the losers' OPEN and unchanged, nothing of the plentiful product held for them.
   Then carts checked out 4 times at once each (half without a key, half with one key): one order
   per cart, the other checkouts 409 ``cart_checked_out`` (no key) or replays of that order.
4. Payments: ``POST /orders/{id}/pay`` 4 times at once per order: one payment per order (the
   charges share its idempotency key), SUCCEEDED, the order PAID. Then orders with 3 PENDING
   payments each get ``POST /payments/{id}/succeed`` for all 3, a ``/pay`` and a new
   ``POST /payments`` at once: exactly one payment of each order SUCCEEDED, no payment but the
   ones answered 201. And a payment succeeding while its customer cancels the order: either PAID
   with its stock allocated (the cancel refused) or CANCELLED with its stock released and the
   payment FAILED.
5. Ship against cancel: PAID orders get ``POST /shipments/{id}/ship`` (or ``/orders/{id}/ship``)
   twice and ``POST /orders/{id}/cancel`` twice at once: each order ends SHIPPED (shipment
   SHIPPED, payment SUCCEEDED, reservations COMMITTED) or CANCELLED (no shipment SHIPPED, payment
   REFUNDED, reservations RELEASED), and the stock adds up.

Every answer must be the expected 2xx or a clean 4xx in the error shape (no 5xx anywhere),
PostgreSQL's own deadlock counter must not move, and ``check_stock`` must stay clean. Exits
non-zero on any violation. Knobs: ``STRESS_BUYERS`` (200; one account per 5 buyers),
``STRESS_UNITS`` (50), ``STRESS_ROUNDS`` (10), ``STRESS_CARTS`` (100 carts for a quarter as many
units), ``STRESS_ORDERS`` (20 orders per payment and shipment race; half as many carts checked out
4 times).
"""

import argparse
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

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

T = TypeVar("T")
R = TypeVar("R")
SETUP_THREADS = 8


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    token: str
    body: dict | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict
    ms: float
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def code(self) -> str | None:
        """The error code of an error answer (None for a success or a body not in the error shape)."""
        error = self.body.get("error") if isinstance(self.body, dict) else None
        return error.get("code") if isinstance(error, dict) else None


def send(port: int, call: Call) -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    body = json.dumps(call.body) if call.body is not None else None
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {call.token}", **dict(call.headers)}
    started = time.perf_counter()
    try:
        connection.request(call.method, call.path, body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        elapsed_ms = (time.perf_counter() - started) * 1000
        try:
            parsed = json.loads(payload) if payload else {}
        except ValueError:
            parsed = {"unparsed": payload[:300].decode(errors="replace")}
        return Answer(response.status, parsed, elapsed_ms, {k.lower(): v for k, v in response.getheaders()})
    finally:
        connection.close()


def burst(port: int, calls: list[Call]) -> list[Answer]:
    """Fire all calls at once: each thread waits at a barrier, then sends its request."""
    barrier = threading.Barrier(len(calls))

    def one(call: Call) -> Answer:
        barrier.wait(timeout=120)
        return send(port, call)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(one, calls))


def parallel(function: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """Setup and checks: ``function`` over ``items`` on a few threads, results in order."""
    with ThreadPoolExecutor(max_workers=SETUP_THREADS) as pool:
        return list(pool.map(function, items))


def deadlock_count(db: dict) -> int:
    import psycopg

    with psycopg.connect(libpq_conninfo(db)) as conn:
        return conn.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()").fetchone()[0]


def tally(answers: Iterable[Answer]) -> str:
    """``200 x3, 409 invalid_transition x5``: what a burst answered, for the failure messages."""
    counts = Counter(f"{a.status} {a.code}" if a.code else str(a.status) for a in answers)
    return ", ".join(f"{key} x{n}" for key, n in sorted(counts.items()))


@dataclass
class Run:
    """The server under test, the actors, every answer a burst got, and the problems found."""

    server: Server
    admin: str
    customers: list[str]
    run_id: str
    problems: list[str] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)
    serial: int = 0

    def burst(self, calls: list[Call]) -> list[Answer]:
        answers = burst(self.server.port, calls)
        self.answers += answers
        return answers

    def ok(self, method: str, path: str, *, token: str | None = None, body: dict | None = None) -> dict:
        return self.server.api.ok(method, path, token=token or self.admin, body=body)

    def check(self, condition: bool, message: str) -> bool:
        if not condition:
            self.problems.append(message)
        return condition

    def sku(self, label: str) -> str:
        self.serial += 1
        return f"S{self.run_id}-{label}{self.serial}".upper()

    def customer(self, n: int) -> str:
        return self.customers[n % len(self.customers)]

    # --- setup through the API

    def new_product(self, *, label: str, stock: int, elsewhere: tuple[int, int] | None = None) -> tuple[int, int]:
        """A seed-001 product with ``stock`` units at MAIN/DEFAULT (and ``elsewhere`` = (warehouse id, units));
        its id and its only variant's id."""
        sku = self.sku(label)
        product = self.ok(
            "POST", "/products", body={"sku": sku, "name": sku, "price": "10.00", "stock_quantity": stock}
        )
        if elsewhere is not None:
            warehouse_id, units = elsewhere
            receipt = {
                "warehouse_id": warehouse_id,
                "reference": f"stress {sku}",
                "lines": [{"sku": sku, "quantity": units}],
            }
            self.ok("POST", "/stock/receipts", body=receipt)
        return product["id"], product["variants"][0]["id"]

    def product_state(self, product_id: int) -> tuple[int, int]:
        """(available, reserved) of a product."""
        product = self.ok("GET", f"/products/{product_id}")
        return product["stock_quantity"], product["reserved_quantity"]

    def place_orders(self, *, variant_id: int, count: int, quantity: int = 1) -> list[tuple[str, str]]:
        """``count`` PENDING orders of ``quantity`` units each, by customers in turn: [(order id, owner's token)]."""

        def place(n: int) -> tuple[str, str]:
            token = self.customer(n)
            body = {"items": [{"variant_id": variant_id, "quantity": quantity}]}
            return self.ok("POST", "/orders", token=token, body=body)["id"], token

        return parallel(place, range(count))

    def listed(self, path: str, *, token: str | None = None) -> list[dict]:
        return self.ok("GET", path, token=token)["results"]


# --- 1 and 2: POST /orders


def last_units_rounds(run: Run, *, buyers: int, units: int, rounds: int) -> list[float]:
    """The rounds of the last-units race; the losers' latencies."""
    second = run.ok("POST", "/warehouses", body={"code": f"S{run.run_id}", "name": "Stress second", "priority": 50})
    tokens = [run.customer(i) for i in range(buyers)]
    loser_latencies: list[float] = []
    for round_number in range(1, rounds + 1):
        if round_number % 2:
            product_id, _ = run.new_product(label="R", stock=units)
        else:
            at_main = units // 2
            product_id, _ = run.new_product(label="R", stock=at_main, elsewhere=(second["id"], units - at_main))
        body = {"items": [{"product_id": product_id, "quantity": 1}]}
        results = run.burst([Call("POST", "/orders", token, body) for token in tokens])
        won = [r for r in results if r.status == 201]
        lost = [r for r in results if r.status == 400 and r.code == "insufficient_stock"]
        other = [r for r in results if r not in won and r not in lost]
        loser_latencies += [r.ms for r in lost]
        state = run.product_state(product_id)
        where = "MAIN" if round_number % 2 else "split over two warehouses"
        print(
            f"round {round_number} ({where}): {len(won)} sold, {len(lost)} clean 400s, {len(other)} other; "
            f"stock {state}",
            flush=True,
        )
        run.check(
            len(won) == units and len(lost) == buyers - units and not other,
            f"round {round_number}: {len(won)} won, {len(lost)} lost, others {tally(other)}",
        )
        run.check(state == (0, units), f"round {round_number}: product ended at (available, reserved) = {state}")
    return loser_latencies


def opposite_orders(run: Run, *, buyers: int) -> None:
    a, _ = run.new_product(label="A", stock=10_000)
    b, _ = run.new_product(label="B", stock=10_000)
    forward = {"items": [{"product_id": a, "quantity": 1}, {"product_id": b, "quantity": 1}]}
    backward = {"items": list(reversed(forward["items"]))}
    calls = [Call("POST", "/orders", run.customer(i), forward if i % 2 else backward) for i in range(buyers)]
    mixed = run.burst(calls)
    failed = [r for r in mixed if r.status != 201]
    print(f"opposite-order orders: {len(mixed) - len(failed)} of {len(mixed)} succeeded", flush=True)
    run.check(not failed, f"opposite-order orders failed: {tally(failed)}")
    expected = (10_000 - buyers, buyers)
    for product_id in (a, b):
        state = run.product_state(product_id)
        run.check(state == expected, f"opposite-order product {product_id} is at {state}, not {expected}")


# --- 3: carts


def cart_with(run: Run, token: str, lines: list[tuple[int, int]]) -> str:
    cart_id = run.ok("POST", "/carts", token=token)["id"]
    for variant_id, quantity in lines:
        run.ok("POST", f"/carts/{cart_id}/items", token=token, body={"variant_id": variant_id, "quantity": quantity})
    return cart_id


def cart_race(run: Run, *, carts: int) -> None:
    """``carts`` carts, each with 1 scarce unit and 2 plentiful ones, check out at once for ``carts // 4`` units."""
    units = max(1, carts // 4)
    scarce, scarce_variant = run.new_product(label="CS", stock=units)
    plenty, plenty_variant = run.new_product(label="CP", stock=10_000)
    lines = [(scarce_variant, 1), (plenty_variant, 2)]
    owners = [run.customer(n) for n in range(carts)]
    cart_ids = parallel(lambda token: cart_with(run, token, lines), owners)
    results = run.burst(
        [Call("POST", f"/carts/{cid}/checkout", token) for cid, token in zip(cart_ids, owners, strict=True)]
    )
    won = {cid: r.body["id"] for cid, r in zip(cart_ids, results, strict=True) if r.status == 201}
    lost = [r for r in results if r.status == 400 and r.code == "insufficient_stock"]
    other = [r for r in results if r.status != 201 and r not in lost]
    views = parallel(
        lambda pair: run.ok("GET", f"/carts/{pair[0]}", token=pair[1]), list(zip(cart_ids, owners, strict=True))
    )
    checked_out = [v for v in views if v["status"] == "CHECKED_OUT"]
    wrong = [
        v["id"]
        for v in views
        if (v["status"], v["order_id"]) != (("CHECKED_OUT", won[v["id"]]) if v["id"] in won else ("OPEN", None))
        or sorted((i["variant_id"], i["quantity"]) for i in v["items"]) != sorted(lines)
    ]
    scarce_state, plenty_state = run.product_state(scarce), run.product_state(plenty)
    print(
        f"carts: {carts} checkouts at once for {units} units: {len(won)} orders, {len(lost)} clean 400s, "
        f"{len(other)} other; {len(checked_out)} carts CHECKED_OUT, {len(views) - len(checked_out)} OPEN; "
        f"stock {scarce_state}",
        flush=True,
    )
    run.check(
        len(won) == units and len(lost) == carts - units and not other,
        f"cart race: {len(won)} won, {len(lost)} lost, others {tally(other)}",
    )
    run.check(not wrong, f"cart race: carts not as their checkout answered: {wrong[:3]}")
    run.check(scarce_state == (0, units), f"cart race: scarce product at {scarce_state}, not (0, {units})")
    expected = (10_000 - 2 * len(won), 2 * len(won))
    run.check(plenty_state == expected, f"cart race: plentiful product at {plenty_state}, not {expected}")


def cart_repeats(run: Run, *, carts: int, repeats: int = 4) -> None:
    """Each cart checked out ``repeats`` times at once: half the carts without a key, half with one key each."""
    product_id, variant_id = run.new_product(label="CR", stock=10_000)
    owners = [run.customer(n) for n in range(carts)]
    cart_ids = parallel(lambda token: cart_with(run, token, [(variant_id, 3)]), owners)
    keys = [None if n % 2 else str(uuid.uuid4()) for n in range(carts)]
    calls = [
        Call("POST", f"/carts/{cid}/checkout", token, headers=(("Idempotency-Key", key),) if key else ())
        for cid, token, key in zip(cart_ids, owners, keys, strict=True)
        for _ in range(repeats)
    ]
    results = run.burst(calls)
    orders, refused, replays, other = 0, 0, 0, []
    for n, (cid, key) in enumerate(zip(cart_ids, keys, strict=True)):
        answers = results[n * repeats : (n + 1) * repeats]
        placed = {a.body["id"] for a in answers if a.status == 201}
        orders += len(placed)
        refused += sum(1 for a in answers if a.status == 409 and a.code == "cart_checked_out")
        replays += sum(1 for a in answers if a.status == 201 and a.headers.get("idempotent-replayed") == "true")
        expected = Counter({201: repeats}) if key else Counter({201: 1, 409: repeats - 1})
        if Counter(a.status for a in answers) != expected or len(placed) != 1:
            other.append(f"cart {cid} ({'key' if key else 'no key'}): {tally(answers)}")
        elif run.ok("GET", f"/carts/{cid}", token=owners[n])["order_id"] not in placed:
            other.append(f"cart {cid} does not name the order its checkout answered")
    state = run.product_state(product_id)
    print(
        f"carts checked out {repeats}x at once ({carts} carts, half with an Idempotency-Key): {orders} orders, "
        f"{refused} 409 cart_checked_out, {replays} replays, {len(other)} other; stock {state}",
        flush=True,
    )
    run.check(orders == carts and not other, f"cart repeats: {orders} orders for {carts} carts; {other[:3]}")
    run.check(state == (10_000 - 3 * carts, 3 * carts), f"cart repeats: product at {state}")


# --- 4: payments


def payments_of(run: Run, order_id: str, token: str) -> list[dict]:
    return run.listed(f"/payments?order_id={order_id}&page_size=100", token=token)


def pay_race(run: Run, *, orders: int, repeats: int = 4) -> None:
    """``POST /orders/{id}/pay`` ``repeats`` times at once per order (the last one by an admin)."""
    product_id, variant_id = run.new_product(label="P", stock=10_000)
    placed = run.place_orders(variant_id=variant_id, count=orders)
    calls = [
        Call("POST", f"/orders/{order_id}/pay", run.admin if n == repeats - 1 else token)
        for order_id, token in placed
        for n in range(repeats)
    ]
    results = run.burst(calls)
    bad = [r for r in results if r.status != 200 and (r.status, r.code) != (409, "invalid_transition")]
    listed = parallel(lambda pair: payments_of(run, *pair), placed)
    states = parallel(lambda pair: run.ok("GET", f"/orders/{pair[0]}", token=pair[1])["status"], placed)
    wrong = [
        order_id
        for (order_id, _), payments, status in zip(placed, listed, states, strict=True)
        if status != "PAID" or [p["status"] for p in payments] != ["SUCCEEDED"]
    ]
    references = [p["provider_reference"] for payments in listed for p in payments]
    print(
        f"pay {repeats}x at once ({orders} orders): {states.count('PAID')} PAID, "
        f"{sum(len(p) for p in listed)} payments ({len(set(references))} distinct provider references), "
        f"{sum(r.status == 200 for r in results)} 200s, {sum(r.status == 409 for r in results)} 409s, "
        f"{len(bad)} other",
        flush=True,
    )
    run.check(not bad, f"pay race: unexpected answers {tally(bad)}")
    run.check(not wrong, f"pay race: orders without exactly one SUCCEEDED payment: {wrong[:3]}")
    run.check(len(set(references)) == len(references) == orders, f"pay race: payment references {references[:4]}")
    run.check(run.product_state(product_id) == (10_000 - orders, orders), "pay race: the stock moved")


def settle_race(run: Run, *, orders: int, pending: int = 3) -> None:
    """Orders with ``pending`` PENDING payments get succeed on each, a ``/pay`` and a new payment at once."""
    _, variant_id = run.new_product(label="SP", stock=10_000)
    placed = run.place_orders(variant_id=variant_id, count=orders)
    created = run.burst(
        [Call("POST", "/payments", token, {"order_id": oid}) for oid, token in placed for _ in range(pending)]
    )
    run.check(all(r.status == 201 for r in created), f"settle race: POST /payments answered {tally(created)}")
    calls = []
    for n, (order_id, token) in enumerate(placed):
        payment_ids = [r.body["id"] for r in created[n * pending : (n + 1) * pending] if r.status == 201]
        calls += [Call("POST", f"/payments/{pid}/succeed", run.admin, {}) for pid in payment_ids]
        calls += [
            Call("POST", f"/orders/{order_id}/pay", token),
            Call("POST", "/payments", token, {"order_id": order_id}),
        ]
    results = run.burst(calls)
    expected = {(200, None), (201, None), (409, "invalid_transition")}
    bad = [r for r in results if (r.status, r.code) not in expected]
    new_payments = Counter(r.body["order_id"] for r in results if r.status == 201)
    listed = parallel(lambda pair: payments_of(run, *pair), placed)
    states = parallel(lambda pair: run.ok("GET", f"/orders/{pair[0]}", token=pair[1])["status"], placed)
    wrong, statuses = [], Counter()
    for (order_id, _), payments, status in zip(placed, listed, states, strict=True):
        kinds = Counter(p["status"] for p in payments)
        statuses.update(kinds)
        stray = [p for p in payments if p["status"] == "FAILED" and p["failure_reason"] != "order_already_paid"]
        if status != "PAID" or kinds["SUCCEEDED"] != 1 or len(payments) != pending + new_payments[order_id] or stray:
            wrong.append(f"{order_id}: {status}, {dict(kinds)}")
    print(
        f"succeed x{pending} + pay + new payment at once ({orders} orders with {pending} PENDING payments): "
        f"{states.count('PAID')} PAID, payments {dict(sorted(statuses.items()))}, {len(bad)} other answers",
        flush=True,
    )
    run.check(not bad, f"settle race: unexpected answers {tally(bad)}")
    run.check(not wrong, f"settle race: orders not PAID with exactly one SUCCEEDED payment: {wrong[:3]}")


def succeed_cancel_race(run: Run, *, orders: int) -> None:
    """A PENDING payment succeeding (admin) while its order's customer cancels it: one of the two wins, consistently."""
    product_id, variant_id = run.new_product(label="SC", stock=orders)
    placed = run.place_orders(variant_id=variant_id, count=orders)
    payments = parallel(lambda pair: run.ok("POST", "/payments", token=pair[1], body={"order_id": pair[0]}), placed)
    calls = []
    for (order_id, token), payment in zip(placed, payments, strict=True):
        calls += [Call("POST", f"/payments/{payment['id']}/succeed", run.admin, {})]
        calls += [Call("POST", f"/orders/{order_id}/cancel", token)]
    results = run.burst(calls)

    def outcome(pair: tuple[str, str]) -> tuple[str, list[str], list[str]]:
        order_id, token = pair
        status = run.ok("GET", f"/orders/{order_id}", token=token)["status"]
        payment_statuses = [p["status"] for p in payments_of(run, order_id, token)]
        reservations = [r["status"] for r in run.listed(f"/stock/reservations?order_id={order_id}")]
        return status, payment_statuses, reservations

    wrong, ended = [], Counter()
    for n, (status, payment_statuses, reservations) in enumerate(parallel(outcome, placed)):
        succeeded, cancelled = results[2 * n], results[2 * n + 1]
        ended[status] += 1
        expected = {
            # the payment won: the order is PAID and keeps its stock; a customer may not cancel a paid order
            "PAID": ((200, None), (403, "transition_forbidden"), ["SUCCEEDED"], {"ALLOCATED"}),
            # the cancel won: the stock is back, the payment failed and can no longer succeed
            "CANCELLED": ((409, "invalid_transition"), (200, None), ["FAILED"], {"RELEASED"}),
        }.get(status)
        got = (
            (succeeded.status, succeeded.code),
            (cancelled.status, cancelled.code),
            payment_statuses,
            set(reservations),
        )
        if got != expected:
            wrong.append(f"order {placed[n][0]} {status}: {got}")
    state = run.product_state(product_id)
    print(
        f"succeed vs cancel at once ({orders} orders with a PENDING payment): {ended['PAID']} PAID and allocated, "
        f"{ended['CANCELLED']} CANCELLED and released, {len(wrong)} inconsistent; stock {state}",
        flush=True,
    )
    run.check(not wrong, f"succeed vs cancel: {wrong[:3]}")
    paid = ended["PAID"]
    run.check(state == (orders - paid, paid), f"succeed vs cancel: product at {state}, not ({orders - paid}, {paid})")


# --- 5: shipments against cancels


def ship_cancel_race(run: Run, *, orders: int, repeats: int = 2) -> None:
    """PAID orders shipped and cancelled twice each at once (even ones through a PENDING shipment, odd in one call)."""
    product_id, variant_id = run.new_product(label="SH", stock=orders)
    placed = run.place_orders(variant_id=variant_id, count=orders)
    parallel(lambda pair: run.ok("POST", f"/orders/{pair[0]}/pay", token=pair[1]), placed)
    shipments = parallel(
        lambda n: run.ok("POST", "/shipments", body={"order_id": placed[n][0]})["id"] if n % 2 == 0 else None,
        range(orders),
    )
    calls = []
    for (order_id, _), shipment_id in zip(placed, shipments, strict=True):
        ship = f"/shipments/{shipment_id}/ship" if shipment_id else f"/orders/{order_id}/ship"
        calls += [Call("POST", ship, run.admin, {}) for _ in range(repeats)]
        calls += [Call("POST", f"/orders/{order_id}/cancel", run.admin) for _ in range(repeats)]
    results = run.burst(calls)

    def outcome(pair: tuple[str, str]) -> tuple[str, list[str], list[str], list[str]]:
        order_id = pair[0]
        status = run.ok("GET", f"/orders/{order_id}")["status"]
        shipment_statuses = [s["status"] for s in run.listed(f"/shipments?order_id={order_id}")]
        payment_statuses = [p["status"] for p in run.listed(f"/payments?order_id={order_id}")]
        reservations = [r["status"] for r in run.listed(f"/stock/reservations?order_id={order_id}")]
        return status, shipment_statuses, payment_statuses, reservations

    outcomes = parallel(outcome, placed)
    wrong, ended = [], Counter()
    for n, (status, shipment_statuses, payment_statuses, reservations) in enumerate(outcomes):
        answers = results[n * 2 * repeats : (n + 1) * 2 * repeats]
        shipped_ok = sum(a.status == 200 for a in answers[:repeats])
        cancelled_ok = sum(a.status == 200 for a in answers[repeats:])
        refused = sum((a.status, a.code) == (409, "invalid_transition") for a in answers)
        ended[status] += 1
        if status == "SHIPPED":
            fine = (
                (shipped_ok, cancelled_ok) == (1, 0)
                and shipment_statuses.count("SHIPPED") == 1
                and "PENDING" not in shipment_statuses
                and payment_statuses == ["SUCCEEDED"]
                and set(reservations) == {"COMMITTED"}
            )
        elif status == "CANCELLED":
            fine = (
                (shipped_ok, cancelled_ok) == (0, 1)
                and not {"SHIPPED", "PENDING"} & set(shipment_statuses)
                and payment_statuses == ["REFUNDED"]
                and set(reservations) == {"RELEASED"}
            )
        else:
            fine = False
        if not fine or refused != 2 * repeats - 1:
            wrong.append(
                f"order {placed[n][0]} {status}: answers {tally(answers)}, shipments {shipment_statuses}, "
                f"payments {payment_statuses}, reservations {reservations}"
            )
    shipped = ended["SHIPPED"]
    state = run.product_state(product_id)
    print(
        f"ship x{repeats} vs cancel x{repeats} at once ({orders} PAID orders): {shipped} SHIPPED, "
        f"{ended['CANCELLED']} CANCELLED (refunded, released), {len(wrong)} inconsistent; stock {state}",
        flush=True,
    )
    run.check(not wrong, f"ship vs cancel: {wrong[:3]}")
    # the cancelled orders' units are available again; the shipped ones left with their reservations
    run.check(state == (orders - shipped, 0), f"ship vs cancel: product at {state}, not ({orders - shipped}, 0)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--buyers", type=int, default=int(os.environ.get("STRESS_BUYERS", "200")))
    parser.add_argument("--units", type=int, default=int(os.environ.get("STRESS_UNITS", "50")))
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("STRESS_ROUNDS", "10")))
    parser.add_argument("--carts", type=int, default=int(os.environ.get("STRESS_CARTS", "100")))
    parser.add_argument("--orders", type=int, default=int(os.environ.get("STRESS_ORDERS", "20")))
    args = parser.parse_args()
    os.environ.setdefault("WEB_CONCURRENCY", "4")

    (REPO / "bench" / "results").mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with running_server(log_path=REPO / "bench" / "results" / "stress-server.log") as server:
        accounts = max(1, args.buyers // 5)
        print(f"creating {accounts} customer accounts for {args.buyers} buyers...", flush=True)
        world = build_world(server, products=0, customers=accounts, stock=0)
        run = Run(server=server, admin=world.admin_token, customers=world.customer_tokens, run_id=world.run_id)
        db = database_settings(server.env)
        deadlocks_before = deadlock_count(db)

        loser_latencies = last_units_rounds(run, buyers=args.buyers, units=args.units, rounds=args.rounds)
        opposite_orders(run, buyers=args.buyers)
        cart_race(run, carts=args.carts)
        cart_repeats(run, carts=max(2, args.orders // 2))
        pay_race(run, orders=args.orders)
        settle_race(run, orders=args.orders)
        succeed_cancel_race(run, orders=args.orders)
        ship_cancel_race(run, orders=args.orders)

        deadlocks = deadlock_count(db) - deadlocks_before
        run.check(not deadlocks, f"PostgreSQL reported {deadlocks} deadlock(s)")
        try:
            manage("check_stock", env=server.env)
        except subprocess.CalledProcessError as exc:
            run.problems.append(f"check_stock failed: {exc.stdout}{exc.stderr}")
        server_errors = [a for a in run.answers if a.status >= 500]
        run.check(not server_errors, f"{len(server_errors)} 5xx answers: {[a.body for a in server_errors[:3]]}")

    loser_latencies.sort()
    print(
        f"losers' 400s: p50 {percentile(loser_latencies, 50):.0f} ms, p99 {percentile(loser_latencies, 99):.0f} ms "
        f"(each burst of {args.buyers} arrives at once on {os.environ['WEB_CONCURRENCY']} workers); "
        f"{len(run.answers)} raced requests, {len(server_errors)} 5xx; deadlocks: {deadlocks}"
    )
    if run.problems:
        print("STRESS FAILED:\n  " + "\n  ".join(run.problems))
        return 1
    print(
        f"stress passed in {time.perf_counter() - started:.0f} s: {args.rounds} rounds, carts, payments, "
        "ship vs cancel; nothing oversold, no 5xx, no deadlock"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
