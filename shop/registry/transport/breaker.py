"""The circuit breaker every outbound call uses (remote contexts, payment gateways)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pybreaker

T = TypeVar("T")


class ConcurrentCircuitBreaker(pybreaker.CircuitBreaker):
    """pybreaker holds its lock for the whole guarded call, which would serialise every call through
    one breaker (one slow call blocks all threads). Here the lock guards only state changes.

    Trade-off: in half-open state concurrent callers may each make a trial call instead of one.
    """

    def call(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with self._lock:
            state = self.state
        return state.call(func, *args, **kwargs)

    def _inc_counter(self) -> None:
        with self._lock:
            super()._inc_counter()
