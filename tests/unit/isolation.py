"""What makes a test a unit test here: it runs with no database, cache, broker or network.

The fixture refuses every network connection (an ``AF_INET``/``AF_INET6`` socket's ``connect``), so a
unit test that reached for PostgreSQL, Redis, RabbitMQ or an HTTP service fails at once with the
address it tried, instead of passing on a machine that happens to run the service. pytest-django
already refuses database access to tests without the ``django_db`` mark; ``make test-unit`` also runs
with every service URL unset.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest


class NetworkRefused(RuntimeError):
    """A unit test tried to reach a service."""


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def guard(kind: str, real: Any) -> Any:
        def refuse(self: socket.socket, address: Any) -> Any:
            if self.family in (socket.AF_INET, socket.AF_INET6):
                raise NetworkRefused(f"a unit test may not reach {address!r} ({kind}): it needs no service")
            return real(self, address)

        return refuse

    monkeypatch.setattr(socket.socket, "connect", guard("connect", real_connect))
    monkeypatch.setattr(socket.socket, "connect_ex", guard("connect_ex", real_connect_ex))
    yield
