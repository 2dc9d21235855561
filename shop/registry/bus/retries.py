"""Durable task retries: work that must not be lost is never carried only by a message.

A task whose work must survive failures (an event delivery, an email, a webhook) derives from
``DurableTask`` and declares a ``Durable`` policy. When its body raises, the failure is written to
the task's own database (``ScheduledRetry``: attempts, next attempt time, last error) *before* the
message is acked; ``retry_due`` (celery beat, or the embedded scheduler, per database) runs due
records again through the same task body, and after the last attempt the policy's ``give_up`` parks
the work where staff see it (a dead letter, a ``failed`` email). A retry is never a message that
must be published, because Celery's ``Task.retry`` turns a publish that fails (a blocked or
half-open publish connection) into ``Reject(requeue=False)``: the message is dropped. When even the
record cannot be written (its database is down), the message is requeued after a short wait, so
the broker keeps it. A worker killed mid-task is redelivered by the broker (acks late, rejected on
worker loss); a sweep killed mid-run leaves its claim to expire, and the attempt counts.
"""

from __future__ import annotations

import contextvars
import inspect
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from celery import Task, current_app
from celery.exceptions import Ignore, Reject, Retry
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from shop.registry.contexts import CONTEXTS
from shop.registry.router import alias_for_context

if TYPE_CHECKING:
    from shop.registry.models import ScheduledRetry

logger = logging.getLogger(__name__)

Kwargs = Mapping[str, Any]
RETRY_SCHEDULED = "retry scheduled"


@dataclass(frozen=True, kw_only=True)
class Durable:
    """How a ``DurableTask``'s failures are kept and retried; each callable gets the task's keyword arguments."""

    context: Callable[[Kwargs], str]  # whose database keeps the record (and whose worker runs it again)
    key: Callable[[Kwargs], str]  # what is retried: one record per task and key
    max_attempts: Callable[[], int]  # read when needed, so settings (and tests) can change it
    backoff_s: Callable[[int], float]  # the wait after the n-th failed attempt
    give_up: Callable[[Kwargs, str, int], str]  # after the last attempt (kwargs, last error, attempts) → outcome


@dataclass
class _Claim:
    row: ScheduledRetry
    recorded: bool = False  # the attempt failed and its record was updated


_claim: contextvars.ContextVar[_Claim | None] = contextvars.ContextVar("shop_retry_claim", default=None)


class DurableTask(Task):
    """Base of tasks whose work must not be lost (``@shared_task(base=DurableTask, durable=Durable(...))``).

    The body raises to fail an attempt; this class records it and the sweep retries it. Keyword
    arguments only matter: positional ones are bound to the body's parameter names.
    """

    durable: ClassVar[Durable]
    acks_late = True
    reject_on_worker_lost = True

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        claim = _claim.get()
        try:
            return super().__call__(*args, **kwargs)
        except (Reject, Ignore, Retry):
            raise
        except Exception as exc:
            named = _named(self.run, args, kwargs)
            error = f"{type(exc).__name__}: {exc}"
            try:
                return record_failure(self, named, error, claim=claim)
            except Exception as unrecorded:
                if claim is not None or self.request.is_eager or self.request.called_directly:
                    raise  # a sweep's claim stays until it expires; an eager caller sees the failure
                logger.warning(
                    "could not record a failed attempt; the message goes back to the broker",
                    exc_info=True,
                    extra={"task": self.name, "error": error[:500]},
                )
                time.sleep(settings.SHOP_TASK_REQUEUE_DELAY_S)  # bounded: no hot loop while the database is down
                raise Reject(unrecorded, requeue=True) from unrecorded


def _named(func: Callable[..., Any], args: tuple[Any, ...], kwargs: Kwargs) -> dict[str, Any]:
    if not args:
        return dict(kwargs)
    return dict(inspect.signature(func).bind(*args, **kwargs).arguments)


def record_failure(task: DurableTask, kwargs: Kwargs, error: str, *, claim: _Claim | None = None) -> str:
    """Count a failed attempt: schedule the next one, or give up after the last. Returns the outcome."""
    from shop.registry.models import ScheduledRetry

    policy = task.durable
    context = policy.context(kwargs)
    alias = alias_for_context(context)
    now = timezone.now()
    with transaction.atomic(using=alias):
        rows = ScheduledRetry.objects.using(alias).select_for_update()
        row = rows.filter(pk=claim.row.pk).first() if claim is not None else None  # counted when claimed
        if row is None:
            row, _ = rows.get_or_create(
                task=task.name,
                key=policy.key(kwargs),
                defaults={"context": context, "kwargs": dict(kwargs), "next_attempt_at": now},
            )
            row.attempts += 1
        if claim is not None:
            claim.recorded = True
        row.last_error = error[:10_000]
        if row.attempts >= policy.max_attempts():
            outcome = policy.give_up(kwargs, error, row.attempts)
            row.delete()
            return outcome
        row.context, row.kwargs = context, dict(kwargs)
        row.next_attempt_at = now + timedelta(seconds=policy.backoff_s(row.attempts))
        row.save()
    logger.warning(
        "task attempt failed; retried when due",
        extra={"task": task.name, "attempts": row.attempts, "next_attempt_at": row.next_attempt_at.isoformat()},
    )
    return RETRY_SCHEDULED


def schedule(task: DurableTask, kwargs: Kwargs) -> None:
    """Run ``task`` with ``kwargs`` at the next sweep, with a fresh attempt budget (staff's "retry")."""
    from shop.registry.models import ScheduledRetry

    policy = task.durable
    context = policy.context(kwargs)
    ScheduledRetry.objects.using(alias_for_context(context)).update_or_create(
        task=task.name,
        key=policy.key(kwargs),
        defaults={"context": context, "kwargs": dict(kwargs), "attempts": 0, "next_attempt_at": timezone.now()},
    )


def served_contexts(alias: str) -> list[str]:
    """The contexts this process serves whose tables live on ``alias``: their records are its to run."""
    served = settings.SHOP_SERVE
    return [c for c in CONTEXTS if (not served or c in served) and alias_for_context(c) == alias]


def run_due(*, alias: str, limit: int = 100, budget_s: float | None = None) -> int:
    """Run the due records on ``alias`` once each (oldest due first); returns how many were run.

    Each record is claimed with a conditional ``UPDATE`` that counts the attempt and pushes its next
    attempt past the task time limit, so concurrent sweeps never run it twice and a sweep killed
    mid-run leaves it to run (and count) again. Stops at the first attempt whose failure cannot be
    recorded (the database is likely down) and raises its error: the rest waits for the next sweep.
    """
    from shop.registry.models import ScheduledRetry

    rows = ScheduledRetry.objects.using(alias)
    budget_s = settings.CELERY_TASK_SOFT_TIME_LIMIT / 2 if budget_s is None else budget_s
    deadline = time.monotonic() + budget_s
    lease = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    due = list(
        rows.filter(next_attempt_at__lte=timezone.now(), context__in=served_contexts(alias))
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    ran = 0
    for pk in due:
        if time.monotonic() > deadline:
            break
        now = timezone.now()
        claimed = rows.filter(pk=pk, next_attempt_at__lte=now).update(
            attempts=F("attempts") + 1, next_attempt_at=now + lease, updated_at=now
        )
        row = rows.filter(pk=pk).first() if claimed else None
        if row is None:
            continue  # another sweep took it, or it is done
        ran += 1
        _run_claimed(row)
    return ran


def _run_claimed(row: ScheduledRetry) -> None:
    from shop.registry.models import ScheduledRetry

    task = current_app.tasks.get(row.task)
    if not isinstance(task, DurableTask):
        logger.error("a scheduled retry names no durable task; left for staff", extra={"task": row.task})
        return
    if row.attempts > task.durable.max_attempts():  # its runs ended with the worker, again and again
        error = row.last_error or "the worker running it was lost"
        with transaction.atomic(using=row._state.db):
            task.durable.give_up(row.kwargs, error, row.attempts - 1)
            ScheduledRetry.objects.using(row._state.db).filter(pk=row.pk).delete()
        return
    claim = _Claim(row=row)
    token = _claim.set(claim)
    try:
        result = task.apply(kwargs=row.kwargs, throw=False)
    finally:
        _claim.reset(token)
    if claim.recorded:
        return
    if result.failed():
        raise result.result  # its failure could not be recorded: the claim expires, the sweep tries again
    ScheduledRetry.objects.using(row._state.db).filter(pk=row.pk, attempts=row.attempts).delete()
