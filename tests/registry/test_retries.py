"""Durable retries (``shop.registry.bus.retries``) in the embedded default: a failed delivery is recorded in
the subscriber's database, the retry sweep runs it again when due and dead-letters it after the last
attempt, and staff retry a dead letter from the admin. (On RabbitMQ with a real worker:
``test_bus_broker.py``; under a cut database and a stalled publish path: ``test_delivery_faults.py``.)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client
from django.utils import timezone

from shop import registry
from shop.registry import bus
from shop.registry.bus import retries
from shop.registry.bus.tasks import deliver_event, retry_due
from shop.registry.contexts import CONTEXTS
from shop.registry.models import DeadLetter
from shop.registry.router import alias_for_context
from shop.registry.scheduler import jobs_from
from shop.users.api import UserRegistered
from tests.helpers import outbox, run_retries, scheduled_retries
from tests.registry.conftest import USERS, Probe, inbox

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]


def _event(n: int = 1) -> UserRegistered:
    return UserRegistered(user_id=n, email=f"retry{n}@example.com", full_name="Retry Probe")


def _publish(capture: Capture, event: UserRegistered) -> None:
    with capture(using=USERS, execute=True), registry.atomic("users"):
        registry.publish(event)


def _due_now(context: str = "users") -> None:
    scheduled_retries(context).update(next_attempt_at=timezone.now())


def test_a_due_delivery_is_redelivered_through_the_inbox(
    make_probe: Callable[..., Probe], django_capture_on_commit_callbacks: Capture, settings: Any
) -> None:
    settings.SHOP_EVENT_RETRY_BACKOFF_BASE = 30.0  # the first retry waits 6..60 s
    probe = make_probe(UserRegistered, failing=True)
    event = _event()

    _publish(django_capture_on_commit_callbacks, event)

    pending = scheduled_retries("users").get()
    assert (pending.attempts, pending.kwargs["handler"]) == (1, probe.name)
    assert 6 <= (pending.next_attempt_at - pending.updated_at).total_seconds() <= 60
    assert retry_due.apply().get() == 0  # not due: the sweep leaves it alone
    assert probe.calls == [event.event_id]

    probe.failing = False
    _due_now()
    assert retry_due.apply().get() == 1

    assert probe.calls == [event.event_id] * 2
    assert inbox().filter(event_id=event.event_id, handler=probe.name).count() == 1
    assert not scheduled_retries("users").exists()
    assert not DeadLetter.objects.exists()
    assert retry_due.apply().get() == 0  # done: nothing runs twice


def test_a_retry_already_handled_elsewhere_is_only_cleared(
    make_probe: Callable[..., Probe], django_capture_on_commit_callbacks: Capture
) -> None:
    """A duplicate message handled the event meanwhile: the sweep's run is a duplicate, the record goes."""
    probe = make_probe(UserRegistered, failing=True)
    event = _event()
    _publish(django_capture_on_commit_callbacks, event)
    probe.failing = False
    kwargs = scheduled_retries("users").get().kwargs
    assert deliver_event.apply(kwargs=kwargs).get() == "handled"

    assert run_retries() == 1

    assert probe.calls == [event.event_id] * 2
    assert not scheduled_retries("users").exists()


def test_the_last_attempt_dead_letters_it_and_staff_retry_it_from_the_admin(
    make_probe: Callable[..., Probe],
    django_capture_on_commit_callbacks: Capture,
    settings: Any,
    client: Client,
    django_user_model: Any,
) -> None:
    settings.SHOP_EVENT_MAX_RETRIES = 2
    probe = make_probe(UserRegistered, failing=True)
    event = _event()
    _publish(django_capture_on_commit_callbacks, event)

    assert run_retries(rounds=2) == 2

    assert probe.calls == [event.event_id] * 3
    assert not scheduled_retries("users").exists()
    letter = DeadLetter.objects.get()
    assert (letter.handler, letter.event_id, letter.attempts) == (probe.name, event.event_id, 3)
    assert "told to fail" in letter.error
    assert not inbox().filter(handler=probe.name).exists()

    # Staff see it...
    client.force_login(django_user_model.objects.create_superuser("ops@example.com", "a-long-enough-pass-42"))
    page = client.get("/admin/registry/deadletter/").content.decode()
    assert probe.name in page and f'value="{letter.pk}"' in page
    assert "told to fail" in client.get(f"/admin/registry/deadletter/{letter.pk}/change/").content.decode()

    # ...fix the cause and press "retry": a fresh budget, run by the next sweep.
    probe.failing = False
    response = client.post(
        "/admin/registry/deadletter/", {"action": "retry", "_selected_action": [str(letter.pk)]}, follow=True
    )
    assert "Re-queued 1 event(s)." in response.content.decode()
    assert scheduled_retries("users").get().attempts == 0
    assert retry_due.apply().get() == 1

    assert probe.calls == [event.event_id] * 4
    assert inbox().filter(event_id=event.event_id, handler=probe.name).count() == 1
    letter.refresh_from_db()
    assert letter.retried_at is not None
    assert DeadLetter.objects.count() == 1
    assert not scheduled_retries("users").exists()


def test_a_claimed_retry_is_not_run_by_a_second_sweep(django_capture_on_commit_callbacks: Capture) -> None:
    """Sweeps on several workers at once: the claim (a conditional UPDATE) gives each record to one."""
    calls: list[int] = []
    inner: list[int] = []

    def handle(event: UserRegistered) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("first try fails")
        inner.append(retries.run_due(alias=USERS))  # another sweep, while this one runs the record

    handle.__qualname__ = handle.__name__ = "claimed_once_probe"
    registry.subscriber(UserRegistered, context="users")(handle)
    try:
        _publish(django_capture_on_commit_callbacks, _event())
        _due_now()

        assert retries.run_due(alias=USERS) == 1
    finally:
        bus.unsubscribe(f"{handle.__module__}.claimed_once_probe")

    assert (len(calls), inner) == (2, [0])
    assert not scheduled_retries("users").exists()


def test_a_retry_whose_runs_keep_dying_is_dead_lettered_without_running_again(
    make_probe: Callable[..., Probe], django_capture_on_commit_callbacks: Capture, settings: Any
) -> None:
    """A run that kills its worker (out of memory) never records its failure; the claim counted it."""
    settings.SHOP_EVENT_MAX_RETRIES = 2
    probe = make_probe(UserRegistered, failing=True)
    event = _event()
    _publish(django_capture_on_commit_callbacks, event)
    # Two sweeps claimed it and died running it: attempts counted, claims expired.
    scheduled_retries("users").update(attempts=3, next_attempt_at=timezone.now() - timedelta(seconds=1))

    assert retry_due.apply().get() == 1

    assert probe.calls == [event.event_id]  # not run again
    letter = DeadLetter.objects.get()
    assert (letter.handler, letter.attempts) == (probe.name, 3)
    assert "told to fail" in letter.error
    assert not scheduled_retries("users").exists()


def test_a_sweep_runs_only_the_contexts_this_process_serves(
    make_probe: Callable[..., Probe], django_capture_on_commit_callbacks: Capture, settings: Any
) -> None:
    probe = make_probe(UserRegistered, failing=True)
    _publish(django_capture_on_commit_callbacks, _event())
    _due_now()
    settings.SHOP_SERVE = ["payments"]  # another service's worker, sharing this database

    assert retries.run_due(alias=USERS) == 0

    settings.SHOP_SERVE = []
    assert retries.run_due(alias=USERS) == 1
    assert len(probe.calls) == 2


def test_a_failure_that_cannot_be_recorded_keeps_the_event_in_the_outbox(
    make_probe: Callable[..., Probe], django_capture_on_commit_callbacks: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Embedded default: the delivery ran in-process, failed, and its record could not be written (the
    database refused): it must not count as sent. (A worker requeues the message instead: the fault test.)"""
    probe = make_probe(UserRegistered, failing=True)
    event = _event()

    def database_down(*args: Any, **kwargs: Any) -> str:
        raise OperationalError("the database is unreachable")

    monkeypatch.setattr(retries, "record_failure", database_down)
    _publish(django_capture_on_commit_callbacks, event)

    assert probe.calls == [event.event_id]
    row = outbox("users").get(id=event.event_id)
    assert (row.sent_at, row.attempts) == (None, 1)

    monkeypatch.undo()
    probe.failing = False
    from shop.registry.bus.tasks import sweep_outbox

    sweep_outbox.apply(kwargs={"context": "users"})
    assert inbox().filter(event_id=event.event_id, handler=probe.name).exists()
    assert outbox("users").get(id=event.event_id).sent_at is not None


def test_the_retry_sweep_is_a_periodic_job_of_every_database(settings: Any) -> None:
    jobs = {
        job.name: job for job in jobs_from(settings.CELERY_BEAT_SCHEDULE)
    }  # what beat and the embedded scheduler run
    for alias in {alias_for_context(context) for context in CONTEXTS}:  # every database a context keeps records on
        job = jobs[f"retry-due-{alias}"]
        assert job.task == "shop.registry.retry_due"
        assert job.when.seconds == settings.SHOP_RETRY_SWEEP_SECONDS  # type: ignore[attr-defined]
