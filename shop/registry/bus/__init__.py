"""The event bus: transactional outbox → Celery → inbox (ARCHITECTURE §4).

``publish`` writes the event into the publisher's database inside the caller's transaction;
after commit a relay hands one Celery message per subscriber to the subscriber's queue;
a periodic sweep relays whatever was left behind (broker down, crash). Delivery is at least
once; the inbox (unique on event id + handler) makes handling exactly-once in effect.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

import msgspec
from celery.result import EagerResult
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from shop.kernel.events import Event
from shop.registry.contexts import CONTEXTS, queue_for
from shop.registry.router import alias_for_context
from shop.registry.tasknames import task

logger = logging.getLogger(__name__)
# By name: the tasks module imports this one (the bus is below its tasks; import-linter C4 keeps it acyclic).
DELIVER_TASK = "shop.registry.deliver_event"

E = TypeVar("E", bound=Event)


@dataclass(frozen=True)
class Subscription:
    name: str
    context: str
    event_type: type[Event]
    func: Callable[[Any], None]


_by_topic: dict[str, list[Subscription]] = defaultdict(list)
_by_name: dict[str, Subscription] = {}


def _context_of_module(module: str) -> str:
    parts = module.split(".")
    if len(parts) < 2 or parts[0] != "shop" or parts[1] not in CONTEXTS:
        raise ValueError(f"{module} is not inside a context package")
    return parts[1]


def subscriber(
    event_type: type[E], *, context: str | None = None
) -> Callable[[Callable[[E], None]], Callable[[E], None]]:
    """Declare, in a context's ``handlers.py``, a function that handles ``event_type``.

    The subscribing context (its queue and its database) is the package the function lives in.
    ``context=`` names it explicitly for a handler that lives outside ``shop.<context>``: tests
    register probes that way (and remove them again with ``unsubscribe``).
    """
    if context is not None and context not in CONTEXTS:
        raise ValueError(f"unknown context {context!r}")

    def register(func: Callable[[E], None]) -> Callable[[E], None]:
        name = f"{func.__module__}.{func.__qualname__}"
        subscription = Subscription(
            name=name,
            context=context or _context_of_module(func.__module__),
            event_type=event_type,
            func=func,
        )
        if name not in _by_name:
            _by_name[name] = subscription
            _by_topic[event_type.topic()].append(subscription)
        return func

    return register


def unsubscribe(name: str) -> None:
    """Forget a subscription (tests register temporary ones); unknown names are ignored."""
    sub = _by_name.pop(name, None)
    if sub is not None:
        _by_topic[sub.event_type.topic()].remove(sub)


def subscriptions_for(topic: str) -> list[Subscription]:
    return list(_by_topic.get(topic, []))


def subscription(name: str) -> Subscription:
    return _by_name[name]


def route_task(name: str, args: Any, kwargs: Any, options: Any, task: Any = None, **kw: Any) -> dict[str, str] | None:
    """Celery router (``CELERY_TASK_ROUTES``): a context's own tasks (``shop.<ctx>.…``: sends,
    sweeps, expiries) go to its queue, so the worker holding that context's database runs them.
    Read at send time, so the queue prefix of the running settings applies."""
    parts = name.split(".")
    if len(parts) > 2 and parts[0] == "shop" and parts[1] in CONTEXTS:
        return {"queue": delivery_queue(parts[1])}
    return None


def delivery_queue(context: str) -> str:
    """The Celery queue that carries deliveries to ``context``'s handlers.

    ``SHOP_EVENT_QUEUE_PREFIX`` lets several deployments (or parallel test runs) share one vhost.
    """
    return f"{settings.SHOP_EVENT_QUEUE_PREFIX}{queue_for(context)}"


# The on-commit relay runs in the request, so it gets one attempt: a kombu retry re-connects up to twice
# (2 x CELERY_BROKER_CONNECTION_TIMEOUT on an unresponsive broker) on top of the confirm wait. Whatever
# it cannot send, the periodic sweep sends with Celery's full publish retry policy.
FAST_RETRY_POLICY: dict[str, float] = {"max_retries": 0}


class DeliveryNotTaken(Exception):
    """The delivery was neither handled nor recorded for a retry: its outbox row must stay unsent."""


def send_delivery(*, handler: str, topic: str, payload: Any, retry_policy: Mapping[str, float] | None = None) -> None:
    """Hand one delivery to the broker; returns only once the broker has confirmed it.

    With ``confirm_publish`` (``CELERY_BROKER_TRANSPORT_OPTIONS``) a dead or partitioned connection raises
    here instead of swallowing the message, and ``confirm_timeout`` bounds the wait on an unresponsive
    broker, so the caller never marks as sent what the broker does not have.
    """
    transport = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    options: dict[str, Any] = {
        "confirm_timeout": transport.get("read_timeout", settings.CELERY_BROKER_CONNECTION_TIMEOUT)
    }
    if retry_policy is not None:
        options["retry_policy"] = dict(retry_policy)
    result = task(DELIVER_TASK).apply_async(
        kwargs={"handler": handler, "topic": topic, "payload": payload},
        queue=delivery_queue(subscription(handler).context),
        **options,
    )
    if isinstance(result, EagerResult) and result.failed():
        # Eager (no broker): the "message" ran here, and its failure could not even be recorded (the
        # subscriber's database is unusable). Not sent, then: the outbox row stays for the sweep.
        raise DeliveryNotTaken(f"{handler}: {result.result!r}")


def encode(event: Event) -> Any:
    return msgspec.to_builtins(event)


def decode(event_type: type[E], payload: Any) -> E:
    return msgspec.convert(payload, type=event_type, strict=False)


def publish(event: Event) -> None:
    """Record ``event`` in the publisher's outbox, in the caller's transaction; relay after commit."""
    from shop.registry.models import OutboxEvent

    alias = alias_for_context(_context_of_module(type(event).__module__))
    OutboxEvent.objects.using(alias).create(id=event.event_id, topic=event.topic(), payload=encode(event))
    event_id = event.event_id
    transaction.on_commit(lambda: relay_quietly(alias=alias, ids=[event_id]), using=alias, robust=True)


def relay_quietly(*, alias: str, ids: Sequence[UUID] | None = None) -> int:
    """The on-commit fast path: bounded in time, never raises into the request; the sweep retries later."""
    try:
        return relay(alias=alias, ids=ids, retry_policy=FAST_RETRY_POLICY)
    except Exception:
        logger.warning("outbox relay failed; the periodic sweep will retry", exc_info=True, extra={"alias": alias})
        return 0


def relay(
    *,
    alias: str,
    ids: Sequence[UUID] | None = None,
    limit: int = 200,
    retry_policy: Mapping[str, float] | None = None,
) -> int:
    """Send unsent outbox rows to their subscribers' queues and mark them sent; returns how many.

    Rows are claimed with ``FOR UPDATE SKIP LOCKED`` so concurrent relays never block each other.
    The first row the broker refuses stops the batch: rows sent before it are still marked, it and
    the rest stay unsent (its ``attempts`` counts the failure), and the error is raised after commit.
    A crash between send and mark re-sends: subscribers' inbox absorbs the duplicate.
    """
    from shop.registry.models import OutboxEvent

    failure: Exception | None = None
    sent: list[OutboxEvent] = []
    with transaction.atomic(using=alias):
        rows = OutboxEvent.objects.using(alias).select_for_update(skip_locked=True).filter(sent_at__isnull=True)
        if ids is not None:
            rows = rows.filter(id__in=list(ids))
        for row in rows.order_by("created_at")[:limit]:
            row.attempts += 1
            try:
                for sub in subscriptions_for(row.topic):
                    send_delivery(handler=sub.name, topic=row.topic, payload=row.payload, retry_policy=retry_policy)
            except Exception as exc:
                failure = exc
                row.save(update_fields=["attempts"])
                break
            row.sent_at = timezone.now()
            sent.append(row)
        OutboxEvent.objects.using(alias).bulk_update(sent, ["sent_at", "attempts"])
    if failure is not None:
        raise failure
    return len(sent)
