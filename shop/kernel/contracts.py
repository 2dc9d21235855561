"""Markers a public Protocol uses to describe its methods to the transport."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

_IDEMPOTENT_ATTR = "__shop_idempotent__"


def idempotent(func: F) -> F:
    """Mark a Protocol method safe to retry (a read, or a command keyed by an idempotency id)."""
    setattr(func, _IDEMPOTENT_ATTR, True)
    return func


def is_idempotent(func: Callable[..., Any]) -> bool:
    return bool(getattr(func, _IDEMPOTENT_ATTR, False))
