"""How contexts reach each other: ``get`` a context's API, ``publish`` an event, ``subscriber``
to declare a handler; ``task`` to enqueue one of the context's own tasks by name (services are below
their tasks); ``ConcurrentCircuitBreaker`` for a context's own outbound calls; and
``DurableTask`` with its ``Durable`` policy for a context's tasks whose work must not be lost.
Nothing else of the registry is for contexts to import.

Kept import-light (no models at import time) because settings read ``registry.contexts``.
"""

from shop.registry.bus import publish, subscriber
from shop.registry.bus.retries import Durable, DurableTask
from shop.registry.router import atomic
from shop.registry.tasknames import task
from shop.registry.transport.breaker import ConcurrentCircuitBreaker
from shop.registry.transport.lookup import get, local

__all__ = [
    "ConcurrentCircuitBreaker",
    "Durable",
    "DurableTask",
    "atomic",
    "get",
    "local",
    "publish",
    "subscriber",
    "task",
]
