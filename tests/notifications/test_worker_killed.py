"""A worker killed while it is sending an email does not lose the email.

The send task is ``acks_late`` and ``reject_on_worker_lost``: the broker keeps the message unacked
while the worker sends, and takes it back when the worker's connection dies. Here the worker is a
real process (``celery -A shop worker -P prefork``) that is SIGKILLed while the SMTP server holds its
DATA phase (the message is on the wire, the server's "250" not yet given); a new worker then sends it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction

from shop.celery import app as celery_app
from shop.notifications import api as notifications_api
from shop.notifications import handlers
from shop.notifications.models import Notification
from shop.registry.router import alias_for_context
from shop.users.api import UserRegistered
from tests.notifications.conftest import SEND_TASK, run_queues, smtp_settings
from tests.notifications.smtp import SmtpSink
from tests.notifications.workers import WorkerProcess, declare, delete, queue_counts, worker_env
from tests.registry.conftest import reset_publisher, wait_for

pytestmark = [pytest.mark.broker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NOTIFICATIONS = alias_for_context("notifications")
START_S = 30.0  # a worker process starts (Django, Celery, the broker connection) in a few seconds


@dataclass
class Run:
    broker_url: str
    prefix: str
    queues: list[str]  # the worker's: the notifications context's queue and the default queue
    send_queue: str  # the one of them this process routes the send task to
    log_dir: Path

    def worker(self, sink: SmtpSink, name: str) -> WorkerProcess:
        env = worker_env(
            broker_url=self.broker_url,
            smtp_port=sink.port,
            queue_prefix=self.prefix,
            SHOP_EMAIL_MAX_ATTEMPTS="5",
            SHOP_EMAIL_RETRY_BACKOFF_S="0.2",
        )
        return WorkerProcess(queues=self.queues, env=env, log_dir=self.log_dir, name=name)

    def consumers(self) -> int:
        return queue_counts(self.broker_url, self.send_queue)[1]

    def counts(self) -> tuple[int, int]:
        """(ready messages, consumers) of the send task's queue."""
        return queue_counts(self.broker_url, self.send_queue)


@pytest.fixture
def run(tmp_path: Path, settings: Any) -> Iterator[Run]:
    """This process publishes to the real broker, on run-unique queues (no worker in this process)."""
    broker_url = os.environ.get("SHOP_TEST_BROKER_URL")
    if not broker_url:
        pytest.skip("rabbitmq not available in this run (see banner)")
    prefix = f"shoptest-{uuid.uuid4().hex[:8]}."
    settings.SHOP_EVENT_QUEUE_PREFIX = prefix
    queues = [f"{prefix}notifications", f"{prefix}default"]
    conf = celery_app.conf
    saved = {key: conf.get(key) for key in ("task_always_eager", "broker_url")}
    conf.update(task_always_eager=False, broker_url=broker_url)
    reset_publisher()
    declare(broker_url, *queues)
    try:
        with run_queues(prefix, f"{prefix}default"):
            send_queue = celery_app.amqp.router.route({}, SEND_TASK)["queue"].name
            assert send_queue in queues, send_queue
            yield Run(broker_url=broker_url, prefix=prefix, queues=queues, send_queue=send_queue, log_dir=tmp_path)
    finally:
        conf.update(saved)
        reset_publisher()
        delete(broker_url, *queues)


@pytest.fixture
def workers() -> Iterator[list[WorkerProcess]]:
    started: list[WorkerProcess] = []
    yield started
    for worker in started:
        worker.stop()


def _notification(event_id: uuid.UUID) -> Notification | None:
    return Notification.objects.using(NOTIFICATIONS).filter(event_id=event_id).first()


def _status(event_id: uuid.UUID) -> str | None:
    row = _notification(event_id)
    return row.status if row is not None else None


@pytest.mark.parametrize("killed", ["the whole worker", "its pool process"])
def test_a_worker_killed_mid_send_does_not_lose_the_email(
    killed: str, run: Run, smtp_sink: SmtpSink, workers: list[WorkerProcess], settings: Any
) -> None:
    """The whole worker (a crash, a lost node): the broker sees its connection close and requeues the
    unacked task; a new worker sends it. Only its pool process (the OOM killer's usual pick): the main
    process sees the pool process lost and, ``reject_on_worker_lost``, requeues the task itself."""
    smtp_settings(settings, smtp_sink)
    to = "killed@example.com"
    first = run.worker(smtp_sink, "first").start()
    workers.append(first)
    assert wait_for(lambda: not first.alive or run.consumers() == 1, START_S) and first.alive, first.log()

    smtp_sink.hold()  # every DATA phase waits for our reply
    event = UserRegistered(user_id=7, email=to, full_name="Killed Mid-Send")
    with transaction.atomic(using=NOTIFICATIONS):  # what the bus's delivery runs (less its inbox row)
        handlers.welcome(event)  # stores the notification; the send task is queued on commit

    assert wait_for(lambda: len(smtp_sink.received(to)) == 1, START_S), first.log()
    row = _notification(event.event_id)
    assert row is not None and (row.status, row.attempts) == (notifications_api.QUEUED, 1)

    # Mid-send: the message is on the wire, the server has not answered yet.
    if killed == "the whole worker":
        first.kill()
        # The task was never acked: the broker has it back, ready for the next worker.
        assert wait_for(lambda: run.counts() == (1, 0)), run.counts()
        sender = run.worker(smtp_sink, "second").start()
        workers.append(sender)
    else:
        first.kill_pool_child()
        sender = first  # its main process lives on, with a new pool process
    assert wait_for(lambda: smtp_sink.received(to)[0].aborted)  # its client went away without a "250"
    assert wait_for(lambda: len(smtp_sink.received(to)) == 2 or not sender.alive, START_S), sender.log()
    row.refresh_from_db()
    assert (row.status, row.sent_at, row.attempts) == (notifications_api.QUEUED, None, 2)
    smtp_sink.release()

    assert wait_for(lambda: _status(event.event_id) == notifications_api.SENT, START_S), sender.log()
    row.refresh_from_db()
    assert row.attempts == 2 and row.sent_at is not None and row.last_error == ""
    copies = smtp_sink.received(to)
    # Delivered exactly once: one copy acknowledged to a live client. The killed worker's copy reached
    # the server, which never acknowledged it; both carry the notification's stable Message-ID, so an
    # MTA that had kept the first copy anyway would let the mailbox drop the second.
    assert [(c.accepted, c.aborted) for c in copies] == [(False, True), (True, False)]
    assert {c.message_id for c in copies} == {row.message_id}
    assert copies[1].rcpt_tos == [to] and copies[1].subject == row.subject
    assert wait_for(lambda: run.counts() == (0, 1)), run.counts()  # acked: nothing left to redeliver
