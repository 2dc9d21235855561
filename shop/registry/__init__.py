"""How contexts reach each other: ``get`` a context's API, ``publish`` an event, ``subscriber``
to declare a handler; and ``ConcurrentCircuitBreaker`` for a context's own outbound calls.
Nothing else of the registry is for contexts to import.

Kept import-light (no models at import time) because settings read ``registry.contexts``.
"""

from shop.registry.breaker import ConcurrentCircuitBreaker
from shop.registry.bus import publish, subscriber
from shop.registry.lookup import get, local
from shop.registry.router import atomic

__all__ = ["ConcurrentCircuitBreaker", "atomic", "get", "local", "publish", "subscriber"]
