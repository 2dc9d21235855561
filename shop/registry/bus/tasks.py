"""Celery tasks of the event bus: delivery to one subscriber, and the periodic sweeps (outbox, due retries)."""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from celery import shared_task
from django.conf import settings
from django.db import IntegrityError, transaction

from shop.registry import bus
from shop.registry.bus import retries
from shop.registry.bus.retries import Durable, DurableTask
from shop.registry.router import alias_for_context, context_aliases

logger = logging.getLogger(__name__)


def backoff_seconds(retries: int) -> float:
    """Exponential backoff with jitter: uniform in [ceiling/10, ceiling], ceiling = base·2^(retries+1), capped."""
    ceiling = min(
        float(settings.SHOP_EVENT_RETRY_BACKOFF_MAX), settings.SHOP_EVENT_RETRY_BACKOFF_BASE * 2 ** (retries + 1)
    )
    return random.uniform(ceiling / 10, ceiling)


def _dead_letter(*, handler: str, topic: str, payload: Any, error: str, attempts: int) -> str:
    """Park a delivery that will not succeed by itself; staff retry it from the admin."""
    from shop.registry.models import DeadLetter

    DeadLetter.objects.create(
        handler=handler,
        topic=topic,
        event_id=_event_id(payload),
        payload=payload,
        error=error[:10_000],
        attempts=attempts,
    )
    logger.error("event delivery dead-lettered", extra={"handler": handler, "topic": topic, "error": error[:500]})
    return "dead-lettered"


def _event_id(payload: Any) -> UUID:
    raw_id = payload.get("event_id") if isinstance(payload, dict) else None
    try:
        return UUID(str(raw_id))
    except ValueError:
        return UUID(int=0)


def _subscriber_context(kwargs: Mapping[str, Any]) -> str:
    return bus.subscription(kwargs["handler"]).context


DELIVERY = Durable(
    context=_subscriber_context,  # the subscriber's database keeps its pending deliveries
    key=lambda kwargs: f"{kwargs['handler']} {_event_id(kwargs['payload'])}",
    max_attempts=lambda: settings.SHOP_EVENT_MAX_RETRIES + 1,
    backoff_s=lambda attempts: backoff_seconds(attempts - 1),
    give_up=lambda kwargs, error, attempts: _dead_letter(
        handler=kwargs["handler"], topic=kwargs["topic"], payload=kwargs["payload"], error=error, attempts=attempts
    ),
)


@shared_task(base=DurableTask, durable=DELIVERY, name="shop.registry.deliver_event")
def deliver_event(*, handler: str, topic: str, payload: Any) -> str:
    """Run one subscriber for one event, at most once in effect (inbox row in the same transaction).

    A handler error fails the attempt: ``DurableTask`` records it in the subscriber's database and
    ``retry_due`` delivers it again with backoff, up to ``SHOP_EVENT_MAX_RETRIES`` retries, then it is
    dead-lettered. An unknown handler or an undecodable payload cannot heal by retrying, so it is
    dead-lettered at once.
    """
    from shop.registry.models import InboxEntry

    try:
        sub = bus.subscription(handler)
        event = bus.decode(sub.event_type, payload)
    except (KeyError, ValueError, TypeError) as exc:
        return _dead_letter(
            handler=handler, topic=topic, payload=payload, error=f"{type(exc).__name__}: {exc}", attempts=1
        )
    alias = alias_for_context(sub.context)
    with transaction.atomic(using=alias):
        try:
            with transaction.atomic(using=alias):
                InboxEntry.objects.using(alias).create(event_id=event.event_id, handler=handler)
        except IntegrityError:
            return "duplicate"
        sub.func(event)
    return "handled"


@shared_task(name="shop.registry.retry_due", acks_late=True)
def retry_due(context: str | None = None) -> int:
    """Run the durable tasks' due retries (deliveries, emails, webhooks) on ``context``'s database (beat
    sends one per database, to the queue of a context living there), or on every database this process has.

    One database failing does not stop the others; the task still fails afterwards, so the outage shows.
    """
    ran = 0
    failure: Exception | None = None
    for alias in [alias_for_context(context)] if context else context_aliases():
        try:
            ran += retries.run_due(alias=alias)
        except Exception as exc:
            logger.warning("retry sweep failed", exc_info=True, extra={"alias": alias})
            failure = failure or exc
    if failure is not None:
        raise failure
    return ran


@shared_task(name="shop.registry.sweep_outbox", acks_late=True)
def sweep_outbox(context: str | None = None) -> int:
    """Relay whatever the on-commit fast path left behind: on ``context``'s database (beat sends one
    per database, to the queue of a context living there), or on every database this process has.

    One database (or the broker) failing does not stop the others; the task still fails afterwards,
    so the outage shows in the worker's log and monitoring.
    """
    sent = 0
    failure: Exception | None = None
    for alias in [alias_for_context(context)] if context else context_aliases():
        try:
            sent += bus.relay(alias=alias)
        except Exception as exc:
            logger.warning("outbox sweep failed", exc_info=True, extra={"alias": alias})
            failure = failure or exc
    if failure is not None:
        raise failure
    return sent
