"""The embedded default as a person starts it: ``make run`` (SQLite, local-memory cache, no broker),
and nothing else. Its periodic work has to happen anyway: an unpaid order expires and gives its stock
back, a delayed payment settles and pays its order — seen over HTTP only, with short TTLs from the
environment. Everything asynchronous is polled against a deadline, never slept on. And the README's
journey, its shell lines run as written against ``make run`` on a non-default port."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urljoin

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
    # The stock goes back right after the cancel commits (the catalog is asked after the order's
    # transaction): poll for it too, never read it at the instant the status changed.
    wait_for("the expired order's units to go back", lambda: available(shopper, card["slug"], sku) == before - 1)
    assert status_of(shopper, delayed["id"])["status"] == "paid"

    output = server.output()
    assert "settle-simulated-payments" in output and "cancel-unpaid-orders" in output  # make run lists the jobs
    # Exactly one process runs them: runserver's serving child, not its autoreloader parent.
    assert output.count("embedded scheduler (no CELERY_BROKER_URL) runs the periodic jobs") == 1, output


# --- the README journey, as written -------------------------------------------------------------------

SH_BLOCK = re.compile(r"```sh\n(.*?)```", re.S)
LINK = re.compile(r"https?://[^\s\"'<>]+")
FORM_ACTION = re.compile(r'<form method="post" action="([^"]*)"')
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def readme_blocks() -> dict[str, str]:
    """The README's shell blocks, named by what they do (found by their content, not their place)."""
    blocks = SH_BLOCK.findall((ROOT / "README.md").read_text())
    named = {
        "journey": next(b for b in blocks if "auth/register/" in b),
        "checkout": next(b for b in blocks if "tok_success" in b and "/pay/" in b),
        "three_d_secure": next(b for b in blocks if "tok_requires_action" in b),
        "reset": next(b for b in blocks if "password-reset/" in b),
    }
    return named


def until_line_with(block: str, marker: str) -> tuple[str, str]:
    """``block`` cut after the (continued) command whose text holds ``marker``: (that part, the rest)."""
    lines, cut = block.splitlines(keepends=True), 0
    for i, line in enumerate(lines):
        if marker in line:
            cut = i
            while lines[cut].rstrip().endswith("\\") or (cut + 1 < len(lines) and lines[cut + 1].startswith(" ")):
                cut += 1
            break
    return "".join(lines[: cut + 1]), "".join(lines[cut + 1 :])


def bash(script: str, *, env: dict[str, str]) -> str:
    """Run README lines as a person pastes them (bash, failing on the first failing command)."""
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, (
        f"README lines failed ({done.returncode}):\n{script}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    )
    return done.stdout


def submit_form(http: httpx.Client, url: str, fields: dict[str, str]) -> httpx.Response:
    """A browser's form post: to the form's action, with its hidden inputs (CSRF token included), its
    cookies, and the fields a person fills in."""
    page = http.get(url)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html"), page.text[:300]
    action = FORM_ACTION.search(page.text)
    hidden = {html.unescape(k): html.unescape(v) for k, v in HIDDEN.findall(page.text)}
    assert action and "csrfmiddlewaretoken" in hidden, page.text[:500]
    target = urljoin(url, html.unescape(action.group(1))) if action.group(1) else url
    return http.post(target, data={**hidden, **fields})


def test_the_readme_journey_works_as_written_on_a_non_default_port(
    embedded_shop: tuple[httpx.Client, Process],
) -> None:
    http, server = embedded_shop
    shop_url = str(http.base_url).rstrip("/")
    assert not shop_url.endswith(":8000")
    blocks = readme_blocks()
    journey = blocks["journey"].replace("SHOP=http://127.0.0.1:8000", f"SHOP={shop_url}")
    assert f"SHOP={shop_url}" in journey  # the README still sets SHOP the way its text says
    env = {k: v for k, v in os.environ.items() if k not in SERVICE_VARIABLES}
    carry = "echo \"export SHOP=$SHOP TOKEN=$TOKEN SKU=$SKU ADDRESS='$ADDRESS' ORDER2=${ORDER2:-}\""

    # Register, log in, browse, fill the cart; check out and pay; start a 3-D Secure payment.
    ask_3ds, after_3ds = until_line_with(blocks["three_d_secure"], "next_action_url")
    out = bash(journey + blocks["checkout"] + ask_3ds + carry, env=env)
    assert '"email":"me@example.com"' in out.replace(" ", "")
    assert '"status":"paid"' in out.replace(" ", "")  # the first order, paid with tok_success
    (next_action_url,) = [url for url in LINK.findall(out) if "/payments/authenticate/" in url]
    assert next_action_url.startswith(f"{shop_url}/payments/authenticate/"), next_action_url
    exports = out.splitlines()[-1]

    # "open it, Approve" — the bank's page, as a browser posts it; then the order is paid.
    browser = httpx.Client(timeout=15.0)
    approved = submit_form(browser, next_action_url, {"decision": "approve"})
    assert approved.status_code == 200 and "Payment approved" in approved.text
    out = bash(exports + "\n" + after_3ds, env=env)
    assert '"status":"paid"' in out.replace(" ", "")

    # Forgot the password: the email's link (printed by make run) opens the page on this port.
    ask_reset, log_in_again = until_line_with(blocks["reset"], "password-reset/")
    bash(exports + "\n" + ask_reset, env=env)
    reset_links = wait_for(
        "the reset email in the make run terminal",
        lambda: [html.unescape(u) for u in LINK.findall(server.output()) if "/account/reset-password/" in u],
    )
    assert all(link.startswith(f"{shop_url}/") for link in reset_links), reset_links
    new_password = "a-newer-pass-for-me-43"
    done = submit_form(browser, reset_links[-1], {"new_password": new_password, "new_password_again": new_password})
    assert done.status_code == 200 and "Your password is changed" in done.text
    out = bash(exports + "\n" + log_in_again.replace("<the new password>", new_password), env=env)
    assert '"access"' in out

    # Every link the shop wrote into an email points at this server, none at port 8000.
    links = [u for u in LINK.findall(server.output()) if "127.0.0.1" in u or "localhost" in u]
    assert links and all(link.startswith(shop_url) for link in links), links
