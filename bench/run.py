"""``make bench``: the floor and every scenario, under gunicorn on PostgreSQL, in one run.

1. create (if missing) and migrate a dedicated PostgreSQL database, seed it (bench/seed.py);
2. start gunicorn (sync workers, persistent DB connections) with ``bench.settings`` on a free local port;
3. log in over HTTP for a JWT, check every scenario answers 2xx once (and one checkout answers 201);
4. load each scenario from a separate process (bench/load.py): warm-up, then a measured window; then, in the same
   rounds, the checkout phase (bench/checkout.py: clients filling carts and checking them out);
5. stop gunicorn; audit the checkout pool's stock against the orders placed (oversold units must be 0);
6. print requests/s, p50, p99, errors and the ratio to the floor; write bench/results/latest.json.

Usage: ``python -m bench.run [--seconds 8] [--warmup 2] [--rounds 4] [--connections 32] [--workers 2] [--only NAME]``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import multiprocessing
import os
import platform
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
from psycopg import sql

from bench import checkout
from bench.checkout import CheckoutSample, Plan
from bench.load import HttpRequest, Sample, Summary, run_load
from bench.scenarios import CHECKOUT, CHECKOUT_ITERATION, CHECKOUT_VOUCHER, FLOOR, SCENARIOS, Fixture, Scenario

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
HOST = "127.0.0.1"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/shop_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


class BenchError(Exception):
    """A setup failure with a message meant for the person running the bench."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="measured seconds per scenario (default 8)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unrecorded warm-up seconds per scenario")
    parser.add_argument(
        "--rounds", type=int, default=4, help="interleave floor and scenarios in this many slices (default 4)"
    )
    parser.add_argument("--connections", type=int, default=32, help="concurrent client connections (default 32)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2 on 2 cores)")
    parser.add_argument("--only", default="", help="run only scenarios whose name contains this (floor always runs)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        help="PostgreSQL database to create/migrate/use (env BENCH_DATABASE_URL)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL),
        help="cache for throttles; '' for local memory (env BENCH_REDIS_URL)",
    )
    return parser.parse_args(argv)


# --- setup ----------------------------------------------------------------------------------


def ensure_database(url: str) -> None:
    """Create the bench database if missing; fail clearly when PostgreSQL cannot be reached."""
    name = urlsplit(url).path.lstrip("/")
    if not name:
        raise BenchError(f"--database-url {url!r} names no database")
    try:
        with psycopg.connect(url, dbname="postgres", autocommit=True, connect_timeout=3) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                print(f"bench: created database {name}")
    except psycopg.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BenchError(
            f"PostgreSQL is not reachable at {url}: {reason}\n"
            "The bench needs a real PostgreSQL (it measures the production stack). Start it, or point "
            "BENCH_DATABASE_URL / --database-url at one."
        ) from exc


def reachable(url: str) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or HOST, parts.port or 6379), timeout=1):
            return True
    except OSError:
        return False


def server_environment(args: argparse.Namespace) -> dict[str, str]:
    """The environment both this process (migrate, seed) and gunicorn run with."""
    redis_url = args.redis_url
    if redis_url and not reachable(redis_url):
        print(f"bench: Redis not reachable at {redis_url}; throttles use the local-memory cache", file=sys.stderr)
        redis_url = ""
    return {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": redis_url,
        "CACHE_KEY_PREFIX": "shop-bench",
        "CELERY_BROKER_URL": "",
        "SHOP_ENV": "development",
    }


def migrate_and_seed(*, checkout_customers: int) -> dict[str, Any]:
    """Migrate every app (orders included) and seed; returns the seeded data and, for the checkout audit, the pool's
    stock and the newest order id before the run."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from bench.seed import seed

    call_command("migrate", interactive=False, verbosity=0)
    seeded = asdict(seed(checkout_customers=checkout_customers))
    pool = seeded["extra"]["checkout"]
    seeded["checkout_before"] = checkout.snapshot([*pool["deep_skus"], *pool["scarce_skus"]])
    connections.close_all()  # gunicorn opens its own; nothing of ours lingers on the server
    return seeded


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def gunicorn(port: int, workers: int, env: dict[str, str]) -> Iterator[str]:
    """Run gunicorn for the duration of the block, wait for /healthz, and always stop it."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    log = RESULTS / "gunicorn.log"
    command = [
        sys.executable, "-m", "gunicorn", "shop.wsgi:application",
        "--bind", f"{HOST}:{port}", "--workers", str(workers), "--worker-class", "sync",
        "--log-level", "warning", "--no-control-socket",
    ]  # fmt: skip
    # gunicorn's and Django's logs go to a file: thousands of error lines must not flood the table.
    with log.open("w") as log_file:
        process = subprocess.Popen(
            command, cwd=ROOT, env={**os.environ, **env}, stdout=log_file, stderr=subprocess.STDOUT
        )
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise BenchError(f"gunicorn exited with {process.returncode}; see {log}:\n{_tail(log)}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise BenchError(f"gunicorn did not answer /healthz within 30 s; see {log}:\n{_tail(log)}")
            time.sleep(0.2)
        yield base
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _tail(path: Path, lines: int = 20) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text().splitlines()[-lines:])
    return ""


def login(base: str, email: str, password: str) -> str:
    response = httpx.post(f"{base}/api/v1/auth/token/", json={"email": email, "password": password}, timeout=10)
    if response.status_code != 200:
        raise BenchError(f"login failed: {response.status_code} {response.text[:300]}")
    access: str = response.json()["access"]
    return access


def smoke(base: str, scenario: Scenario, request: HttpRequest) -> None:
    """One request before the load, so a broken scenario fails loudly instead of reporting 100 % errors."""
    response = httpx.request(
        request.method, base + request.path, headers=request.headers, content=request.body or None, timeout=10
    )
    if not response.is_success:
        raise BenchError(f"scenario {scenario.name!r} answered {response.status_code}: {response.text[:300]}")


# --- report ---------------------------------------------------------------------------------


def report(rows: list[tuple[Scenario, Summary]]) -> list[dict[str, Any]]:
    """Print the table; return the rows as JSON-ready records. Ratios pair each round with its own floor."""
    floor = rows[0][1]
    records: list[dict[str, Any]] = []
    for scenario, summary in rows:
        round_ratios = [rps / base for rps, base in zip(summary.round_rps, floor.round_rps, strict=True) if base]
        records.append(
            {
                "scenario": scenario.name,
                "method": scenario.method,
                "path": scenario.path,
                "requests": summary.requests,
                "rps": round(summary.rps, 1),
                "p50_ms": round(summary.p50_ms, 2),
                "p99_ms": round(summary.p99_ms, 2),
                "errors": summary.errors,
                "error_kinds": summary.error_kinds,
                "ratio_to_floor": round(summary.rps / floor.rps, 3) if floor.rps else None,
                "round_rps": [round(rps, 1) for rps in summary.round_rps],
                "round_ratios": [round(ratio, 3) for ratio in round_ratios],
            }
        )
    width = max(len(record["scenario"]) for record in records)
    header = (
        f"{'scenario':<{width}}  {'req/s':>8}  {'p50 ms':>7}  {'p99 ms':>7}  {'errors':>6}  {'vs floor':>8}"
        f"  {'per round':>11}"
    )
    print()
    print(header)
    print("-" * len(header))
    for r in records:
        ratio = f"{r['ratio_to_floor']:.2f}" if r["ratio_to_floor"] is not None else "-"
        spread = f"{min(r['round_ratios']):.2f}-{max(r['round_ratios']):.2f}" if r["round_ratios"] else "-"
        print(
            f"{r['scenario']:<{width}}  {r['rps']:>8.1f}  {r['p50_ms']:>7.1f}  {r['p99_ms']:>7.1f}  "
            f"{r['errors']:>6}  {ratio:>8}  {spread:>11}"
        )
    return records


def report_checkout(rounds: list[CheckoutSample], audit: checkout.Audit, plan: Plan) -> dict[str, Any]:
    """Print the checkout phase's outcome and the oversell audit (loudly, on stderr, when it fails)."""
    seconds = sum(r.orders.seconds for r in rounds)
    orders = sum(r.orders.done for r in rounds)
    out_of_stock = sum(r.out_of_stock for r in rounds)
    checkouts = orders + out_of_stock
    share = out_of_stock / checkouts if checkouts else 0.0
    ended: Counter[str] = Counter()
    for r in rounds:
        ended.update(r.ended_in_window)
    sold_out_in_warmup = set(rounds[0].sold_out) >= set(plan.scarce_skus)

    def per_s(count: float) -> float:
        return count / seconds if seconds else 0.0

    print(
        f"\ncheckout: {per_s(orders):.1f} orders/s (201) + {per_s(out_of_stock):.1f} out_of_stock/s (409, "
        f"{share:.0%} of checkouts) = {per_s(checkouts):.1f} checkouts/s over {seconds:.1f} s measured; p50/p99 from "
        f"the {ended['201']} + {ended['409']} iterations that ended in it; first warm-up {rounds[0].warmup_s:.1f} s"
        + (
            f" (until the {len(plan.scarce_skus)} scarce SKUs sold out)"
            if sold_out_in_warmup
            else " (the scarce SKUs did NOT all sell out in it)"
        )
    )
    print(
        "  checkout row: orders (201) per s, p50/p99 of the checkout request alone; iteration row: iterations"
        " (3 adds + checkout) ending in 201 or 409 out_of_stock per s, p50/p99 from the first add to the checkout's"
        " answer; rates count each iteration by its share of time in the window"
    )
    stock_sane = all(s.on_hand_after >= s.reserved_after >= 0 for s in audit.skus)
    matched = all(s.ordered == s.held + s.sold for s in audit.skus)
    print(
        f"oversold units: {audit.oversold}  (audit of the bench database, {len(audit.skus)} pool SKUs, "
        f"{len(audit.sold_out)} sold out: {audit.ordered} units in {audit.orders} orders, {audit.held} units reserved;"
        f" on_hand >= reserved >= 0: {'yes' if stock_sane else 'NO'}; ordered = reserved per SKU: "
        f"{'yes' if matched else 'NO'})"
    )
    if audit.problems:
        print("bench: CHECKOUT OVERSELL AUDIT FAILED:\n  " + "\n  ".join(audit.problems), file=sys.stderr)
    if not audit.sold_out:
        print("bench: no checkout SKU sold out: the oversell audit was not exercised", file=sys.stderr)
    return {
        "measured_seconds": round(seconds, 3),
        "orders_per_s": round(per_s(orders), 2),
        "out_of_stock_per_s": round(per_s(out_of_stock), 2),
        "checkouts_per_s": round(per_s(checkouts), 2),
        "out_of_stock_share": round(share, 3),
        "ended_in_window": dict(ended),
        "round_warmup_s": [round(r.warmup_s, 2) for r in rounds],
        "scarce_skus_sold_out_in_first_warmup": sold_out_in_warmup,
        "orders_answered_201_incl_warmup": audit.expected_orders,
        "audit": audit.as_json(),
    }


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 5432}{parts.path}"


def git_revision() -> str:
    with contextlib.suppress(OSError, subprocess.CalledProcessError):
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, check=True)
        return sha.stdout.decode().strip() + ("-dirty" if dirty.stdout.strip() else "")
    return "unknown"


# --- main -----------------------------------------------------------------------------------


def bench(args: argparse.Namespace) -> int:
    ensure_database(args.database_url)
    env = server_environment(args)
    os.environ.update(env)
    seeded = migrate_and_seed(checkout_customers=args.connections)
    scenarios = [FLOOR, *(s for s in SCENARIOS if args.only in s.name)]
    with_checkout = args.only in CHECKOUT.name
    plan = Plan.of(seeded["extra"]["checkout"])
    voucher_plan = dataclasses.replace(plan, voucher=seeded["extra"]["checkout"]["voucher"])
    config = {
        "seconds": args.seconds,
        "warmup": args.warmup,
        "rounds": args.rounds,
        "load_average_at_start": round(os.getloadavg()[0], 2),
        "connections": args.connections,
        "workers": args.workers,
        "database": _without_credentials(args.database_url),
        "cache": "redis" if env["REDIS_URL"] else "locmem",
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "revision": git_revision(),
    }
    print(
        f"bench: {len(scenarios) + 2 * with_checkout} scenarios x ({args.warmup:g} s warm-up + {args.seconds:g} s in "
        f"{args.rounds} interleaved rounds), {args.connections} connections, gunicorn {args.workers} sync workers, "
        f"PostgreSQL, cache {config['cache']}"
    )
    if config["load_average_at_start"] > 0.5:
        print(
            f"bench: the machine is busy (load average {config['load_average_at_start']}): absolute numbers will be "
            "low and noisy; trust the ratios (and their per-round spread) more than req/s"
        )
    port = free_port()
    samples: dict[str, list[Sample]] = {scenario.name: [] for scenario in scenarios}
    checkout_rounds: list[CheckoutSample] = []
    voucher_rounds: list[CheckoutSample] = []
    with (
        gunicorn(port, args.workers, env) as base,
        ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as loader,
    ):
        fx = Fixture(
            user_id=seeded["user_id"],
            email=seeded["email"],
            access=login(base, seeded["email"], seeded["password"]),
            extra=seeded["extra"],
        )
        requests = {scenario.name: scenario.requests(fx) for scenario in scenarios}
        for scenario in scenarios:
            smoke(base, scenario, requests[scenario.name][0])
        if with_checkout and (problem := checkout.smoke(base, plan)):
            raise BenchError(f"scenario {CHECKOUT.name!r}: {problem}")
        # Interleaved rounds: floor, A, B, floor, A, B, ... so that background load drifting during the run
        # (other jobs on a shared 2-core box) hits the floor and every scenario alike, and the ratio holds.
        for round_no in range(args.rounds):
            names = [s.name for s in scenarios] + [CHECKOUT.name, CHECKOUT_VOUCHER.name] * with_checkout
            print(f"  round {round_no + 1}/{args.rounds}: {', '.join(names)}", flush=True)
            for scenario in scenarios:
                future = loader.submit(
                    run_load,
                    HOST,
                    port,
                    requests[scenario.name],
                    connections=args.connections,
                    warmup=args.warmup if round_no == 0 else 0.2,
                    seconds=args.seconds / args.rounds,
                )
                samples[scenario.name].append(future.result())
            if with_checkout:
                phase = loader.submit(
                    checkout.run_checkout,
                    HOST,
                    port,
                    plan,
                    connections=args.connections,
                    warmup=args.warmup if round_no == 0 else 0.2,
                    seconds=args.seconds / args.rounds,
                    first_cart=checkout_rounds[-1].next_cart if checkout_rounds else 0,
                    sell_out_first=plan.scarce_skus if round_no == 0 else (),
                )
                checkout_rounds.append(phase.result())
                # The same loop with a voucher applied before each checkout: cart numbering continues, so the
                # voucher carts share stock rows with the plain ones like any two consecutive carts.
                phase = loader.submit(
                    checkout.run_checkout,
                    HOST,
                    port,
                    voucher_plan,
                    connections=args.connections,
                    warmup=0.2,
                    seconds=args.seconds / args.rounds,
                    first_cart=checkout_rounds[-1].next_cart,
                )
                voucher_rounds.append(phase.result())
                checkout_rounds[-1] = dataclasses.replace(checkout_rounds[-1], next_cart=voucher_rounds[-1].next_cart)
    rows = [(scenario, Summary.of(samples[scenario.name])) for scenario in scenarios]
    if with_checkout:
        rows.append((CHECKOUT, Summary.of([r.orders for r in checkout_rounds])))
        rows.append((CHECKOUT_ITERATION, Summary.of([r.iterations for r in checkout_rounds])))
        rows.append((CHECKOUT_VOUCHER, Summary.of([r.orders for r in voucher_rounds])))
    records = report(rows)
    RESULTS.mkdir(parents=True, exist_ok=True)
    latest = RESULTS / "latest.json"
    payload: dict[str, Any] = {
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": config,
        "results": records,
    }
    print(
        "\nvs floor = scenario req/s / floor req/s (same server, same run); per round = min-max of that ratio over the"
        " interleaved rounds."
    )
    audit_failed = False
    if with_checkout:
        before, last_order = seeded["checkout_before"]
        audit = checkout.audit(
            before=before,
            last_order_before=last_order,
            customer_ids=seeded["extra"]["checkout"]["customer_ids"],
            # the smoke test's order, and the two phases'
            expected_orders=1 + sum(r.created for r in [*checkout_rounds, *voucher_rounds]),
        )
        payload["checkout"] = report_checkout(checkout_rounds, audit, plan)
        audit_failed = bool(audit.problems) or not audit.sold_out
    latest.write_text(json.dumps(payload, indent=2) + "\n")
    print(f"JSON: {latest.relative_to(ROOT)}")
    failed = [r["scenario"] for r in records if r["errors"]]
    if failed:
        print(f"bench: non-2xx responses or connection errors in: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed or audit_failed else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return bench(args)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
