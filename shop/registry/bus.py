"""The event bus: transactional outbox → Celery → inbox (ARCHITECTURE §4).

``publish`` writes the event into the publisher's database inside the caller's transaction;
after commit a relay hands one Celery message per subscriber to the subscriber's queue;
a periodic sweep relays whatever was left behind (broker down, crash). Delivery is at least
once; the inbox (unique on event id + handler) makes handling exactly-once in effect.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

import msgspec
from django.db import transaction
from django.utils import timezone

from shop.kernel.events import Event
from shop.registry.contexts import CONTEXTS, queue_for
from shop.registry.router import alias_for_context

logger = logging.getLogger(__name__)

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


def subscriber(event_type: type[E]) -> Callable[[Callable[[E], None]], Callable[[E], None]]:
    """Declare, in a context's ``handlers.py``, a function that handles ``event_type``."""

    def register(func: Callable[[E], None]) -> Callable[[E], None]:
        name = f"{func.__module__}.{func.__qualname__}"
        subscription = Subscription(
            name=name, context=_context_of_module(func.__module__), event_type=event_type, func=func
        )
        if name not in _by_name:
            _by_name[name] = subscription
            _by_topic[event_type.topic()].append(subscription)
        return func

    return register


def subscriptions_for(topic: str) -> list[Subscription]:
    return list(_by_topic.get(topic, []))


def subscription(name: str) -> Subscription:
    return _by_name[name]


def all_subscriptions() -> list[Subscription]:
    return list(_by_name.values())


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
    """The on-commit fast path: never raises into the request; the sweep retries later."""
    try:
        return relay(alias=alias, ids=ids)
    except Exception:
        logger.warning("outbox relay failed; the periodic sweep will retry", exc_info=True, extra={"alias": alias})
        return 0


def relay(*, alias: str, ids: Sequence[UUID] | None = None, limit: int = 200) -> int:
    """Send unsent outbox rows to their subscribers' queues and mark them sent.

    Rows are claimed with ``FOR UPDATE SKIP LOCKED`` so concurrent relays never block each other.
    A crash between send and mark re-sends: subscribers' inbox absorbs the duplicate.
    """
    from shop.registry.models import OutboxEvent
    from shop.registry.tasks import deliver_event

    with transaction.atomic(using=alias):
        rows = OutboxEvent.objects.using(alias).select_for_update(skip_locked=True).filter(sent_at__isnull=True)
        if ids is not None:
            rows = rows.filter(id__in=list(ids))
        claimed = list(rows.order_by("created_at")[:limit])
        for row in claimed:
            for sub in subscriptions_for(row.topic):
                deliver_event.apply_async(
                    kwargs={"handler": sub.name, "topic": row.topic, "payload": row.payload},
                    queue=queue_for(sub.context),
                )
            row.sent_at = timezone.now()
            row.attempts += 1
        OutboxEvent.objects.using(alias).bulk_update(claimed, ["sent_at", "attempts"])
    return len(claimed)
