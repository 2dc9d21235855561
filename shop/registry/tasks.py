"""Celery tasks of the event bus: delivery to one subscriber, and the periodic outbox sweep."""

from __future__ import annotations

import logging
import random
from typing import Any

from celery import Task, shared_task
from django.conf import settings
from django.db import IntegrityError, transaction

from shop.registry import bus
from shop.registry.router import alias_for_context, context_aliases

logger = logging.getLogger(__name__)


def backoff_seconds(retries: int) -> int:
    """Exponential backoff with full jitter, capped."""
    ceiling = min(settings.SHOP_EVENT_RETRY_BACKOFF_MAX, 2 ** (retries + 1))
    return random.randint(1, max(1, ceiling))


@shared_task(bind=True, name="shop.registry.deliver_event", acks_late=True, max_retries=None)
def deliver_event(self: Task, *, handler: str, topic: str, payload: Any) -> str:
    """Run one subscriber for one event, at most once in effect (inbox row in the same transaction)."""
    from shop.registry.models import DeadLetter, InboxEntry

    sub = bus.subscription(handler)
    event = bus.decode(sub.event_type, payload)
    alias = alias_for_context(sub.context)
    try:
        with transaction.atomic(using=alias):
            try:
                with transaction.atomic(using=alias):
                    InboxEntry.objects.using(alias).create(event_id=event.event_id, handler=handler)
            except IntegrityError:
                return "duplicate"
            sub.func(event)
    except Exception as exc:
        retries = self.request.retries or 0
        if retries >= settings.SHOP_EVENT_MAX_RETRIES:
            DeadLetter.objects.create(
                handler=handler,
                topic=topic,
                event_id=event.event_id,
                payload=payload,
                error=f"{type(exc).__name__}: {exc}",
                attempts=retries + 1,
            )
            logger.error("event handler exhausted its retries", extra={"handler": handler, "topic": topic})
            return "dead-lettered"
        raise self.retry(exc=exc, countdown=backoff_seconds(retries)) from exc
    return "handled"


@shared_task(name="shop.registry.sweep_outbox", acks_late=True)
def sweep_outbox() -> int:
    """Relay whatever the on-commit fast path left behind, on every database."""
    sent = 0
    for alias in context_aliases():
        sent += bus.relay(alias=alias)
    return sent
