"""The embedded default as a person starts it: ``make run`` (SQLite, local-memory cache, no broker),
and nothing else. Its periodic work has to happen anyway: an unpaid order expires and gives its stock
back, a delayed payment settles and pays its order — seen over HTTP only, with short TTLs from the
environment. Everything asynchronous is polled against a deadline, never slept on."""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tests.e2e.topology import Process
from tests.tcp_proxy import free_port

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")
PASSWORD = "a-long-enough-pass-42"
ADDRESS = {"full_name": "Ada Lovelace", "line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE"}
PAYMENT_TTL_S = 10  # long enough for the delayed payment to settle first, short enough to wait for
# Services the test run may have found: the process must not see any of them (the embedded default has none).
SERVICE_VARIABLES = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CACHE_KEY_PREFIX", "DJANGO_SETTINGS_MODULE")


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = 30.0) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {value!r})")
        time.sleep(0.3)


@pytest.fixture
def embedded_shop(tmp_path: Path) -> Iterator[tuple[httpx.Client, Process]]:
    """`make run` on a free port and a fresh SQLite file; stopped (its whole process group) afterwards."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHOP_", "PYTEST")) and k not in SERVICE_VARIABLES}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        SHOP_ORDER_PAYMENT_TTL_S=str(PAYMENT_TTL_S),
        SHOP_SIMULATED_SETTLE_AFTER_S="1",
        SHOP_PERIODIC_SECONDS="cancel-unpaid-orders=1,release-expired-reservations=1,settle-simulated-payments=1",
    )
    venv = Path(sys.prefix)  # the Makefile's tools come from the venv running this test
    server = Process(
        name="make run",
        argv=["make", "--no-print-directory", "run", "HOST=127.0.0.1", f"PORT={port}", f"VENV={venv}"],
        env=env,
        log=tmp_path / "make-run.log",
    )
    server.start()
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=15.0)
    try:

        def healthy() -> bool:
            assert server.alive, f"make run exited:\n{server.tail()}"
            try:
                return http.get("/healthz").status_code == 200
            except httpx.TransportError:
                return False

        wait_for("the server to answer /healthz", healthy, timeout=90.0)
        yield http, server
    finally:
        http.close()
        server.stop()


def customer(http: httpx.Client) -> httpx.Client:
    email = f"ada-{uuid.uuid4().hex[:8]}@example.com"
    assert http.post("/api/v1/auth/register/", json={"email": email, "password": PASSWORD}).status_code == 201
    token = http.post("/api/v1/auth/token/", json={"email": email, "password": PASSWORD}).json()["access"]
    http.headers["Authorization"] = f"Bearer {token}"
    return http


def available(http: httpx.Client, slug: str, sku: str) -> int:
    variants = http.get(f"/api/v1/catalog/products/{slug}/").json()["variants"]
    return int(next(v["available"] for v in variants if v["sku"] == sku))


def place_order(http: httpx.Client, sku: str, quantity: int) -> dict[str, Any]:
    assert http.post("/api/v1/cart/lines/", json={"sku": sku, "quantity": quantity}).status_code in (200, 201)
    r = http.post("/api/v1/orders/", json={"shipping_address": ADDRESS}, headers={"Idempotency-Key": str(uuid.uuid4())})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "pending_payment"
    order: dict[str, Any] = r.json()
    return order


def status_of(http: httpx.Client, order_id: int) -> dict[str, Any]:
    r = http.get(f"/api/v1/orders/{order_id}/")
    assert r.status_code == 200, r.text
    order: dict[str, Any] = r.json()
    return order


def test_make_run_alone_expires_unpaid_orders_and_settles_delayed_payments(
    embedded_shop: tuple[httpx.Client, Process],
) -> None:
    http, server = embedded_shop
    shopper = customer(http)
    card = shopper.get("/api/v1/catalog/products/", params={"in_stock": "true"}).json()["results"][0]
    sku = next(v["sku"] for v in shopper.get(f"/api/v1/catalog/products/{card['slug']}/").json()["variants"])
    before = available(shopper, card["slug"], sku)
    assert before >= 3

    unpaid = place_order(shopper, sku, 2)
    delayed = place_order(shopper, sku, 1)
    assert available(shopper, card["slug"], sku) == before - 3  # both held
    r = shopper.post(
        f"/api/v1/orders/{delayed['id']}/pay/", json={"token": "tok_delayed_success"}, headers={"Idempotency-Key": "p1"}
    )
    assert r.status_code in (200, 202), r.text
    assert status_of(shopper, delayed["id"])["status"] == "pending_payment"  # the provider has not settled yet

    # The delayed payment settles (its webhook comes in, the order is paid) before the order's window closes ...
    paid = wait_for(
        "the delayed payment to pay its order",
        lambda: (o := status_of(shopper, delayed["id"]))["status"] == "paid" and o,
    )
    assert paid["payment"]["status"] == "succeeded"
    # ... and the unpaid order expires and gives its two units back; the paid one keeps its unit.
    wait_for(
        "the unpaid order to expire",
        lambda: status_of(shopper, unpaid["id"])["status"] == "cancelled",
        timeout=PAYMENT_TTL_S + 20,
    )
    assert available(shopper, card["slug"], sku) == before - 1
    assert status_of(shopper, delayed["id"])["status"] == "paid"

    output = server.output()
    assert "settle-simulated-payments" in output and "cancel-unpaid-orders" in output  # make run lists the jobs
    # Exactly one process runs them: runserver's serving child, not its autoreloader parent.
    assert output.count("embedded scheduler (no CELERY_BROKER_URL) runs the periodic jobs") == 1, output
