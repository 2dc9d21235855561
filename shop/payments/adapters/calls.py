"""Every call to a gateway goes through ``call``: bounded retries with jittered exponential
backoff for transient errors only, a circuit breaker per gateway (transient failures trip it,
business answers do not), and a ledger row per attempt."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import pybreaker
from django.conf import settings
from tenacity import RetryError, Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from shop import registry
from shop.payments import api
from shop.payments.adapters.gateways.base import GatewayError, TransientGatewayError
from shop.payments.models import Payment, Transaction

log = logging.getLogger(__name__)
T = TypeVar("T")

_breakers: dict[str, pybreaker.CircuitBreaker] = {}
_breakers_lock = threading.Lock()


class Unavailable(Exception):
    """The gateway did not answer within the retry bound, or its breaker is open."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def breaker(gateway: str) -> pybreaker.CircuitBreaker:
    """The gateway's breaker: concurrent calls run side by side (pybreaker's own would hold its lock
    for the whole gateway call, so a threaded server would pay one order at a time per process)."""
    with _breakers_lock:
        if gateway not in _breakers:
            _breakers[gateway] = registry.ConcurrentCircuitBreaker(
                fail_max=5, reset_timeout=30, exclude=[lambda exc: not isinstance(exc, TransientGatewayError)]
            )
        return _breakers[gateway]


def reset_breakers() -> None:
    """Tests start each with closed breakers."""
    with _breakers_lock:
        _breakers.clear()


def record(
    payment: Payment,
    *,
    kind: api.TransactionKind,
    outcome: str,
    key: str = "",
    amount: Any = None,
    reference: str = "",
    error: str = "",
    response: dict[str, Any] | None = None,
) -> None:
    Transaction.objects.create(
        payment=payment,
        kind=kind,
        idempotency_key=key,
        amount_amount=amount,
        outcome=outcome,
        gateway_reference=reference,
        error=error[:255],
        response=_jsonable(response or {}),
    )


# Never kept in the ledger: what the client handed us to pay with, and secrets a provider echoes.
_SCRUBBED = frozenset({"token", "payment_method", "source", "client_secret", "card", "payment_method_details"})


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items() if str(k) not in _SCRUBBED}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def call(payment: Payment, *, kind: api.TransactionKind, key: str, fn: Callable[[], T], amount: Any = None) -> T:
    """``fn()`` with retries and the breaker; each failed attempt is a ledger row.
    Raises ``Unavailable`` when the bound is reached, or any non-transient ``GatewayError``."""
    guard = breaker(payment.gateway)

    def attempt() -> T:
        try:
            return guard.call(fn)
        except TransientGatewayError as exc:
            record(payment, kind=kind, outcome="error", key=key, amount=amount, error=f"transient: {exc}")
            raise
        except pybreaker.CircuitBreakerError as exc:
            raise Unavailable("the gateway's circuit breaker is open") from exc

    retrying = Retrying(
        retry=retry_if_exception_type(TransientGatewayError),
        stop=stop_after_attempt(max(1, settings.SHOP_GATEWAY_MAX_ATTEMPTS)),
        wait=wait_random_exponential(multiplier=settings.SHOP_GATEWAY_BACKOFF_S, max=10),
        reraise=False,
    )
    try:
        return retrying(attempt)
    except RetryError as exc:
        raise Unavailable(f"no answer after {settings.SHOP_GATEWAY_MAX_ATTEMPTS} attempts") from exc
    except GatewayError:
        raise
