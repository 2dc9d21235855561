"""The event bus end to end on the real broker: outbox → RabbitMQ → a real Celery worker → inbox.

Every test publishes through the production code path (``registry.publish`` in a transaction, the
on-commit relay, the sweep) and observes only what a user of the bus could: handler calls, outbox,
inbox and dead-letter rows, and the worker's task outcomes.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.db import OperationalError, transaction
from django.test import Client

from shop import registry
from shop.registry import bus
from shop.registry.bus import retries
from shop.registry.bus.tasks import sweep_outbox
from shop.registry.models import DeadLetter
from shop.users.api import UserRegistered
from tests.helpers import outbox, scheduled_retries
from tests.registry.conftest import USERS, Boom, LiveBus, Probe, inbox, reset_publisher, wait_for

pytestmark = [pytest.mark.broker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _event(n: int = 1) -> UserRegistered:
    return UserRegistered(user_id=n, email=f"bus{n}@example.com", full_name="Bus Probe")


def _publish_committed(event: UserRegistered) -> None:
    with registry.atomic("users"):
        registry.publish(event)


def _delivered(live: LiveBus, probe: Probe, n: int) -> Callable[[], bool]:
    return lambda: len(live.results_for(probe.name)) >= n


def test_rolled_back_event_is_never_delivered(live_bus: LiveBus, make_probe: Callable[..., Probe]) -> None:
    probe = make_probe(UserRegistered)
    doomed, sentinel = _event(1), _event(2)

    with pytest.raises(Boom), registry.atomic("users"):
        registry.publish(doomed)
        raise Boom

    assert not outbox("users").filter(id=doomed.event_id).exists()
    # One queue, one solo consumer, FIFO: once a later committed event is through, the rolled-back
    # one would have been through too, had it been sent at all.
    _publish_committed(sentinel)
    assert wait_for(lambda: probe.count(sentinel.event_id) == 1), live_bus.results
    assert probe.count(doomed.event_id) == 0
    assert not inbox().filter(event_id=doomed.event_id).exists()


def test_duplicate_relays_are_handled_once(live_bus: LiveBus, make_probe: Callable[..., Probe]) -> None:
    probe = make_probe(UserRegistered)
    event = _event()

    _publish_committed(event)  # on-commit relay: delivery 1
    assert wait_for(_delivered(live_bus, probe, 1)), live_bus.results
    assert outbox("users").get(id=event.event_id).sent_at is not None

    # The relay crashes after sending but before its mark commits: delivery 2, row still unsent...
    outbox("users").filter(id=event.event_id).update(sent_at=None)
    with pytest.raises(Boom), transaction.atomic(using=USERS):
        assert bus.relay(alias=USERS, ids=[event.event_id]) == 1
        raise Boom
    assert outbox("users").get(id=event.event_id).sent_at is None
    # ...so the sweep sends it again: delivery 3.
    assert bus.relay(alias=USERS) == 1

    assert wait_for(_delivered(live_bus, probe, 3)), live_bus.results
    assert live_bus.results_for(probe.name) == ["handled", "duplicate", "duplicate"]
    assert probe.count(event.event_id) == 1
    assert inbox().filter(event_id=event.event_id, handler=probe.name).count() == 1
    assert outbox("users").get(id=event.event_id).sent_at is not None


def test_fan_out_reaches_every_subscriber_once(live_bus: LiveBus, make_probe: Callable[..., Probe]) -> None:
    first, second = make_probe(UserRegistered), make_probe(UserRegistered)
    event = _event()

    _publish_committed(event)

    assert wait_for(lambda: first.count(event.event_id) == 1 and second.count(event.event_id) == 1)
    handled = set(inbox().filter(event_id=event.event_id).values_list("handler", flat=True))
    assert {first.name, second.name} <= handled  # (the real subscribers of the event are there too)


def test_broker_outage_keeps_the_event_in_the_outbox_until_the_sweep(
    live_bus: LiveBus, make_probe: Callable[..., Probe], client: Client
) -> None:
    probe = make_probe(UserRegistered)
    warm_up = _event(1)
    _publish_committed(warm_up)  # the web process holds a pooled broker connection, as in production
    assert wait_for(lambda: probe.count(warm_up.event_id) == 1)

    live_bus.proxy.cut()
    started = time.monotonic()
    response = client.post(
        "/api/v1/auth/register/",
        {"email": "outage@example.com", "password": "a-long-enough-pass-42", "full_name": "Out Age"},
        content_type="application/json",
    )
    elapsed = time.monotonic() - started

    assert response.status_code == 201, response.content
    assert elapsed < 5.0, f"registration hung {elapsed:.1f}s on the dead broker"
    row = outbox("users").exclude(id=warm_up.event_id).get(topic=UserRegistered.topic())
    assert row.sent_at is None, "the relay marked sent an event the broker never got"
    assert row.attempts == 1
    time.sleep(0.5)
    assert len(probe.calls) == 1  # only the warm-up

    live_bus.proxy.restore()
    sweep_outbox.apply_async(queue=live_bus.default_queue)  # what beat does every few seconds

    assert wait_for(lambda: len(probe.calls) == 2), live_bus.results
    assert probe.calls[1] == row.id
    row.refresh_from_db()
    assert (row.sent_at is not None, row.attempts) == (True, 2)
    assert inbox().filter(event_id=row.id, handler=probe.name).count() == 1


def test_unresponsive_broker_neither_hangs_the_request_nor_loses_the_event(
    live_bus: LiveBus, make_probe: Callable[..., Probe], settings: Any
) -> None:
    """A partition (or a broker blocking publishers) swallows writes without an error: only a
    confirmed publish may mark the row sent, and waiting for the confirm must be bounded."""
    probe = make_probe(UserRegistered)
    warm_up, event, late = _event(1), _event(2), _event(3)
    _publish_committed(warm_up)
    assert wait_for(lambda: probe.count(warm_up.event_id) == 1)

    live_bus.proxy.stall()
    started = time.monotonic()
    _publish_committed(event)  # on the pooled connection: the write succeeds, the confirm never comes
    on_pooled = time.monotonic() - started
    reset_publisher()  # a fresh process: no pooled connection, and the AMQP handshake never completes
    started = time.monotonic()
    _publish_committed(late)
    on_fresh = time.monotonic() - started

    # Bounded by the broker I/O timeout: the confirm wait, then closing the stalled channel and connection.
    budget = 3 * settings.CELERY_BROKER_TRANSPORT_OPTIONS["read_timeout"] + 1.0
    assert on_pooled < budget, f"the commit hung {on_pooled:.1f}s on the unresponsive broker"
    assert on_fresh < budget, f"the commit hung {on_fresh:.1f}s connecting to the unresponsive broker"
    unsent = outbox("users").filter(id__in=[event.event_id, late.event_id], sent_at__isnull=True)
    assert unsent.count() == 2, "marked sent without a broker confirm"

    live_bus.proxy.restore()
    assert bus.relay(alias=USERS) == 2
    assert wait_for(lambda: probe.count(event.event_id) == 1 and probe.count(late.event_id) == 1), live_bus.results
    assert inbox().filter(handler=probe.name).count() == 3


def test_failing_handler_is_dead_lettered_and_retried_from_the_admin(
    live_bus: LiveBus,
    retry_sweeper: None,
    make_probe: Callable[..., Probe],
    settings: Any,
    client: Client,
    django_user_model: Any,
) -> None:
    settings.SHOP_EVENT_MAX_RETRIES = 2
    settings.SHOP_EVENT_RETRY_BACKOFF_BASE = 0.01
    probe = make_probe(UserRegistered, failing=True)
    event = _event()

    _publish_committed(event)

    assert wait_for(lambda: DeadLetter.objects.filter(handler=probe.name).exists()), live_bus.results
    letter = DeadLetter.objects.get(handler=probe.name)
    assert (letter.event_id, letter.topic, letter.attempts) == (event.event_id, UserRegistered.topic(), 3)
    assert "told to fail" in letter.error
    assert probe.count(event.event_id) == 3  # the first try and two retries
    assert not inbox().filter(event_id=event.event_id, handler=probe.name).exists()  # failures left no trace

    probe.failing = False  # the bug is fixed and deployed; staff press "retry"
    staff = django_user_model.objects.create_superuser("ops@example.com", "a-long-enough-pass-42")
    client.force_login(staff)
    response = client.post(
        "/admin/registry/deadletter/", {"action": "retry", "_selected_action": [str(letter.pk)]}, follow=True
    )
    assert response.status_code == 200
    assert "Re-queued 1 event(s)." in response.content.decode()

    assert wait_for(lambda: inbox().filter(event_id=event.event_id, handler=probe.name).exists())
    assert probe.count(event.event_id) == 4
    letter.refresh_from_db()
    assert letter.retried_at is not None
    assert DeadLetter.objects.filter(handler=probe.name).count() == 1


def test_unknown_handler_is_dead_lettered_not_lost(live_bus: LiveBus) -> None:
    """A delivery for a handler this worker does not know (renamed, or another deployment's) is parked."""
    from shop.registry.bus.tasks import deliver_event

    payload: dict[str, Any] = bus.encode(_event())
    name = f"shop.users.handlers.gone_{uuid.uuid4().hex[:6]}"
    deliver_event.apply_async(
        kwargs={"handler": name, "topic": UserRegistered.topic(), "payload": payload},
        queue=bus.delivery_queue("users"),
    )

    assert wait_for(lambda: DeadLetter.objects.filter(handler=name).exists()), live_bus.results
    assert str(DeadLetter.objects.get(handler=name).event_id) == payload["event_id"]


def test_a_failure_that_cannot_be_recorded_goes_back_to_the_broker(
    live_bus: LiveBus, make_probe: Callable[..., Probe], settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The handler fails and its database refuses the retry record too: the worker requeues the message
    (``Reject(requeue=True)`` after a short wait) instead of acking it, and the broker delivers it again."""
    settings.SHOP_TASK_REQUEUE_DELAY_S = 0.05
    probe = make_probe(UserRegistered, failing=True)
    refused: list[str] = []

    def database_down(task: Any, kwargs: Any, error: str, **_: Any) -> str:
        if kwargs.get("handler") != probe.name:
            return real_record(task, kwargs, error, **_)
        refused.append(error)
        if len(refused) == 3:
            probe.failing = False  # the outage ends
        raise OperationalError("the database is unreachable")

    real_record = retries.record_failure
    monkeypatch.setattr(retries, "record_failure", database_down)
    event = _event()

    _publish_committed(event)

    assert wait_for(lambda: inbox().filter(event_id=event.event_id, handler=probe.name).exists()), live_bus.results
    assert probe.count(event.event_id) == 4  # three refused records, each redelivered by the broker, then handled
    assert len(refused) == 3 and all("told to fail" in error for error in refused)
    assert not DeadLetter.objects.filter(handler=probe.name).exists()
    assert not scheduled_retries("users").exists()
