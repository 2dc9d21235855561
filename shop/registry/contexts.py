"""The bounded contexts of the shop, bottom-up in dependency order.

Everything that derives per-context configuration (databases, queues, remote bindings,
the import-linter containers) starts from this tuple; adding a context starts here.
No Django import at module level: settings read it.
"""

from __future__ import annotations

from typing import Any

CONTEXTS: tuple[str, ...] = ("users", "catalog", "pricing", "cart", "payments", "orders", "notifications")


def api_module(context: str) -> str:
    return f"shop.{context}.api"


def protocol_name(context: str) -> str:
    return f"{context.capitalize()}API"


def local_implementation(context: str) -> str:
    """Default dotted path of a context's in-process implementation."""
    return f"shop.{context}.services.{context.capitalize()}Service"


def queue_for(context: str) -> str:
    return context


def context_of(protocol: type[Any]) -> str:
    context = getattr(protocol, "context", None)
    if not isinstance(context, str) or context not in CONTEXTS:
        raise LookupError(f"{protocol!r} does not name a known context (class attribute `context`)")
    return context
