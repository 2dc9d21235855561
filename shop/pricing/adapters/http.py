"""A ``TaxProvider`` asking an external tax service over HTTP, with a timeout and a circuit breaker.

The wire protocol is small and documented (docs/pricing.md), so any service, or a shim in front of a
vendor's API, can serve it::

    POST <url>/rates   Authorization: Bearer <token>
    {"places": [{"country": "DE", "postal_code": "10115"}], "tax_classes": ["standard", "reduced"]}
    200 {"rates": [{"country": "DE", "postal_code": "10115", "rates": {"standard": "19", "reduced": "7"}}]}

Rates are percentages as decimal strings, one entry per place in the order asked. Anything else (a
timeout, a refused connection, a non-200, an answer missing a place or a class, a rate outside
0..100) is a ``TaxServiceError`` and counts against the breaker, which then refuses calls for
``reset_timeout`` seconds without waiting on the network. No retries: a quote is asked again by the
customer's next request anyway, and a retry would double the wait of a page that is already late.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Collection, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
import pybreaker

from shop import registry
from shop.pricing.adapters.base import RatesByClass, TaxPlace, TaxServiceError

log = logging.getLogger(__name__)

BREAKER_FAIL_MAX = 5
BREAKER_RESET_S = 30
_breakers: dict[str, pybreaker.CircuitBreaker] = {}
_breakers_lock = threading.Lock()


def breaker(url: str) -> pybreaker.CircuitBreaker:
    """One breaker per service URL, shared by every request of the process (concurrent calls run side
    by side: the registry's breaker holds its lock only to change state)."""
    with _breakers_lock:
        if url not in _breakers:
            _breakers[url] = registry.ConcurrentCircuitBreaker(fail_max=BREAKER_FAIL_MAX, reset_timeout=BREAKER_RESET_S)
        return _breakers[url]


def reset_breakers() -> None:
    """Tests start with closed breakers."""
    with _breakers_lock:
        _breakers.clear()


class HttpTaxProvider:
    name = "http"

    def __init__(
        self, *, url: str, token: str = "", timeout_s: float = 2.0, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.url = url.rstrip("/")
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(timeout=httpx.Timeout(timeout_s), headers=headers, transport=transport)

    def rates(self, *, places: Sequence[TaxPlace], tax_classes: Collection[str]) -> dict[TaxPlace, RatesByClass]:
        classes = sorted(tax_classes)
        body = {
            "places": [{"country": p.country, "postal_code": p.postal_code} for p in places],
            "tax_classes": classes,
        }
        try:
            return breaker(self.url).call(self._ask, body, places, classes)
        except pybreaker.CircuitBreakerError as exc:
            raise TaxServiceError("the tax service's breaker is open") from exc
        except TaxServiceError as exc:
            log.warning("tax service failed", extra={"url": self.url, "reason": str(exc)})
            raise

    def _ask(
        self, body: dict[str, Any], places: Sequence[TaxPlace], classes: Sequence[str]
    ) -> dict[TaxPlace, RatesByClass]:
        """Inside the breaker: a malformed answer counts as a failure like a timeout does."""
        return _parse(self._post(body), places, classes)

    def _post(self, body: dict[str, Any]) -> Any:
        try:
            response = self._http.post(f"{self.url}/rates", json=body)
        except httpx.TimeoutException as exc:
            raise TaxServiceError(f"timed out: {exc!r}") from exc
        except httpx.HTTPError as exc:
            raise TaxServiceError(f"cannot reach it: {exc!r}") from exc
        if response.status_code != 200:
            raise TaxServiceError(f"HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError as exc:
            raise TaxServiceError("the answer is not JSON") from exc


def _parse(answer: Any, places: Sequence[TaxPlace], classes: Sequence[str]) -> dict[TaxPlace, RatesByClass]:
    """The answer as rates per place, or ``TaxServiceError``: a half-understood answer is no answer."""
    entries = answer.get("rates") if isinstance(answer, dict) else None
    if not isinstance(entries, list) or len(entries) != len(places):
        raise TaxServiceError("the answer does not have one entry per place")
    result: dict[TaxPlace, RatesByClass] = {}
    for place, entry in zip(places, entries, strict=True):
        rates = entry.get("rates") if isinstance(entry, dict) else None
        if not isinstance(rates, dict) or entry.get("country") != place.country:
            raise TaxServiceError(f"the answer for {place.country} is not the protocol's")
        result[place] = {tax_class: _percentage(rates.get(tax_class)) for tax_class in classes}
    return result


def _percentage(value: Any) -> Decimal:
    if not isinstance(value, str):
        raise TaxServiceError(f"a rate must be a decimal string, not {value!r}")
    try:
        rate = Decimal(value)
    except InvalidOperation as exc:
        raise TaxServiceError(f"{value!r} is not a rate") from exc
    if not rate.is_finite() or not Decimal(0) <= rate < Decimal(100):
        raise TaxServiceError(f"{value!r} is not a percentage between 0 and 100")
    return rate
