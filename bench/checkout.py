"""The checkout phase: customers filling a cart and checking it out, and the oversell audit after it.

Checkout cannot be a fixed request sent again and again (bench/load.py): every checkout needs a freshly filled cart
and a unique ``Idempotency-Key``. So ``run_checkout`` keeps one closed-loop client per connection, each signed in as
its own customer (bench/seed.py, ``seed_checkout``), looping on one event loop, in the loader process:

    3 x POST /api/v1/cart/lines/  {"sku": ..., "quantity": 1}                 (expect 200)
    POST /api/v1/cart/vouchers/  {"code": "BENCH-5"}    (the voucher phase only; expect 200)
    POST /api/v1/orders/  Idempotency-Key: <uuid4>  {"shipping_address": ...}  (expect 201, or 409 out_of_stock)
    DELETE /api/v1/cart/  after anything but a 201 (a failed checkout leaves the cart as it was)

like bench/load.py, each request on a new connection (``Connection: close``). It measures two rows:

* ``orders``: iterations whose checkout answered 201, per second; p50/p99 of the checkout request alone, from its
  connect to the server's close (the adds excluded);
* ``iterations``: iterations whose checkout answered 201 or 409 out_of_stock, per second; p50/p99 from the first
  add's connect to the checkout's answer (the cart clear after a 409 is not in the time, but its load is on the
  server).

An iteration (~1.5-2 s at 32 clients on 2 workers) lasts about as long as a round's window (2 s by default), and the
clients start together, so counting iterations started (or ended) in the window would jump by whole waves of 32.
The rates therefore count each iteration by the share of its time inside the window (half inside: 1/2); the
latencies are those of the iterations that ended in it. Anything but 200 to an add, 201 or 409 ``out_of_stock`` to
a checkout, 200 to a clear is an error, warm-up included. The first round's warm-up lasts until every scarce SKU
has answered ``out_of_stock`` once (and at least ``warmup`` seconds), so the measured windows see a steady mix:
every ``SCARCE_EVERY``-th cart holds a sold-out SKU and gets a 409, the others get orders.

``audit`` then reads the bench database: per pool SKU, the units of the run's orders against the stock's
``reserved`` and ``on_hand`` before and after the run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from bench.load import HttpRequest, Sample, exchange, response_body

SCARCE_EVERY = 4  # every 4th cart carries one unit of a scarce SKU as its third line
SOLD_OUT_TIMEOUT_S = 30.0  # the first warm-up waits at most this long past --warmup for the scarce SKUs to sell out
CART_LINES = "/api/v1/cart/lines/"
CART = "/api/v1/cart/"
CART_VOUCHERS = "/api/v1/cart/vouchers/"
ORDERS = "/api/v1/orders/"
SHIPPING = {
    "shipping_address": {
        "full_name": "Bench Checkout",
        "line1": "Benchstrasse 1",
        "city": "Berlin",
        "postal_code": "10115",
        "country": "DE",
    }
}


@dataclass(frozen=True, slots=True)
class Plan:
    """What the clients buy: customer ``i`` is client ``i``; cart ``n`` (counted over the whole phase) is
    ``cart(n)``. Consecutive carts take consecutive deep SKUs, so the carts in flight share stock rows."""

    customers: list[dict[str, Any]]  # {"user_id", "access"}
    deep_skus: list[str]
    scarce_skus: list[str]
    voucher: str = ""  # applied to every cart before its checkout (the voucher phase), else none

    @classmethod
    def of(cls, seeded: Mapping[str, Any]) -> Plan:
        return cls(
            customers=list(seeded["customers"]),
            deep_skus=list(seeded["deep_skus"]),
            scarce_skus=list(seeded["scarce_skus"]),
        )

    def cart(self, n: int) -> list[str]:
        deep = self.deep_skus  # at least 3, so the three are distinct
        third = (
            self.scarce_skus[(n // SCARCE_EVERY) % len(self.scarce_skus)]
            if n % SCARCE_EVERY == 0
            else deep[(3 * n + 2) % len(deep)]
        )
        return [deep[(3 * n) % len(deep)], deep[(3 * n + 1) % len(deep)], third]


@dataclass(frozen=True, slots=True)
class CheckoutSample:
    """One round of the phase. Rates count every iteration by the share of its time inside the measured window."""

    orders: Sample  # iterations ending in 201; latency of the checkout request alone
    iterations: Sample  # iterations ending in 201 or 409 out_of_stock; latency first add -> checkout answered
    out_of_stock: float  # iterations ending in 409 out_of_stock, counted like the others
    ended_in_window: dict[str, int]  # whole iterations that ended in the window, by outcome ("201", "409", "error")
    warmup_s: float  # how long the warm-up lasted
    sold_out: list[str]  # SKUs that answered out_of_stock with nothing available, this round (warm-up included)
    created: int  # 201 checkouts of the whole round, warm-up included (the audit counts them in the database)
    next_cart: int  # the cart number the next round continues with


@dataclass(frozen=True, slots=True)
class _Iteration:
    started: float
    ended: float  # the checkout's answer (or the failed add's)
    outcome: str  # "201", "409" (out_of_stock) or "error"
    checkout_ms: float

    def share_in(self, window_from: float, window_to: float) -> float:
        """How much of this iteration lies in the window (0..1). Summed over iterations, this counts the work done
        in the window whatever the clients' phase: 32 clients starting together, each iteration about as long as
        a round's window, would make a count of the iterations *started* (or ended) in it jump by whole waves."""
        inside = min(self.ended, window_to) - max(self.started, window_from)
        return max(0.0, inside) / (self.ended - self.started) if self.ended > self.started else 0.0


def _headers(access: str) -> dict[str, str]:
    return {"Accept": "application/json", "Authorization": f"Bearer {access}"}


def _problem(response: bytes) -> dict[str, Any]:
    with contextlib.suppress(ValueError):
        body = json.loads(response_body(response))
        if isinstance(body, dict):
            return body
    return {}


async def _checkout_load(
    host: str,
    port: int,
    plan: Plan,
    *,
    connections: int,
    warmup: float,
    seconds: float,
    first_cart: int,
    sell_out_first: Sequence[str],
) -> CheckoutSample:
    if connections > len(plan.customers):
        raise ValueError(f"{connections} connections but {len(plan.customers)} checkout customers seeded")
    started = time.perf_counter()
    must_sell_out = set(sell_out_first)
    sold_out: set[str] = set()
    done: list[_Iteration] = []
    errors: Counter[str] = Counter()
    created = 0
    next_cart = first_cart  # one event loop: the clients share these without a lock
    # The window: from the end of the warm-up (or the moment the last SKU of ``sell_out_first`` sold out, if later),
    # ``seconds`` long. Until it is known, ``end`` is infinite and the clients go on warming up.
    measure_from: float | None = None if must_sell_out else started + warmup
    end = math.inf if measure_from is None else measure_from + seconds

    def open_window(now: float) -> None:
        """After every iteration: open the window once the scarce SKUs sold out (or the wait timed out)."""
        nonlocal measure_from, end
        if measure_from is not None:
            return
        if must_sell_out <= sold_out:
            measure_from = max(now, started + warmup)
        elif now >= started + warmup + SOLD_OUT_TIMEOUT_S:
            measure_from = started + warmup + SOLD_OUT_TIMEOUT_S
        if measure_from is not None:
            end = measure_from + seconds

    async def send(method: str, path: str, access: str, body: Any = None, **headers: str) -> tuple[str, bytes]:
        payload = b"" if body is None else json.dumps(body).encode()
        all_headers = {**_headers(access), **headers}
        if body is not None:
            all_headers["Content-Type"] = "application/json"
        request = HttpRequest(method=method, path=path, headers=all_headers, body=payload)
        return await exchange(host, port, request.encode(host, port))

    async def iteration(access: str, skus: list[str]) -> tuple[str, float]:
        """Fill the cart, check it out; the outcome and the checkout's latency. Errors are counted here."""
        for sku in skus:
            status, _ = await send("POST", CART_LINES, access, {"sku": sku, "quantity": 1})
            if status != "200":
                errors[f"add {status}"] += 1
                return "error", 0.0
        if plan.voucher:
            status, _ = await send("POST", CART_VOUCHERS, access, {"code": plan.voucher})
            if status != "200":
                errors[f"apply voucher {status}"] += 1
                return "error", 0.0
        t1 = time.perf_counter()
        status, response = await send("POST", ORDERS, access, SHIPPING, **{"Idempotency-Key": str(uuid.uuid4())})
        checkout_ms = (time.perf_counter() - t1) * 1000
        if status == "201":
            return "201", checkout_ms
        problem = _problem(response)
        if status == "409" and problem.get("code") == "out_of_stock":
            for shortage in problem.get("shortages") or []:
                if isinstance(shortage, dict) and shortage.get("available") == 0:
                    sold_out.add(str(shortage.get("sku")))
            return "409", checkout_ms
        errors[f"checkout {status}" + (f" {problem['code']}" if problem.get("code") else "")] += 1
        return "error", checkout_ms

    async def client(customer: dict[str, Any]) -> None:
        nonlocal next_cart, created
        access = customer["access"]
        while (t0 := time.perf_counter()) < end:
            skus, next_cart = plan.cart(next_cart), next_cart + 1
            outcome, checkout_ms = await iteration(access, skus)
            ended = time.perf_counter()
            done.append(_Iteration(started=t0, ended=ended, outcome=outcome, checkout_ms=checkout_ms))
            open_window(ended)
            if outcome == "201":
                created += 1
                continue  # checkout emptied the cart
            status, _ = await send("DELETE", CART, access)  # a failed checkout leaves the cart as it was
            if status != "200":
                errors[f"clear cart {status}"] += 1

    await asyncio.gather(*(client(customer) for customer in plan.customers[:connections]))
    assert measure_from is not None  # the clients only stop at the end of the window
    window = end - measure_from
    share: dict[str, float] = {"201": 0.0, "409": 0.0, "error": 0.0}
    ended: Counter[str] = Counter()
    for it in done:
        share[it.outcome] += it.share_in(measure_from, end)
        if measure_from <= it.ended < end:
            ended[it.outcome] += 1
    in_window = [it for it in done if measure_from <= it.ended < end]
    return CheckoutSample(
        orders=Sample(
            seconds=window,
            latencies_ms=sorted(it.checkout_ms for it in in_window if it.outcome == "201"),
            errors=dict(errors),
            completed=share["201"],
        ),
        iterations=Sample(
            seconds=window,
            latencies_ms=sorted((it.ended - it.started) * 1000 for it in in_window if it.outcome != "error"),
            errors=dict(errors),
            completed=share["201"] + share["409"],
        ),
        out_of_stock=share["409"],
        ended_in_window=dict(ended),
        warmup_s=measure_from - started,
        sold_out=sorted(sold_out),
        created=created,
        next_cart=next_cart,
    )


def run_checkout(
    host: str,
    port: int,
    plan: Plan,
    *,
    connections: int,
    warmup: float,
    seconds: float,
    first_cart: int = 0,
    sell_out_first: Sequence[str] = (),
) -> CheckoutSample:
    """One round: ``connections`` customers looping add x3 + checkout; ``warmup`` seconds unrecorded (longer, until
    every SKU of ``sell_out_first`` has answered out_of_stock, at most SOLD_OUT_TIMEOUT_S more), then ``seconds``."""
    return asyncio.run(
        _checkout_load(
            host,
            port,
            plan,
            connections=connections,
            warmup=warmup,
            seconds=seconds,
            first_cart=first_cart,
            sell_out_first=sell_out_first,
        )
    )


def smoke(base: str, plan: Plan) -> str | None:
    """One checkout (the first customer, three deep SKUs) before the load; returns what went wrong, if anything.
    The cart is emptied either way."""
    customer = plan.customers[0]
    headers = _headers(customer["access"])
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=10) as http:
            for sku in plan.deep_skus[:3]:
                response = http.post(CART_LINES, json={"sku": sku, "quantity": 1})
                if response.status_code != 200:
                    return f"add to cart answered {response.status_code}: {response.text[:300]}"
            response = http.post(ORDERS, json=SHIPPING, headers={"Idempotency-Key": str(uuid.uuid4())})
            if response.status_code != 201:
                http.delete(CART)
                return f"checkout answered {response.status_code}: {response.text[:300]}"
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


# --- the oversell audit ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StockLevel:
    on_hand: int
    reserved: int


@dataclass(frozen=True, slots=True)
class SkuAudit:
    sku: str
    on_hand_before: int
    reserved_before: int
    on_hand_after: int
    reserved_after: int
    ordered: int  # units of this SKU in the run's orders that are not cancelled

    @property
    def available_before(self) -> int:
        return self.on_hand_before - self.reserved_before

    @property
    def held(self) -> int:
        """Units the run reserved (still held: the orders await payment)."""
        return self.reserved_after - self.reserved_before

    @property
    def sold(self) -> int:
        """Units the run committed (a payment would move them from reserved to sold; none in the bench)."""
        return self.on_hand_before - self.on_hand_after

    @property
    def oversold(self) -> int:
        """Units promised beyond the stock there was: by the orders, or by the stock's own counters."""
        return max(0, self.ordered - self.available_before, self.held + self.sold - self.available_before)

    @property
    def problems(self) -> list[str]:
        found = []
        if not self.on_hand_after >= self.reserved_after >= 0:
            found.append(f"on_hand {self.on_hand_after} < reserved {self.reserved_after} (or reserved < 0)")
        if self.ordered != self.held + self.sold:
            found.append(f"ordered {self.ordered} != reserved {self.held} + sold {self.sold} by the run")
        if self.oversold:
            found.append(f"{self.oversold} units oversold (available before: {self.available_before})")
        return found


@dataclass(frozen=True, slots=True)
class Audit:
    skus: list[SkuAudit]
    orders: int  # the run's orders (not cancelled) in the database
    stray_units: int  # units of the run's orders of SKUs outside the pool (there should be none)
    expected_orders: int  # 201 responses the clients received
    sold_out: list[str] = field(default_factory=list)  # pool SKUs left with nothing available

    @property
    def oversold(self) -> int:
        return sum(s.oversold for s in self.skus)

    @property
    def ordered(self) -> int:
        return sum(s.ordered for s in self.skus)

    @property
    def held(self) -> int:
        return sum(s.held for s in self.skus)

    @property
    def problems(self) -> list[str]:
        found = [f"{s.sku}: {problem}" for s in self.skus for problem in s.problems]
        if self.stray_units:
            found.append(f"{self.stray_units} ordered units of SKUs outside the checkout pool")
        if self.orders != self.expected_orders:
            found.append(f"{self.orders} orders in the database, {self.expected_orders} answered 201")
        return found

    def as_json(self) -> dict[str, Any]:
        return {
            "oversold_units": self.oversold,
            "ordered_units": self.ordered,
            "reserved_units": self.held,
            "orders_in_database": self.orders,
            "orders_answered_201": self.expected_orders,
            "sold_out_skus": self.sold_out,
            "problems": self.problems,
            "skus": [
                {
                    "sku": s.sku,
                    "on_hand_before": s.on_hand_before,
                    "reserved_before": s.reserved_before,
                    "on_hand_after": s.on_hand_after,
                    "reserved_after": s.reserved_after,
                    "ordered": s.ordered,
                    "oversold": s.oversold,
                }
                for s in self.skus
            ],
        }


def snapshot(skus: Sequence[str]) -> tuple[dict[str, StockLevel], int]:
    """The pool's stock, and the newest order's id, before the run (Django set up, bench database)."""
    from django.db.models import Max

    from shop.catalog.models import Stock
    from shop.orders.models import Order

    levels = {
        sku: StockLevel(on_hand=on_hand, reserved=reserved)
        for sku, on_hand, reserved in Stock.objects.filter(variant__sku__in=list(skus)).values_list(
            "variant__sku", "on_hand", "reserved"
        )
    }
    missing = set(skus) - set(levels)
    if missing:
        raise RuntimeError(f"no stock row for checkout SKUs {sorted(missing)}")
    last_order: int = Order.objects.aggregate(last=Max("pk"))["last"] or 0
    return levels, last_order


def audit(
    *, before: Mapping[str, StockLevel], last_order_before: int, customer_ids: Sequence[int], expected_orders: int
) -> Audit:
    """Compare, per pool SKU, the units of the orders placed since ``snapshot`` by the checkout customers with
    what the catalog's stock says now."""
    from django.db.models import Sum

    from shop.catalog.models import Stock
    from shop.orders import api as orders_api
    from shop.orders.models import Order, OrderLine

    after = {
        sku: StockLevel(on_hand=on_hand, reserved=reserved)
        for sku, on_hand, reserved in Stock.objects.filter(variant__sku__in=list(before)).values_list(
            "variant__sku", "on_hand", "reserved"
        )
    }
    orders = Order.objects.filter(customer_id__in=list(customer_ids), pk__gt=last_order_before).exclude(
        status=orders_api.CANCELLED
    )
    ordered: dict[str, int] = {
        row["sku"]: row["units"]
        for row in OrderLine.objects.filter(order__in=orders).values("sku").annotate(units=Sum("quantity")).order_by()
    }
    skus = [
        SkuAudit(
            sku=sku,
            on_hand_before=level.on_hand,
            reserved_before=level.reserved,
            on_hand_after=after[sku].on_hand,
            reserved_after=after[sku].reserved,
            ordered=ordered.get(sku, 0),
        )
        for sku, level in before.items()
    ]
    return Audit(
        skus=skus,
        orders=orders.count(),
        stray_units=sum(units for sku, units in ordered.items() if sku not in before),
        expected_orders=expected_orders,
        sold_out=[s.sku for s in skus if s.on_hand_after - s.reserved_after <= 0],
    )
