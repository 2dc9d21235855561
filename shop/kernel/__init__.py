"""Pure-Python building blocks every context shares. Standard library only, so any
context's public ``api`` module can be shipped to a split-out service unchanged."""

from shop.kernel.contracts import idempotent, is_idempotent
from shop.kernel.errors import (
    Conflict,
    ContextUnavailable,
    DomainError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from shop.kernel.events import Event
from shop.kernel.money import Money

__all__ = [
    "Conflict",
    "ContextUnavailable",
    "DomainError",
    "Event",
    "Money",
    "NotFound",
    "PermissionDenied",
    "ValidationFailed",
    "idempotent",
    "is_idempotent",
]
