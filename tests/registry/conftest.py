"""Event-bus test kit: probe subscribers, a real Celery worker on the real broker, a cuttable broker link.

The worker runs in a thread of the test process (``celery.contrib.testing.worker``), so it shares the
subscription registry and the test database with the test; the publisher reaches RabbitMQ through a
loopback TCP proxy that a test can cut to simulate a broker outage, while the worker reads directly.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse, urlunparse

import pytest
from django.db import connections
from django.test import override_settings
from kombu import Connection, Exchange, Queue

from shop.celery import app as celery_app
from shop.kernel import Event
from shop.registry import bus
from shop.registry.contexts import CONTEXTS
from shop.registry.models import InboxEntry
from shop.registry.router import alias_for_context
from tests.tcp_proxy import TcpProxy

DEADLINE_S = 10.0
USERS = alias_for_context("users")  # the publisher's and the subscribers' database (one per context in CI mode 2)


def inbox() -> Any:
    return InboxEntry.objects.using(USERS)


class Boom(Exception):
    """Stands for anything that aborts the publisher's transaction."""


def wait_for(predicate: Callable[[], Any], timeout: float = DEADLINE_S, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until it is truthy or the deadline passes; never an unbounded wait."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


# --- probe subscribers -------------------------------------------------------------------------
@dataclass
class Probe:
    """A test subscriber: records the event ids it was called with; raises while ``failing`` is set."""

    name: str = ""
    calls: list[uuid.UUID] = field(default_factory=list)
    failing: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __call__(self, event: Event) -> None:
        with self._lock:
            self.calls.append(event.event_id)
        if self.failing:
            raise RuntimeError(f"probe {self.name} told to fail")

    def count(self, event_id: uuid.UUID) -> int:
        with self._lock:
            return self.calls.count(event_id)


@pytest.fixture
def make_probe() -> Iterator[Callable[..., Probe]]:
    """Subscribe probes to an event type for one test (as a handler of ``context``), then unsubscribe."""
    names: list[str] = []

    def subscribe(event_type: type[Event], *, context: str = "users", failing: bool = False) -> Probe:
        probe = Probe(failing=failing)

        def handle(event: Event) -> None:
            probe(event)

        handle.__qualname__ = handle.__name__ = f"probe_{uuid.uuid4().hex[:10]}"
        bus.subscriber(event_type, context=context)(handle)
        probe.name = f"{handle.__module__}.{handle.__qualname__}"
        names.append(probe.name)
        return probe

    yield subscribe
    for name in names:
        bus.unsubscribe(name)


# --- the live bus: real broker, real worker --------------------------------------------------------
@dataclass
class LiveBus:
    """What a broker test needs: the proxy in front of the broker and a record of finished deliveries."""

    proxy: TcpProxy
    prefix: str
    default_queue: str
    results: list[tuple[str, Any]] = field(default_factory=list)  # (handler, task return value)

    def results_for(self, handler: str) -> list[Any]:
        return [value for name, value in list(self.results) if name == handler]


def reset_publisher() -> None:
    """Drop every pooled broker connection, so the next publish connects afresh to the configured URLs.

    (``Celery.close()`` is not this: in Celery 5.7 it keeps the producer pool and deregisters the app.)
    """
    from kombu import pools

    pools.reset()
    celery_app._pool = None  # type: ignore[attr-defined]  # what Celery itself does after a fork
    celery_app.amqp._producer_pool = None  # type: ignore[attr-defined]


def _with_port(url: str, port: int) -> str:
    parts = urlparse(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{port}"
    return urlunparse(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


@pytest.fixture(scope="module")
def _live_worker(django_db_setup: None) -> Iterator[LiveBus]:
    """One real Celery worker (in a thread of this process) per module, on run-unique queues of the real broker."""
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun
    from celery.worker import state as worker_state

    broker_url = os.environ.get("SHOP_TEST_BROKER_URL")
    if not broker_url:
        pytest.skip("rabbitmq not available in this run (see banner)")
    parsed = urlparse(broker_url)
    proxy = TcpProxy(parsed.hostname or "127.0.0.1", parsed.port or 5672)
    proxy.restore()
    prefix = f"shoptest-{uuid.uuid4().hex[:8]}."
    live = LiveBus(proxy=proxy, prefix=prefix, default_queue=f"{prefix}default")
    conf = celery_app.conf
    saved = {
        key: conf.get(key)
        for key in ("task_always_eager", "broker_url", "broker_write_url", "worker_hijack_root_logger")
    }

    def record(sender: Any = None, task: Any = None, retval: Any = None, kwargs: Any = None, **_: Any) -> None:
        # Runs in the worker's pool thread: remember the outcome, and hand back its DB connection so
        # the test's flush never waits on it.
        if threading.current_thread() is threading.main_thread():
            return
        live.results.append(((kwargs or {}).get("handler", getattr(task, "name", "")), retval))
        connections.close_all()

    task_postrun.connect(record, weak=False)
    settings_override = override_settings(SHOP_EVENT_QUEUE_PREFIX=prefix)
    settings_override.enable()
    queues = [bus.delivery_queue(context) for context in CONTEXTS] + [live.default_queue]
    conf.update(
        task_always_eager=False,
        broker_url=broker_url,
        broker_write_url=_with_port(broker_url, proxy.port),
        worker_hijack_root_logger=False,
    )
    reset_publisher()  # eager tests may have pooled a connection to the old URL
    try:
        # Thread pool, not solo: with solo, kombu 5.7 defers the ack of a task that ran on the loop thread
        # outside its poll dispatch (e.g. one taken by the start-up drain) until the poll times out, up to
        # 10 s, and with prefetch 1 that holds back the next message. From a pool thread the ack wakes the loop.
        with start_worker(
            celery_app, pool="threads", concurrency=1, perform_ping_check=False, queues=queues, shutdown_timeout=15
        ) as worker:
            yield live
            # Wake the idle poll now instead of waiting out its timeout, so the worker stops promptly.
            worker_state.should_terminate = 0  # type: ignore[assignment]
            worker.hub.call_soon(lambda: None)  # type: ignore[union-attr]
    finally:
        task_postrun.disconnect(record)
        settings_override.disable()
        proxy.cut()
        conf.update(saved)
        reset_publisher()
        with Connection(broker_url, connect_timeout=3) as conn:
            channel = conn.default_channel
            for name in queues:
                Queue(name, Exchange(name), routing_key=name, channel=channel).delete()
                Exchange(name, channel=channel).delete()


@pytest.fixture
def live_bus(_live_worker: LiveBus) -> Iterator[LiveBus]:
    """The live bus for one test: queues purged first, so nothing left over from an earlier test runs."""
    with Connection(os.environ["SHOP_TEST_BROKER_URL"], connect_timeout=3) as conn:
        channel = conn.default_channel
        for name in [bus.delivery_queue(c) for c in CONTEXTS] + [_live_worker.default_queue]:
            Queue(name, Exchange(name), routing_key=name, channel=channel).purge()
    _live_worker.results.clear()
    yield _live_worker
    _live_worker.proxy.restore()


@pytest.fixture
def retry_sweeper(live_bus: LiveBus) -> Iterator[None]:
    """What beat does every ``SHOP_RETRY_SWEEP_SECONDS``, at a test's pace: a thread of this process runs
    ``shop.registry.retry_due`` every 0.1 s, so failed deliveries and sends are retried when due."""
    from shop.registry.bus.tasks import retry_due

    stop = threading.Event()

    def sweep() -> None:
        while not stop.is_set():
            try:
                retry_due.apply(throw=False)
            finally:
                connections.close_all()  # this thread's own: the test's flush never waits on them
            stop.wait(0.1)

    thread = threading.Thread(target=sweep, daemon=True, name="retry-sweeper")
    thread.start()
    yield
    stop.set()
    thread.join(timeout=30)
