"""Celery tasks of the event bus: delivery to one subscriber, and the periodic outbox sweep."""

from __future__ import annotations

import logging
import random
from typing import Any
from uuid import UUID

from celery import Task, shared_task
from django.conf import settings
from django.db import IntegrityError, transaction

from shop.registry import bus
from shop.registry.router import alias_for_context, context_aliases

logger = logging.getLogger(__name__)


def backoff_seconds(retries: int) -> float:
    """Exponential backoff with jitter: uniform in [ceiling/10, ceiling], ceiling = base·2^(retries+1), capped."""
    ceiling = min(
        float(settings.SHOP_EVENT_RETRY_BACKOFF_MAX), settings.SHOP_EVENT_RETRY_BACKOFF_BASE * 2 ** (retries + 1)
    )
    return random.uniform(ceiling / 10, ceiling)


def _dead_letter(*, handler: str, topic: str, payload: Any, error: str, attempts: int) -> None:
    """Park a delivery that will not succeed by itself; staff retry it from the admin."""
    from shop.registry.models import DeadLetter

    raw_id = payload.get("event_id") if isinstance(payload, dict) else None
    try:
        event_id = UUID(str(raw_id))
    except ValueError:
        event_id = UUID(int=0)
    DeadLetter.objects.create(
        handler=handler, topic=topic, event_id=event_id, payload=payload, error=error[:10_000], attempts=attempts
    )
    logger.error("event delivery dead-lettered", extra={"handler": handler, "topic": topic, "error": error[:500]})


@shared_task(bind=True, name="shop.registry.deliver_event", acks_late=True, max_retries=None)
def deliver_event(self: Task, *, handler: str, topic: str, payload: Any) -> str:
    """Run one subscriber for one event, at most once in effect (inbox row in the same transaction).

    Handler errors are retried with backoff up to ``SHOP_EVENT_MAX_RETRIES``, then dead-lettered;
    an unknown handler or an undecodable payload cannot heal by retrying, so it is dead-lettered at once.
    """
    from shop.registry.models import InboxEntry

    try:
        sub = bus.subscription(handler)
        event = bus.decode(sub.event_type, payload)
    except (KeyError, ValueError, TypeError) as exc:
        _dead_letter(handler=handler, topic=topic, payload=payload, error=f"{type(exc).__name__}: {exc}", attempts=1)
        return "dead-lettered"
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
            _dead_letter(
                handler=handler,
                topic=topic,
                payload=payload,
                error=f"{type(exc).__name__}: {exc}",
                attempts=retries + 1,
            )
            return "dead-lettered"
        raise self.retry(exc=exc, countdown=backoff_seconds(retries)) from exc
    return "handled"


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


@shared_task(name="shop.registry.purge_internal_nonces", acks_late=True)
def purge_internal_nonces(context: str | None = None) -> int:
    """Forget internal-call nonces past their signatures' window, on ``context``'s database (beat
    sends one per database) or on every database this process has."""
    from shop.registry import replay

    aliases = [alias_for_context(context)] if context else context_aliases()
    return sum(replay.purge(alias=alias) for alias in aliases)
