"""The event bus in the embedded default (no broker: Celery eager), and its building blocks.

Eager mode runs the same outbox → relay → ``deliver_event`` → inbox path in-process, so these tests
pin the bus's semantics cheaply; ``test_bus_broker.py`` proves them again through RabbitMQ.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from shop import registry
from shop.celery import app as celery_app
from shop.registry import bus
from shop.registry.bus.tasks import backoff_seconds, deliver_event, retry_due
from shop.registry.models import DeadLetter
from shop.users.api import PasswordResetRequested, UserRegistered
from tests.helpers import outbox, run_retries, scheduled_retries
from tests.registry.conftest import USERS, Boom, Probe, inbox

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]


def _event(n: int = 1) -> UserRegistered:
    return UserRegistered(user_id=n, email=f"eager{n}@example.com", full_name="Eager Probe")


def _publish_committed(capture: Capture, event: UserRegistered) -> None:
    with capture(using=USERS, execute=True), registry.atomic("users"):
        registry.publish(event)


def test_unit_tests_run_eagerly() -> None:
    """Broker tests switch the app to RabbitMQ and must switch it back."""
    assert celery_app.conf.task_always_eager is True


def test_committed_event_is_delivered_once(
    make_probe: Callable[..., Probe], django_capture_on_commit_callbacks: Capture
) -> None:
    probe = make_probe(UserRegistered)
    event = _event()

    _publish_committed(django_capture_on_commit_callbacks, event)

    assert probe.calls == [event.event_id]
    row = outbox("users").get(id=event.event_id)
    assert (row.topic, row.attempts, row.sent_at is not None) == ("users.UserRegistered", 1, True)
    assert inbox().filter(event_id=event.event_id, handler=probe.name).count() == 1
    assert bus.relay(alias=USERS) == 0  # a sent row is never sent again
    assert probe.calls == [event.event_id]


def test_rolled_back_event_leaves_no_trace(
    make_probe: Callable[..., Probe], django_capture_on_commit_callbacks: Capture
) -> None:
    probe = make_probe(UserRegistered)
    event = _event()

    with (
        django_capture_on_commit_callbacks(using=USERS, execute=True) as callbacks,
        pytest.raises(Boom),
        registry.atomic("users"),
    ):
        registry.publish(event)
        raise Boom

    assert callbacks == []
    assert not outbox("users").filter(id=event.event_id).exists()
    assert probe.calls == []
    assert not inbox().exists()


def test_fan_out_sends_one_delivery_per_subscriber(
    make_probe: Callable[..., Probe], django_capture_on_commit_callbacks: Capture
) -> None:
    first, second = make_probe(UserRegistered), make_probe(UserRegistered)
    other_topic = make_probe(PasswordResetRequested)
    event = _event()

    _publish_committed(django_capture_on_commit_callbacks, event)

    assert first.calls == [event.event_id]
    assert second.calls == [event.event_id]
    assert other_topic.calls == []
    assert set(inbox().filter(handler__startswith="tests.").values_list("handler", flat=True)) == {
        first.name,
        second.name,
    }


def test_a_redelivered_event_is_handled_once(make_probe: Callable[..., Probe]) -> None:
    probe = make_probe(UserRegistered)
    event = _event()
    kwargs = {"handler": probe.name, "topic": UserRegistered.topic(), "payload": bus.encode(event)}

    results = [deliver_event.apply(kwargs=kwargs).get() for _ in range(3)]

    assert results == ["handled", "duplicate", "duplicate"]
    assert probe.calls == [event.event_id]
    assert inbox().filter(event_id=event.event_id).count() == 1


def test_a_failing_handler_leaves_no_inbox_row_and_is_dead_lettered(
    make_probe: Callable[..., Probe], django_capture_on_commit_callbacks: Capture, settings: Any
) -> None:
    """A failed attempt is recorded in the subscriber's database and run again by the retry sweep: the
    first try plus SHOP_EVENT_MAX_RETRIES, then a dead letter. The publisher's transaction is not affected."""
    settings.SHOP_EVENT_MAX_RETRIES = 2
    failing, healthy = make_probe(UserRegistered, failing=True), make_probe(UserRegistered)
    event = _event()

    _publish_committed(django_capture_on_commit_callbacks, event)

    assert (failing.calls, healthy.calls) == ([event.event_id], [event.event_id])
    pending = scheduled_retries("users").get()
    assert (pending.key, pending.attempts) == (f"{failing.name} {event.event_id}", 1)
    assert "told to fail" in pending.last_error and pending.next_attempt_at > timezone.now()
    assert retry_due.apply().get() == 0  # not due yet: nothing runs before its backoff

    assert run_retries(rounds=2) == 2  # two backoffs later

    assert not scheduled_retries("users").exists()
    assert failing.calls == [event.event_id] * 3
    assert healthy.calls == [event.event_id]
    letter = DeadLetter.objects.get()
    assert (letter.handler, letter.event_id, letter.attempts) == (failing.name, event.event_id, 3)
    assert "told to fail" in letter.error
    assert list(inbox().filter(handler__startswith="tests.").values_list("handler", flat=True)) == [healthy.name]
    assert outbox("users").get(id=event.event_id).sent_at is not None


def test_registration_succeeds_although_a_subscriber_fails(
    make_probe: Callable[..., Probe], django_capture_on_commit_callbacks: Capture, settings: Any, client: Client
) -> None:
    settings.SHOP_EVENT_MAX_RETRIES = 0
    probe = make_probe(UserRegistered, failing=True)

    with django_capture_on_commit_callbacks(using=USERS, execute=True):
        response = client.post(
            "/api/v1/auth/register/",
            {"email": "eager@example.com", "password": "a-long-enough-pass-42", "full_name": "Ea Ger"},
            content_type="application/json",
        )

    assert response.status_code == 201, response.content
    assert len(probe.calls) == 1
    assert DeadLetter.objects.filter(handler=probe.name).count() == 1
    assert not scheduled_retries("users").exists()


def test_unknown_handler_is_dead_lettered_at_once() -> None:
    event = _event()
    name = f"shop.users.handlers.gone_{uuid.uuid4().hex[:6]}"

    result = deliver_event.apply(
        kwargs={"handler": name, "topic": UserRegistered.topic(), "payload": bus.encode(event)}
    )

    assert result.get() == "dead-lettered"
    letter = DeadLetter.objects.get(handler=name)
    assert (letter.event_id, letter.attempts) == (event.event_id, 1)
    assert letter.error.startswith("KeyError")


def test_undecodable_payload_is_dead_lettered_at_once(make_probe: Callable[..., Probe]) -> None:
    probe = make_probe(UserRegistered)
    payload = {**bus.encode(_event()), "user_id": "not a number"}

    result = deliver_event.apply(kwargs={"handler": probe.name, "topic": UserRegistered.topic(), "payload": payload})

    assert result.get() == "dead-lettered"
    assert probe.calls == []
    assert DeadLetter.objects.get(handler=probe.name).error.startswith("ValidationError")


# --- the admin's retry action ----------------------------------------------------------------------
def _dead_letter_for(probe: Probe, event: UserRegistered) -> DeadLetter:
    return DeadLetter.objects.create(
        handler=probe.name,
        topic=UserRegistered.topic(),
        event_id=event.event_id,
        payload=bus.encode(event),
        error="RuntimeError: boom",
        attempts=3,
    )


def _retry(client: Client, letter: DeadLetter) -> Any:
    return client.post(
        "/admin/registry/deadletter/", {"action": "retry", "_selected_action": [str(letter.pk)]}, follow=True
    )


def test_admin_retry_redelivers_a_dead_letter(
    make_probe: Callable[..., Probe], client: Client, django_user_model: Any
) -> None:
    probe = make_probe(UserRegistered)
    event = _event()
    letter = _dead_letter_for(probe, event)
    client.force_login(django_user_model.objects.create_superuser("ops@example.com", "a-long-enough-pass-42"))

    response = _retry(client, letter)

    assert response.status_code == 200
    assert "Re-queued 1 event(s)." in response.content.decode()
    pending = scheduled_retries("users").get()  # kept in the subscriber's database, due now, a fresh budget
    assert (pending.attempts, pending.next_attempt_at <= timezone.now()) == (0, True)
    assert probe.calls == []

    assert run_retries() == 1  # the next retry sweep

    assert probe.calls == [event.event_id]
    assert not scheduled_retries("users").exists()
    assert inbox().filter(event_id=event.event_id, handler=probe.name).exists()
    letter.refresh_from_db()
    assert letter.retried_at is not None


def test_admin_retry_needs_the_change_permission(
    make_probe: Callable[..., Probe], client: Client, django_user_model: Any
) -> None:
    """Seeing dead letters (view) is not enough to re-queue them."""
    probe = make_probe(UserRegistered)
    letter = _dead_letter_for(probe, _event())
    viewer = django_user_model.objects.create_user("viewer@example.com", "a-long-enough-pass-42", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_deadletter"))
    client.force_login(viewer)

    assert client.get("/admin/registry/deadletter/").status_code == 200
    response = _retry(client, letter)

    assert response.status_code == 200
    assert probe.calls == []
    letter.refresh_from_db()
    assert letter.retried_at is None


def test_admin_retry_reports_an_unknown_handler(client: Client, django_user_model: Any) -> None:
    event = _event()
    letter = DeadLetter.objects.create(
        handler="shop.users.handlers.gone",
        topic=UserRegistered.topic(),
        event_id=event.event_id,
        payload=bus.encode(event),
        error="KeyError",
        attempts=1,
    )
    client.force_login(django_user_model.objects.create_superuser("ops@example.com", "a-long-enough-pass-42"))

    response = _retry(client, letter)

    assert "Could not re-queue" in response.content.decode()
    letter.refresh_from_db()
    assert letter.retried_at is None


# --- building blocks -----------------------------------------------------------------------------------
def test_subscriptions_belong_to_a_known_context() -> None:
    def handler(event: UserRegistered) -> None: ...

    with pytest.raises(ValueError, match="not inside a context package"):
        bus.subscriber(UserRegistered)(handler)  # tests.registry... is no context
    with pytest.raises(ValueError, match="unknown context"):
        bus.subscriber(UserRegistered, context="nowhere")


def test_unsubscribe_forgets_the_handler(make_probe: Callable[..., Probe]) -> None:
    probe = make_probe(UserRegistered)
    assert probe.name in {s.name for s in bus.subscriptions_for(UserRegistered.topic())}

    bus.unsubscribe(probe.name)

    assert probe.name not in {s.name for s in bus.subscriptions_for(UserRegistered.topic())}
    with pytest.raises(KeyError):
        bus.subscription(probe.name)


def test_delivery_queue_is_the_context_queue_with_the_prefix(settings: Any) -> None:
    assert bus.delivery_queue("users") == "users"
    settings.SHOP_EVENT_QUEUE_PREFIX = "staging."
    assert bus.delivery_queue("users") == "staging.users"


@pytest.mark.parametrize("retries", range(12))
def test_backoff_grows_exponentially_with_jitter_and_a_cap(retries: int, settings: Any) -> None:
    settings.SHOP_EVENT_RETRY_BACKOFF_BASE = 1.0
    settings.SHOP_EVENT_RETRY_BACKOFF_MAX = 300
    ceiling = min(300.0, 2.0 ** (retries + 1))

    delays = {backoff_seconds(retries) for _ in range(50)}

    assert all(ceiling / 10 <= d <= ceiling for d in delays)
    assert len(delays) > 1  # jittered, so retries of many events do not stampede together
