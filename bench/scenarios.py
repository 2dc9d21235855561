"""The benchmark's scenarios. Adding one is a line in ``SCENARIOS`` (see docs/benchmarks.md).

A scenario's ``path`` is a ``str.format`` template over the fixture, e.g. ``"/bench/floor/{fx.user_id}"`` or
``"/api/v1/products/{fx.extra[product_id]}/"``; ``headers`` and ``body`` are functions of the fixture, so tokens
and seeded ids are filled in once, before the load starts.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
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
]
