"""How contexts reach each other: ``get`` a context's API, ``publish`` an event, ``subscriber``
to declare a handler; ``ConcurrentCircuitBreaker`` for a context's own outbound calls; and
``DurableTask`` with its ``Durable`` policy for a context's tasks whose work must not be lost.
Nothing else of the registry is for contexts to import.

Kept import-light (no models at import time) because settings read ``registry.contexts``.
"""

from shop.registry.breaker import ConcurrentCircuitBreaker
from shop.registry.bus import publish, subscriber
from shop.registry.lookup import get, local
from shop.registry.retries import Durable, DurableTask
from shop.registry.router import atomic

__all__ = ["ConcurrentCircuitBreaker", "Durable", "DurableTask", "atomic", "get", "local", "publish", "subscriber"]
