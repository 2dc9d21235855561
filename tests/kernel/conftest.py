"""Unit tier: no database, cache, broker or network (``make test-unit``, the first step of ``make test``)."""

from tests.unit.isolation import no_network

__all__ = ["no_network"]
