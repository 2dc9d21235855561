"""No event delivery is lost on a bad day (issue 12, item 1), on the real broker with a real worker.

The bad day: ten paid orders are placed while no worker runs (30 deliveries wait in RabbitMQ:
``OrderPlaced → order confirmation``, ``PaymentSucceeded → orders`` and ``→ payment receipt``). Two of
the customers have since closed their accounts, so the emails about their orders fail every time.
A worker (``celery -A shop worker -B``: beat runs the sweeps beside it) then starts with PostgreSQL
cut and its publish path (``CELERY_BROKER_WRITE_URL``, a proxy) stalled, as when RabbitMQ blocks
publishers on a resource alarm while the consumer's connection stays up; the database comes back
while publishing is still stalled; then publishing comes back.

Every delivery must end handled (an inbox row) or dead-lettered (staff see it and retry it): none
lost. Before the fix a handler error was retried by publishing a new message; with the publish path
stalled Celery turned that into ``Reject(requeue=False)`` and the delivery was gone.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from django.conf import settings as django_settings
from django.db import connections

from shop.celery import app as celery_app
from shop.registry import bus
from shop.registry.contexts import CONTEXTS
from shop.registry.models import DeadLetter, InboxEntry, OutboxEvent, ScheduledRetry
from shop.users.models import User
from tests.notifications.smtp import SmtpSink
from tests.notifications.workers import WorkerProcess, database_url, declare, delete, queue_counts, worker_env
from tests.orders.conftest import ADDRESS, client_of, fill_cart, place
from tests.orders.conftest import stocked as stocked  # noqa: PLC0414 (a fixture)
from tests.payments.conftest import pay
from tests.registry.conftest import reset_publisher, wait_for
from tests.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.broker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ORDERS, CLOSED_ACCOUNTS = 10, 2
START_S = 30.0
STALL_S = 6.0  # each fault phase; long enough for several failed publishes (each gives up after a few seconds)
SETTLE_S = 45.0

Delivery = tuple[str, uuid.UUID]  # (handler, event id)


@dataclass
class Run:
    broker_url: str
    prefix: str
    queues: list[str]
    publish_proxy: TcpProxy  # the worker's publish path to RabbitMQ
    database_proxy: TcpProxy  # the worker's path to PostgreSQL
    log_dir: Path

    def worker(self, smtp: SmtpSink) -> WorkerProcess:
        env = worker_env(
            broker_url=self.broker_url,
            smtp_port=smtp.port,
            queue_prefix=self.prefix,
            CELERY_BROKER_WRITE_URL=_with_port(self.broker_url, self.publish_proxy.port),
            SHOP_EVENT_MAX_RETRIES="2",
            SHOP_EVENT_RETRY_BACKOFF_BASE="0.05",
            SHOP_EVENT_RETRY_BACKOFF_MAX="1",
            SHOP_RETRY_SWEEP_SECONDS="0.5",
            SHOP_OUTBOX_SWEEP_SECONDS="1",
            SHOP_TASK_REQUEUE_DELAY_S="0.2",
        )
        for alias in django_settings.DATABASES:  # every database through the cuttable proxy
            proxied = {**connections[alias].settings_dict, "HOST": "127.0.0.1", "PORT": self.database_proxy.port}
            env["DATABASE_URL" if alias == "default" else f"SHOP_DB_{alias.upper()}"] = database_url(proxied)
        beat = ("-B", "--schedule", str(self.log_dir / "beat-schedule"))
        return WorkerProcess(queues=self.queues, env=env, log_dir=self.log_dir, name="faulted", args=beat)

    def waiting(self) -> int:
        return sum(queue_counts(self.broker_url, name)[0] for name in self.queues)


def _with_port(url: str, port: int) -> str:
    parts = urlparse(url)
    credentials = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return parts._replace(netloc=f"{credentials}127.0.0.1:{port}").geturl()


@pytest.fixture
def run(tmp_path: Path, settings: Any) -> Iterator[Run]:
    """This process publishes straight to RabbitMQ, on run-unique queues; the worker goes through proxies."""
    broker_url = os.environ.get("SHOP_TEST_BROKER_URL")
    if not broker_url:
        pytest.skip("rabbitmq not available in this run (see banner)")
    prefix = f"shoptest-{uuid.uuid4().hex[:8]}."
    settings.SHOP_EVENT_QUEUE_PREFIX = prefix
    queues = [f"{prefix}{context}" for context in CONTEXTS] + [f"{prefix}default"]
    broker = urlparse(broker_url)
    database = connections["default"].settings_dict
    publish_proxy = TcpProxy(broker.hostname or "127.0.0.1", broker.port or 5672)
    database_proxy = TcpProxy(database.get("HOST") or "127.0.0.1", int(database.get("PORT") or 5432))
    conf = celery_app.conf
    saved = {key: conf.get(key) for key in ("task_always_eager", "broker_url")}
    conf.update(task_always_eager=False, broker_url=broker_url)
    reset_publisher()
    declare(broker_url, *queues)
    publish_proxy.restore()
    database_proxy.restore()
    try:
        yield Run(broker_url, prefix, queues, publish_proxy, database_proxy, tmp_path)
    finally:
        publish_proxy.cut()
        database_proxy.cut()
        conf.update(saved)
        reset_publisher()
        delete(broker_url, *queues)


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def worker_slot() -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    yield started
    for worker in started:
        worker.stop()


def _paid_orders(stocked: Callable[..., list[str]]) -> list[int]:
    """Ten customers each place and pay an order; returns the customers' ids."""
    sku = stocked(1, stock=100, price="12.50")[0]
    customers = []
    for n in range(ORDERS):
        user = User.objects.create_user(f"faulted{n}@example.com", "a-long-enough-pass-42", full_name=f"Customer {n}")
        fill_cart(user, [sku])
        client = client_of(user)
        placed = place(client, body={"shipping_address": ADDRESS})
        assert placed.status_code == 201, placed.content
        paid = pay(client, type("Placed", (), {"pk": placed.json()["id"]})(), "tok_success")
        assert paid.status_code in (200, 201), paid.content
        customers.append(user.pk)
    return customers


def _queued_deliveries() -> set[Delivery]:
    """Every (handler, event) the outboxes sent: what must each end handled or dead-lettered."""
    expected: set[Delivery] = set()
    for alias in django_settings.DATABASES:
        for row in OutboxEvent.objects.using(alias).all():
            assert row.sent_at is not None, f"{row} was not relayed"
            expected |= {(sub.name, row.id) for sub in bus.subscriptions_for(row.topic)}
    return expected


def _handled() -> set[Delivery]:
    return {
        (handler, event_id)
        for alias in django_settings.DATABASES
        for handler, event_id in InboxEntry.objects.using(alias).values_list("handler", "event_id")
    }


def _retries_pending() -> bool:
    return any(ScheduledRetry.objects.using(alias).exists() for alias in django_settings.DATABASES)


def _dead_lettered() -> set[Delivery]:
    return set(DeadLetter.objects.values_list("handler", "event_id"))


def test_no_delivery_is_lost_when_the_worker_cannot_publish_and_its_database_is_cut(
    run: Run, smtp: SmtpSink, worker_slot: list[WorkerProcess], stocked: Callable[..., list[str]]
) -> None:
    customers = _paid_orders(stocked)
    expected = _queued_deliveries()
    assert len(expected) >= 3 * ORDERS, sorted(expected)
    assert wait_for(lambda: run.waiting() == len(expected)), run.waiting()  # all in RabbitMQ, none handled
    User.objects.filter(pk__in=customers[:CLOSED_ACCOUNTS]).delete()  # their order emails fail every time

    run.database_proxy.cut()
    run.publish_proxy.stall()
    worker = run.worker(smtp).start()
    worker_slot.append(worker)
    assert wait_for(lambda: not worker.alive or queue_counts(run.broker_url, run.queues[0])[1] == 1, START_S)
    assert worker.alive, worker.log()

    time.sleep(STALL_S)  # handlers fail on the database; nothing can be published
    run.database_proxy.restore()
    time.sleep(STALL_S)  # handlers run (the closed accounts' fail); publishing is still stalled
    run.publish_proxy.restore()

    def settled() -> bool:
        return expected <= _handled() | _dead_lettered() and not _retries_pending()

    wait_for(settled, SETTLE_S, interval=0.5)
    handled, dead = _handled() & expected, _dead_lettered() & expected
    lost = expected - handled - dead
    assert not lost, f"{len(lost)} of {len(expected)} deliveries lost: {sorted(lost)}\n{worker.log(20_000)}"
    # The dead letters are exactly the closed accounts' emails, each after its first try and two retries.
    closed = {
        (handler, event_id)
        for handler, event_id in dead
        if handler in {"shop.notifications.handlers.order_confirmation", "shop.notifications.handlers.payment_receipt"}
    }
    assert dead == closed and len(dead) == 2 * CLOSED_ACCOUNTS, sorted(dead)
    assert set(DeadLetter.objects.values_list("attempts", flat=True)) == {3}
    assert handled.isdisjoint(dead)
    assert len(handled) == len(expected) - len(dead)
    assert not _retries_pending()
