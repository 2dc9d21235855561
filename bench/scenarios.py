"""The benchmark's scenarios. Adding one is a line in ``SCENARIOS`` (see docs/benchmarks.md).

A scenario's ``path`` is a ``str.format`` template over the fixture, e.g. ``"/bench/floor/{fx.user_id}"`` or
``"/api/v1/products/{fx.extra[product_id]}/"``; ``headers`` and ``body`` are functions of the fixture, so tokens
and seeded ids are filled in once, before the load starts. A scenario with ``spread`` sends one request per fixture
that function returns (e.g. one per seeded customer), in turn.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from bench.load import HttpRequest


@dataclass(frozen=True, slots=True)
class Fixture:
    """What seeding and login produced: scenarios build their requests from it."""

    user_id: int
    email: str
    access: str  # a JWT access token of that user (valid 15 min: far longer than a run)
    extra: Mapping[str, Any] = field(default_factory=dict)  # ids seeded for later scenarios


Headers = Callable[[Fixture], dict[str, str]]
Body = Callable[[Fixture], Any]
Spread = Callable[[Fixture], Sequence[Fixture]]


def anonymous(fx: Fixture) -> dict[str, str]:
    return {"Accept": "application/json"}


def bearer(fx: Fixture) -> dict[str, str]:
    return {"Accept": "application/json", "Authorization": f"Bearer {fx.access}"}


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    method: str
    path: str  # str.format template with ``fx`` (the Fixture) in scope
    headers: Headers = anonymous
    body: Body | None = None  # a JSON-serialisable value, sent as application/json
    spread: Spread | None = None  # the fixtures to send the request as, in turn; None: ``fx`` alone

    def requests(self, fx: Fixture) -> list[HttpRequest]:
        """What the load sends in turn; the first one is also the smoke test."""
        return [self.request(each) for each in (self.spread(fx) if self.spread else [fx])]

    def request(self, fx: Fixture) -> HttpRequest:
        headers = self.headers(fx)
        body = b""
        if self.body is not None:
            body = json.dumps(self.body(fx)).encode()
            headers = {**headers, "Content-Type": "application/json"}
        return HttpRequest(method=self.method, path=self.path.format(fx=fx), headers=headers, body=body)


def uncached(fx: Fixture) -> dict[str, str]:
    """Anonymous, skipping the storefront read cache (honoured only under ``bench.settings``)."""
    return {**anonymous(fx), "X-Bench-No-Cache": "1"}


def cart_customers(fx: Fixture) -> list[Fixture]:
    """Each seeded cart customer in turn (bench/seed.py: a cart of exactly 10 lines each)."""
    return [replace(fx, user_id=c["user_id"], access=c["access"]) for c in fx.extra["cart_customers"]]


def cart_lines(fx: Fixture) -> list[Fixture]:
    """Every line of every seeded cart, customers innermost: the requests in flight together hit different carts, so
    the scenario measures an add, not clients queueing on one cart's row lock."""
    customers = fx.extra["cart_customers"]
    return [
        replace(fx, user_id=c["user_id"], access=c["access"], extra={**fx.extra, "sku": c["skus"][i]})
        for i in range(len(customers[0]["skus"]))
        for c in customers
    ]


def one_unit(fx: Fixture) -> dict[str, Any]:
    return {"sku": fx.extra["sku"], "quantity": 1}


# The floor: a bare DRF APIView doing one primary-key read (bench/urls.py), measured in the same run.
FLOOR = Scenario("floor (DRF + 1 pk read)", "GET", "/bench/floor/{fx.user_id}")

# The shop's endpoints, each reported as a ratio to the floor. Later issues append here.
PRODUCTS = "/api/v1/catalog/products/"
SCENARIOS: list[Scenario] = [
    Scenario("GET /api/v1/users/me/", "GET", "/api/v1/users/me/", bearer),
    # Storefront, on the catalog bench/seed.py generates (100k products): 20 products a page, anonymous.
    Scenario("catalog list (cached)", "GET", PRODUCTS),
    Scenario("catalog list (uncached)", "GET", PRODUCTS, uncached),
    Scenario("catalog detail (cached)", "GET", PRODUCTS + "{fx.extra[product_slug]}/"),
    Scenario("catalog detail (uncached)", "GET", PRODUCTS + "{fx.extra[product_slug]}/", uncached),
    Scenario("catalog search (uncached)", "GET", PRODUCTS + "?q=merino+sweater", uncached),
    # Cart, signed in, over 64 customers' 10-line carts in turn; every response is the whole cart (10 lines).
    Scenario("add to cart", "POST", "/api/v1/cart/lines/", bearer, body=one_unit, spread=cart_lines),
    Scenario("get cart (10 lines)", "GET", "/api/v1/cart/", bearer, spread=cart_customers),
    # Quote-heavy: the same carts quoted for Germany (tax per line at 19 %, the rates' first-sight record checked on
    # every read, the shipping method priced): what a storefront's cart page costs once the customer picks a country.
    Scenario("get cart quoted to DE (10 lines)", "GET", "/api/v1/cart/?country=DE", bearer, spread=cart_customers),
]

# Checkout is not a fixed request: bench/checkout.py runs it as a phase of its own (a cart filled before every
# checkout, a fresh Idempotency-Key each time) in the same rounds. These name its two rows of the table; ``--only``
# matches the first one's name.
CHECKOUT = Scenario("checkout (cart of 3 lines → order)", "POST", "/api/v1/orders/", bearer)
CHECKOUT_VOUCHER = Scenario(
    "checkout with a voucher (3 lines + code → order)", "POST", "/api/v1/cart/vouchers/, /api/v1/orders/", bearer
)
CHECKOUT_ITERATION = Scenario(
    "checkout iteration (3 adds + checkout)", "POST", "/api/v1/cart/lines/ x3, /api/v1/orders/", bearer
)
