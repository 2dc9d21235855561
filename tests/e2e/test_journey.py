"""The whole customer journey over real HTTP, against real processes: one deployable, then the contexts
split into their own services (payments and notifications) behind the generated nginx gateway, then faults
in the split topology, through that gateway too.

Run with ``make e2e`` (``SHOP_E2E=1``). Everything asynchronous is polled against a deadline, never slept on.
"""

from __future__ import annotations

import html
import os
import re
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
import pytest

from tests.e2e.topology import PAYMENTS_BINDING, STAFF, Topology

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(os.environ.get("SHOP_E2E") != "1", reason="end to end: run with `make e2e` (SHOP_E2E=1)"),
]

T = TypeVar("T")
DEADLINE_S = 30.0
PASSWORD = "a-long-enough-pass-42"
ADDRESS = {
    "full_name": "Ada Lovelace",
    "line1": "12 Analytical Row",
    "city": "London",
    "postal_code": "W1 2AB",
    "country": "GB",
}
PROBLEM = "application/problem+json"


def wait_for(what: str, probe: Callable[[], T | None], timeout: float = DEADLINE_S, interval: float = 0.2) -> T:
    """Poll ``probe`` until it returns something truthy; fail with ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {value!r})")
        time.sleep(interval)


# What the customer sees (shop.notifications.services.SUBJECTS, with SHOP_NAME "shop"). Spelled out rather
# than imported: this test looks at the shop from the outside only.
SUBJECTS = {
    "welcome": "Welcome to shop",
    "order_confirmation": "Your order {number}",
    "payment_receipt": "Payment received for order {number}",
    "order_shipped": "Order {number} has shipped",
    "order_refunded": "Refund for order {number}",
}


def subject(kind: str, number: str = "") -> str:
    return SUBJECTS[kind].format(number=number)


# --- a customer over HTTP ------------------------------------------------------------------------------
class Customer:
    def __init__(self, topology: Topology, name: str = "ada") -> None:
        self.topology = topology
        self.email = f"{name}-{uuid.uuid4().hex[:8]}@e2e.example"
        self.http = httpx.Client(base_url=topology.public_url, timeout=15.0)

    def register_and_login(self) -> Customer:
        r = self.http.post(
            "/api/v1/auth/register/", json={"email": self.email, "password": PASSWORD, "full_name": "Ada Lovelace"}
        )
        assert r.status_code == 201, r.text
        r = self.http.post("/api/v1/auth/token/", json={"email": self.email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        self.http.headers["Authorization"] = f"Bearer {r.json()['access']}"
        me = self.http.get("/api/v1/users/me/")
        assert me.status_code == 200 and me.json()["email"] == self.email, me.text
        self.id = me.json()["id"]
        return self

    def add(self, sku: str, quantity: int = 1) -> dict[str, Any]:
        r = self.http.post("/api/v1/cart/lines/", json={"sku": sku, "quantity": quantity})
        assert r.status_code in (200, 201), r.text
        assert sku in {line["sku"] for line in r.json()["lines"]}, r.text
        return r.json()

    def checkout(self, key: str | None = None) -> httpx.Response:
        headers = {"Idempotency-Key": key or f"checkout-{uuid.uuid4()}"}
        return self.http.post("/api/v1/orders/", json={"shipping_address": ADDRESS}, headers=headers)

    def place_order(self, sku: str) -> dict[str, Any]:
        self.add(sku)
        r = self.checkout()
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "pending_payment"
        return r.json()

    def pay(self, order_id: int, token: str, key: str) -> httpx.Response:
        return self.http.post(
            f"/api/v1/orders/{order_id}/pay/", json={"token": token}, headers={"Idempotency-Key": key}
        )

    def order(self, order_id: int) -> dict[str, Any]:
        r = self.http.get(f"/api/v1/orders/{order_id}/")
        assert r.status_code == 200, r.text
        return r.json()

    def wait_status(self, order_id: int, status: str, timeout: float = DEADLINE_S) -> dict[str, Any]:
        return wait_for(
            f"order {order_id} {status}",
            lambda: (order := self.order(order_id))["status"] == status and order,
            timeout=timeout,
        )


def in_stock_skus(http: httpx.Client, count: int) -> list[tuple[str, str]]:
    """(sku, product slug) of ``count`` variants of different products with stock to spare."""
    r = http.get("/api/v1/catalog/products/", params={"in_stock": "true", "page_size": 50})
    assert r.status_code == 200, r.text
    picked: list[tuple[str, str]] = []
    for card in r.json()["results"]:
        detail = http.get(f"/api/v1/catalog/products/{card['slug']}/").json()
        variant = next((v for v in detail["variants"] if v["available"] >= 5), None)
        if variant is not None:
            picked.append((variant["sku"], card["slug"]))
        if len(picked) == count:
            return picked
    raise AssertionError(f"the demo catalog has fewer than {count} products with stock")


def gateway_hops(top: Topology, response: httpx.Response) -> str:
    """The upstream the gateway sent a request to, from its access log, by the request id it answered with."""
    request_id = response.headers["X-Request-ID"]
    line = wait_for(
        f"the gateway's log line of {request_id}",
        lambda: next((line for line in top.processes["gateway"].output().splitlines() if request_id in line), None),
        timeout=5,
    )
    service = {str(top.services[name].port): name for name in top.services}
    return " ".join(name for port, name in service.items() if f"127.0.0.1:{port} " in line)


# --- the mailbox ---------------------------------------------------------------------------------------
def mails(topology: Topology, to: str, subject_line: str) -> list[dict[str, Any]]:
    return [m for m in topology.emails() if to in m["to"] and m["subject"] == subject_line]


def wait_mail(topology: Topology, to: str, subject_line: str, timeout: float = DEADLINE_S) -> dict[str, Any]:
    found = wait_for(f"email {subject_line!r} to {to}", lambda: mails(topology, to, subject_line), timeout=timeout)
    return found[0]


# --- staff in the admin --------------------------------------------------------------------------------
class Staff:
    """A browser-like session on main's admin: CSRF token from the cookie, redirects followed by hand."""

    def __init__(self, topology: Topology) -> None:
        self.http = httpx.Client(base_url=topology.public_url, timeout=30.0)
        page = self.http.get("/admin/login/", params={"next": "/admin/"})
        assert page.status_code == 200, page.text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token, page.text
        r = self.http.post(
            "/admin/login/?next=/admin/",
            data={"csrfmiddlewaretoken": token.group(1), "username": STAFF[0], "password": STAFF[1], "next": "/admin/"},
        )
        assert r.status_code == 302 and r.headers["location"] == "/admin/", r.text

    def action(self, action: str, order_id: int) -> httpx.Response:
        """Choose ``action`` for one order on the orders list: the admin kit answers with its form or
        its confirmation page, and nothing has happened yet."""
        data = {
            "csrfmiddlewaretoken": self.http.cookies.get("csrftoken") or "",
            "action": action,
            "_selected_action": str(order_id),
            "index": "0",
            "select_across": "0",
        }
        return self.http.post("/admin/orders/order/", data=data)

    def submit(self, page: httpx.Response, **values: str) -> httpx.Response:
        """Submit the kit's form on ``page`` as a browser does: its hidden fields, with ``values`` typed in."""
        assert page.status_code == 200 and 'id="kit-form"' in page.text, page.text
        form = page.text.split('id="kit-form"', 1)[1].split("</form>", 1)[0]
        data: dict[str, list[str]] = {}
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form):
            data.setdefault(name, []).append(html.unescape(value))
        data.update({name: [value] for name, value in values.items()})
        return self.http.post("/admin/orders/order/", data=data)

    def followed(self, response: httpx.Response) -> str:
        assert response.status_code == 302, response.text
        page = self.http.get(response.headers["location"])
        assert page.status_code == 200
        return page.text

    def fulfil(self, order_id: int, carrier: str, tracking: str) -> str:
        form = self.action("mark_fulfilled", order_id)
        assert form.status_code == 200 and f'name="tracking_{order_id}"' in form.text, form.text
        return self.followed(self.submit(form, carrier=carrier, **{f"tracking_{order_id}": tracking}))

    def refund_full(self, order_id: int) -> str:
        confirmation = self.action("refund_full", order_id)
        assert "Nothing has happened yet" in confirmation.text, confirmation.text
        return self.followed(self.submit(confirmation))


# --- the journey ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["single", "split"])
def test_customer_journey(topologies: Any, mode: str) -> None:
    top: Topology = topologies.get(mode)
    ada = Customer(top).register_and_login()

    # Browse and search the catalog (anonymous reads work with a token too).
    categories = ada.http.get("/api/v1/catalog/categories/")
    assert categories.status_code == 200 and categories.json(), categories.text
    (sku1, slug1), (sku2, _) = in_stock_skus(ada.http, 2)
    product = ada.http.get(f"/api/v1/catalog/products/{slug1}/").json()
    word = max(re.findall(r"[A-Za-z]{4,}", product["name"]), key=len)
    found = ada.http.get("/api/v1/catalog/products/", params={"q": word})
    assert found.status_code == 200 and slug1 in [p["slug"] for p in found.json()["results"]], found.text

    # Cart → checkout (the same key replays the same order) → pay with a card that just works.
    ada.add(sku1, 2)
    key = f"checkout-{uuid.uuid4()}"
    placed = ada.checkout(key)
    assert placed.status_code == 201, placed.text
    first = placed.json()
    assert (
        first["status"] == "pending_payment" and first["lines"][0]["sku"] == sku1 and first["lines"][0]["quantity"] == 2
    )
    replay = ada.checkout(key)
    assert replay.status_code == 200 and replay.json()["id"] == first["id"], replay.text
    assert ada.http.get("/api/v1/cart/").json()["lines"] == []
    paid = ada.pay(first["id"], "tok_success", f"pay-{first['id']}")
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "paid" and paid.json()["payment"]["status"] == "succeeded", paid.text
    assert ada.order(first["id"])["status"] == "paid"
    # Payments' own API: in the split topology the gateway routes it to the payments service, which checks the
    # customer's token with main's public key alone. /internal/ is never reachable from outside.
    receipt = ada.http.get(f"/api/v1/payments/{paid.json()['payment']['id']}/")
    assert receipt.status_code == 200 and receipt.json()["status"] == "succeeded", receipt.text
    if mode == "split":
        assert "payments" in gateway_hops(top, receipt), receipt.headers
        internal = ada.http.post("/internal/payments/get_payment", json={"payment_id": 1})
        assert internal.status_code == 404 and internal.headers["content-type"] == PROBLEM, internal.text

    # A second order needs 3-D Secure: the simulator's page approves, its signed webhook completes the payment.
    second = ada.place_order(sku2)
    pending = ada.pay(second["id"], "tok_requires_action", f"pay-{second['id']}")
    assert pending.status_code == 200, pending.text
    payment = pending.json()["payment"]
    assert pending.json()["status"] == "pending_payment" and payment["status"] == "requires_action", pending.text
    assert payment["next_action_url"].startswith(top.public_url), payment  # payments' page, through the gateway
    with httpx.Client(timeout=15.0) as bank:  # the bank's page, as a browser uses it: no login, a CSRF-safe form
        page = bank.get(payment["next_action_url"])
        assert page.status_code == 200 and "Confirm this payment" in page.text, page.text
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert csrf, page.text
        approved = bank.post(
            payment["next_action_url"], data={"csrfmiddlewaretoken": csrf.group(1), "decision": "approve"}
        )
    assert approved.status_code == 200 and "Payment approved" in approved.text, approved.text
    back = re.search(r'href="([^"]+/orders/status/[^"]+)">Back to your order', approved.text)
    assert back and back.group(1).startswith(top.public_url), approved.text  # the order's page, through the gateway
    assert ada.wait_status(second["id"], "paid")["payment"]["status"] == "succeeded"

    # The emails: welcome, and for each order a confirmation and a receipt naming its number.
    welcome = wait_mail(top, ada.email, subject("welcome"))
    assert ada.email in welcome["text"]
    for order in (first, second):
        for kind in ("order_confirmation", "payment_receipt"):
            mail = wait_mail(top, ada.email, subject(kind, order["number"]))
            assert order["number"] in mail["text"] and order["number"] in mail["html"], mail
            # "Your order": the signed status page on main, opened without a login (the notifications
            # service got the link from orders' API).
            link = re.search(r"https?://\S+/orders/status/\S+/", mail["text"])
            assert link and link.group(0).startswith(top.public_url), mail["text"]  # through the gateway
            status = httpx.get(link.group(0), timeout=15.0)
            assert status.status_code == 200 and f"Order {order['number']}" in status.text, status.text

    # Staff: ship the first order (carrier + tracking on the intermediate form), refund the second.
    staff = Staff(top)
    tracking = f"JD{uuid.uuid4().int % 10**12:012d}"
    page = staff.fulfil(first["id"], "DHL", tracking)
    assert f"1 order(s) marked fulfilled: {first['number']}" in page, page
    shipped = ada.order(first["id"])
    assert (shipped["status"], shipped["carrier"], shipped["tracking_number"]) == ("fulfilled", "DHL", tracking)
    page = staff.refund_full(second["id"])
    assert f"1 order(s) refunded: {second['number']}" in page, page
    refunded = ada.wait_status(second["id"], "refunded")
    assert refunded["payment"]["status"] == "refunded", refunded

    mail = wait_mail(top, ada.email, subject("order_shipped", first["number"]))
    assert first["number"] in mail["text"] and tracking in mail["text"], mail
    mail = wait_mail(top, ada.email, subject("order_refunded", second["number"]))
    assert second["number"] in mail["text"], mail


# --- faults (split) ------------------------------------------------------------------------------------
def outbox_events(top: Topology, service: str, topic: str, order_id: int) -> list[tuple[Any, ...]]:
    """(event id, sent_at, attempts) of ``topic`` events about ``order_id`` in ``service``'s outbox."""
    return top.query(
        service,
        "SELECT id, sent_at, attempts FROM registry_outboxevent WHERE topic = %s AND payload->>'order_id' = %s",
        (topic, str(order_id)),
    )


def settled_mail(top: Topology, customer: Customer, event_id: uuid.UUID, subject_line: str) -> list[dict[str, Any]]:
    """The emails for one event, once its notification is recorded as sent (nothing of it still in flight)."""
    wait_for(
        f"the notification of event {event_id} sent",
        lambda: top.query(
            "notifications",
            "SELECT 1 FROM notifications_notification WHERE event_id = %s AND status = 'sent'",
            (event_id,),
        ),
    )
    return mails(top, customer.email, subject_line)


def assert_one_charge(top: Topology, customer: Customer, order: dict[str, Any]) -> None:
    """One payment for the order, charged once, one PaymentSucceeded, one receipt and one confirmation."""
    payments = top.query("payments", "SELECT id, status FROM payments_payment WHERE order_id = %s", (order["id"],))
    assert [status for _, status in payments] == ["succeeded"], payments
    charges = top.query(
        "payments",
        "SELECT idempotency_key FROM payments_transaction"
        " WHERE payment_id = %s AND kind = 'charge' AND outcome = 'succeeded'",
        (payments[0][0],),
    )
    assert len(charges) == 1, charges
    succeeded = wait_for(
        "PaymentSucceeded relayed",
        lambda: [
            e for e in outbox_events(top, "payments", "payments.PaymentSucceeded", order["id"]) if e[1] is not None
        ],
    )
    assert len(outbox_events(top, "payments", "payments.PaymentSucceeded", order["id"])) == 1
    placed = outbox_events(top, "main", "orders.OrderPlaced", order["id"])
    assert len(placed) == 1, placed
    assert len(settled_mail(top, customer, succeeded[0][0], subject("payment_receipt", order["number"]))) == 1
    assert len(settled_mail(top, customer, placed[0][0], subject("order_confirmation", order["number"]))) == 1


def test_payments_down_then_back(topologies: Any) -> None:
    top: Topology = topologies.get("split")
    bea = Customer(top, "bea").register_and_login()
    (sku, slug), (sku2, _) = in_stock_skus(bea.http, 2)
    order = bea.place_order(sku)
    key = f"pay-{order['id']}-outage"
    timeout = PAYMENTS_BINDING["TIMEOUT"]
    catalog_times: list[float] = []

    def browse() -> None:
        for path in ("/api/v1/catalog/products/", f"/api/v1/catalog/products/{slug}/", "/api/v1/catalog/categories/"):
            started = time.monotonic()
            assert (
                httpx.get(
                    top.public_url + path, params={"q": "wool"} if path.endswith("products/") else None
                ).status_code
                == 200
            )
            catalog_times.append(time.monotonic() - started)

    # Payments hangs (SIGSTOP: its port accepts, nothing answers) just before the customer pays.
    top.pause("payments-web")
    try:
        answer: dict[str, Any] = {}
        payer = threading.Thread(
            target=lambda: answer.update(r=bea.pay(order["id"], "tok_success", key), t=time.monotonic())
        )
        started = time.monotonic()
        payer.start()
        while payer.is_alive():  # the shop keeps serving the catalog while a payment waits on payments
            browse()
            payer.join(0.3)  # a few rounds per second: browsing, not a load test (the anonymous throttle)
        r, waited = answer["r"], answer["t"] - started
        assert r.status_code == 503 and r.headers["content-type"] == PROBLEM, r.text
        assert r.json()["code"] == "context_unavailable" and int(r.headers["Retry-After"]) > 0, r.headers
        assert timeout <= waited < timeout + 2.0, waited  # the timeout, plus the request's own work
        # The second failure opens main's breaker (BREAKER_FAIL_MAX=2): from then on payments is not even asked.
        assert bea.pay(order["id"], "tok_success", key).status_code == 503
        started = time.monotonic()
        r = bea.pay(order["id"], "tok_success", key)
        assert r.status_code == 503 and "Retry-After" in r.headers and time.monotonic() - started < 1.0, r.text
        assert "circuit breaker open" in top.processes["main-web"].output()
        browse()
        assert catalog_times and max(catalog_times) < 1.0, catalog_times
        contexts = top.manage("main", "contexts").stdout
        line = next(line for line in contexts.splitlines() if line.startswith("payments"))
        assert "remote" in line and "down" in line, contexts

        # Payments' own routes once its process is gone: the gateway answers for it, the rest of the shop works.
        top.processes["payments-web"].kill()
        for path in (f"/api/v1/payments/{order['id']}/", "/admin/payments/payment/"):
            started = time.monotonic()
            r = bea.http.get(path)
            assert r.status_code == 503 and r.headers["content-type"] == PROBLEM, (path, r.text)
            assert r.json()["code"] == "context_unavailable" and r.json()["context"] == "payments", r.text
            assert int(r.headers["Retry-After"]) > 0 and r.headers["X-Request-ID"], r.headers
            assert time.monotonic() - started < 1.0  # refused at once, no timeout to wait out
        browse()
        assert bea.http.get("/api/v1/orders/").status_code == 200
        assert bea.http.get("/api/v1/users/me/").status_code == 200
    finally:
        # Restart it: the attempts queued in its listen backlog die with the stopped process.
        top.restart("payments-web")
    # Once the breaker lets a trial call through, paying again with the same key goes through, once.
    paid = wait_for(
        "the breaker to let the retry through",
        lambda: r if (r := bea.pay(order["id"], "tok_success", key)).status_code != 503 else None,
        timeout=PAYMENTS_BINDING["BREAKER_RESET_TIMEOUT"] + 10,
        interval=0.5,
    )
    assert paid.status_code == 200 and paid.json()["status"] == "paid", paid.text
    assert_one_charge(top, bea, order)

    # Payments hangs again and comes back by itself (SIGCONT). The attempt the customer gave up on may still
    # run there (a request waiting in its listen queue) or be dropped (one on a kept-alive connection gunicorn
    # expires on waking up): either way the retry with the same key, right away, charges at most once more in
    # total, and is answered 200: paid, or still pending until the event pays it (an order already paid by
    # the event lets the same key through to payments, which replays that key's payment).
    second = bea.place_order(sku2)
    key2 = f"pay-{second['id']}-resumed"
    top.pause("payments-web")
    try:
        r = bea.pay(second["id"], "tok_success", key2)
        assert r.status_code == 503 and "Retry-After" in r.headers, r.text
    finally:
        top.resume("payments-web")
    retry = bea.pay(second["id"], "tok_success", key2)
    assert retry.status_code == 200, retry.text
    bea.wait_status(second["id"], "paid")
    assert_one_charge(top, bea, second)
    orders = bea.http.get("/api/v1/orders/").json()["results"]
    assert sorted(o["id"] for o in orders) == sorted([order["id"], second["id"]])


def test_broker_down_during_checkout(topologies: Any) -> None:
    top: Topology = topologies.get("split")
    cem = Customer(top, "cem").register_and_login()
    ((sku, _),) = in_stock_skus(cem.http, 1)
    cem.add(sku)
    proxy = top.broker_proxy  # type: ignore[attr-defined]
    proxy.cut()  # main (web, worker, beat) loses the broker; payments and notifications keep theirs
    try:
        started = time.monotonic()
        r = cem.checkout()
        assert r.status_code == 201, r.text
        assert time.monotonic() - started < 10, "checkout must not hang on a dead broker"
        order = r.json()
        ((event_id, sent_at, attempts),) = outbox_events(top, "main", "orders.OrderPlaced", order["id"])
        assert sent_at is None and attempts >= 1, (sent_at, attempts)  # the relay tried, the outbox kept it
        assert not mails(top, cem.email, subject("order_confirmation", order["number"]))
    finally:
        proxy.restore()
    # The sweep (celery beat in main, every SHOP_OUTBOX_SWEEP_SECONDS) relays it once the broker is back.
    mail = wait_mail(top, cem.email, subject("order_confirmation", order["number"]), timeout=60)
    assert order["number"] in mail["text"]
    ((_, sent_at, _),) = outbox_events(top, "main", "orders.OrderPlaced", order["id"])
    assert sent_at is not None
    assert len(settled_mail(top, cem, event_id, subject("order_confirmation", order["number"]))) == 1
