"""End-to-end kit: the ``e2e`` marker, the live topologies, and their logs attached to a failing test.

The e2e tests run only when asked (``SHOP_E2E=1``, which ``make e2e`` sets); ``make test`` collects them
and reports them skipped. With ``SHOP_E2E=1`` a missing PostgreSQL, Redis or RabbitMQ fails the run.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import pytest

E2E = os.environ.get("SHOP_E2E") == "1"
SERVICES = {
    "postgres": os.environ.get("SHOP_E2E_POSTGRES", "postgres://postgres@127.0.0.1:5432"),
    "redis": os.environ.get("SHOP_E2E_REDIS", "redis://127.0.0.1:6379/14"),
    "rabbitmq": os.environ.get("SHOP_E2E_BROKER", "amqp://guest:guest@127.0.0.1:5672//"),
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: end to end over real processes (runs with SHOP_E2E=1: make e2e)")


class Topologies:
    """At most one live topology at a time (two on a 2-core machine would slow both): asking for another
    mode stops the current one first. The split one also routes main's broker traffic through a proxy the
    tests can cut."""

    def __init__(self) -> None:
        self.current: Any = None
        self.proxy: Any = None

    def get(self, mode: str) -> Any:
        from tests.e2e.topology import BROKER, Topology
        from tests.tcp_proxy import TcpProxy

        if self.current is not None and self.current.mode == mode:
            return self.current
        self.close()
        broker = urlparse(BROKER)
        self.proxy = TcpProxy(broker.hostname or "127.0.0.1", broker.port or 5672)
        self.proxy.restore()
        through_proxy = broker._replace(netloc=f"{broker.netloc.rsplit('@', 1)[0]}@127.0.0.1:{self.proxy.port}")
        topology = Topology(mode, main_broker_url=through_proxy.geturl())
        topology.broker_proxy = self.proxy  # type: ignore[attr-defined]
        topology.start()
        self.current = topology
        return topology

    def close(self) -> None:
        if self.current is not None:
            topology, self.current = self.current, None
            topology.stop(keep_logs=getattr(topology, "failed", False))
            if getattr(topology, "failed", False):
                print(f"\ne2e logs of the failed {topology.mode} run kept in {topology.workdir}")
        if self.proxy is not None:
            self.proxy.cut()
            self.proxy = None


def _reachable(url: str) -> str | None:
    parsed = urlparse(url)
    default = {"postgres": 5432, "redis": 6379, "amqp": 5672}[parsed.scheme]
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default), timeout=3):
            return None
    except OSError as exc:
        return str(exc)


@pytest.fixture(scope="session")
def topologies() -> Iterator[Topologies]:
    missing = {name: why for name, url in SERVICES.items() if (why := _reachable(url))}
    if missing:
        pytest.fail(f"e2e needs PostgreSQL, Redis and RabbitMQ; unreachable: {missing}")
    live = Topologies()
    try:
        yield live
    finally:
        live.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    live = getattr(item, "funcargs", {}).get("topologies")
    if report.failed and isinstance(live, Topologies) and live.current is not None:
        live.current.failed = True
        report.sections.append((f"{live.current.mode} topology logs (tails)", live.current.logs_tail(80)))
